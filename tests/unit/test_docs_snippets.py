"""The docs quote code that CI runs (sample DAGs, tests) between ``[START x]``/``[END x]``
markers, after a ``<!-- snippet: <path> <name> -->`` line; the quotes must match the code.

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
DOCS = sorted((REPO / "docs").glob("*.md"))
# <!-- snippet: <path> <name> --> followed by a fenced python block
SNIPPET_RE = re.compile(
    r"(?P<head><!-- snippet: (?P<path>\S+) (?P<name>\S+) -->\n```python\n)(?P<body>.*?)(?P<tail>```)",
    re.DOTALL,
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


def snippets() -> list[tuple[Path, re.Match[str]]]:
    return [(doc, match) for doc in DOCS for match in SNIPPET_RE.finditer(doc.read_text())]


def test_docs_quote_every_marked_region_of_the_files_they_quote() -> None:
    quoted = {(m["path"], m["name"]) for _, m in snippets()}
    marked = {
        (path, name)
        for path in {path for path, _ in quoted}
        for name in re.findall(r"# \[START (\w+)\]", (REPO / path).read_text())
    }
    assert quoted == marked


@pytest.mark.parametrize(("doc", "match"), snippets(), ids=lambda v: v.name if isinstance(v, Path) else v["name"])
def test_snippet_matches_the_quoted_file(doc: Path, match: re.Match[str]) -> None:
    expected = extract(REPO / match["path"], match["name"])
    if os.environ.get("UPDATE_DOC_SNIPPETS"):
        text = doc.read_text()
        doc.write_text(text.replace(match.group(0), match["head"] + expected + match["tail"], 1))
        return
    assert match["body"] == expected, f"docs/{doc.name} is out of date for {match['name']} (see module docstring)"
