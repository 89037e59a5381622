"""The docs quote code that CI runs (sample DAGs, tests) between ``[START x]``/``[END x]``
markers, after a ``<!-- snippet: <path> <name> -->`` line, or a whole file (data, a complete
example) after ``<!-- snippet: <path> -->``; the quotes must match the files.

After editing a marked region, refresh the docs with
``UPDATE_DOC_SNIPPETS=1 python -m pytest tests/unit/test_docs_snippets.py``.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# <!-- snippet: <path> [<name>] --> followed by a fenced block (any language)
SNIPPET_RE = re.compile(
    r"(?P<head><!-- snippet: (?P<path>\S+)(?: (?P<name>\S+))? -->\n```\w*\n)(?P<body>.*?)(?P<tail>^```)",
    re.DOTALL | re.MULTILINE,
)
MARKER_RE = re.compile(r"#\s*\[(START|END) \w+\]")


def extract(path: Path, name: str) -> str:
    """The dedented lines between ``# [START name]`` and ``# [END name]``, nested markers dropped."""
    lines = path.read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == f"# [START {name}]"]
    ends = [i for i, line in enumerate(lines) if line.strip() == f"# [END {name}]"]
    assert len(starts) == 1 and len(ends) == 1 and starts[0] < ends[0], f"markers of {name} in {path}"
    body = [line for line in lines[starts[0] + 1 : ends[0]] if not MARKER_RE.search(line)]
    return textwrap.dedent("\n".join(body)).strip("\n") + "\n"


def quoted(match: re.Match[str]) -> str:
    """What the block must say: the named region, or the whole file."""
    path = REPO / match["path"]
    return extract(path, match["name"]) if match["name"] else path.read_text(encoding="utf-8")


def snippets() -> list[tuple[Path, re.Match[str]]]:
    return [(doc, match) for doc in DOCS for match in SNIPPET_RE.finditer(doc.read_text())]


def test_docs_quote_every_marked_region_of_the_files_they_quote() -> None:
    regions = {(m["path"], m["name"]) for _, m in snippets() if m["name"]}
    marked = {
        (path, name)
        for path in {path for path, _ in regions}
        for name in re.findall(r"# \[START (\w+)\]", (REPO / path).read_text())
    }
    assert regions == marked


@pytest.mark.parametrize(
    ("doc", "match"), snippets(), ids=lambda v: v.name if isinstance(v, Path) else v["name"] or v["path"]
)
def test_snippet_matches_the_quoted_file(doc: Path, match: re.Match[str]) -> None:
    expected = quoted(match)
    if os.environ.get("UPDATE_DOC_SNIPPETS"):
        text = doc.read_text()
        doc.write_text(text.replace(match.group(0), match["head"] + expected + match["tail"], 1))
        return
    assert match["body"] == expected, (
        f"{doc.name} is out of date for {match['name'] or match['path']} (see module docstring)"
    )
