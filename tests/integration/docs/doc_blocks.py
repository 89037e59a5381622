"""The fenced blocks of the docs and the mark above each (``<!-- kind: value -->``).

Marks:

- ``<!-- snippet: <path> [<name>] -->``: the block quotes a file of this repository (its
  ``[START name]``/``[END name]`` region, or all of it); tests/unit/test_docs_snippets.py
  keeps the two equal.
- ``<!-- command: <name> -->``: a shell block a reader runs; the test registered for the
  name (tests/integration/docs/test_docs_run_as_written.py) runs the block's text.
- ``<!-- checked: <name> -->``: any other block a test reads from the doc and runs or
  compares (a DAG to copy, an example value).
- ``<!-- not run: <reason> -->``: cannot run in CI (a real tenant, PowerShell, your files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
#: The docs a newcomer follows: every block they show must be tested or marked as not run.
NEWCOMER_DOCS = [REPO / "README.md", REPO / "docs" / "tutorial.md", REPO / "docs" / "emulator.md"]
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console", "zsh", "powershell", "pwsh", "ps1", "bat", "cmd"})
MARK_KINDS = ("snippet", "command", "checked", "not run")

_FENCE = re.compile(r"^ {0,3}```(?P<info>.*)$")
_MARK = re.compile(r"^<!-- (?P<kind>[a-z ]+): (?P<value>.+?) -->$")


@dataclass(frozen=True)
class Block:
    """One fenced block of a doc."""

    doc: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    mark_kind: str | None
    mark_value: str | None

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def blocks(doc: Path) -> list[Block]:
    """Every fenced block of ``doc``, in order."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start = i
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            i += 1
        assert i < len(lines), f"{doc.name}:{start + 1}: unclosed fenced block"
        previous = next((line.strip() for line in reversed(lines[:start]) if line.strip()), "")
        mark = _MARK.match(previous)
        found.append(
            Block(
                doc=doc,
                line=start + 1,
                language=fence["info"].strip().split(" ")[0],
                text="\n".join(lines[start + 1 : i]) + "\n",
                mark_kind=mark["kind"] if mark else None,
                mark_value=mark["value"] if mark else None,
            )
        )
        i += 1
    return found


def all_blocks() -> list[Block]:
    return [block for doc in DOCS for block in blocks(doc)]


def named(kind: str, name: str) -> list[Block]:
    """The blocks marked ``<!-- kind: name -->`` in any doc."""
    return [b for b in all_blocks() if b.mark_kind == kind and b.mark_value == name]


def text_of(kind: str, name: str) -> str:
    """The text of the block(s) marked ``<!-- kind: name -->``; several must be identical."""
    found = named(kind, name)
    assert found, f"no block is marked <!-- {kind}: {name} -->"
    texts = {b.text for b in found}
    assert len(texts) == 1, f"blocks marked {kind}: {name} differ: {[b.where for b in found]}"
    return found[0].text


def command_lines(text: str) -> list[str]:
    """The commands of a shell block: lines without their ``# comment``, blank lines dropped."""
    return [re.sub(r"\s+#.*$", "", line).strip() for line in text.splitlines() if line.strip()]
