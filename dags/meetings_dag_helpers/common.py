"""What the readers of the sample DAGs' data files share (the events file of
:mod:`~meetings_dag_helpers.events`, the interview schedule of
:mod:`~meetings_dag_helpers.interviews`): the checks of one text cell, the parsing of a
date and time, the rows of a CSV file, unique keys, and reading the file.

Each reader has its own error class, a subclass of :class:`DataFileError`, passed as
``error``: a DAG catches the error of the file it reads. Errors name the row
(``line 3: ...``), and the file once it is read (``<path>: line 3: ...``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from airflow_provider_meetings.graph.errors import ProviderError
from airflow_provider_meetings.graph.values import to_aware, to_utc

# Values mapped from XCom are rendered as templates by the operator: keep Jinja out of data.
TEMPLATE_RE = re.compile(r"\{\{|\{%|\{#")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class DataFileError(ValueError):
    """A data file of a sample DAG, or one of its rows, cannot be used."""


class Keyed(Protocol):
    """A row parsed into an item with its own stable key (an event, an interview)."""

    @property
    def key(self) -> str: ...


K = TypeVar("K", bound=Keyed)
T = TypeVar("T")


def check_text(value: Any, name: str, where: str, *, error: type[DataFileError]) -> str:
    """``value`` stripped (``""`` for ``None``); refused when it is not text, or holds
    control characters or a Jinja template marker."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise error(f"{where}: {name} must be text, got {type(value).__name__}")
    text = value.strip()
    if CONTROL_RE.search(text):
        raise error(f"{where}: {name} contains control characters: {text!r}")
    if TEMPLATE_RE.search(text):
        raise error(f"{where}: {name} contains a Jinja template marker ({{{{, {{% or {{#): {text!r}")
    return text


def date_time(
    value: str | None, name: str, where: str, *, error: type[DataFileError], keep_offset: bool = False
) -> datetime | None:
    """An ISO-8601 date and time with an offset or ``Z`` (``None`` when empty), read by the
    provider's own rules (``graph.values``): in UTC, or with ``keep_offset`` as written
    (``2026-12-07T10:00:00+01:00`` stays at ``+01:00``)."""
    try:
        return (to_aware if keep_offset else to_utc)(value, field_name=name)
    except ProviderError as err:
        raise error(f"{where}: {err}") from None


def csv_rows(text: str, *, error: type[DataFileError]) -> list[tuple[str, dict[str, str | None]]]:
    """The rows of CSV text with a header row, each with where it is (``line 3``); blank
    lines are skipped, a row with more values than the header has is refused."""
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for row in reader:
        where = f"line {reader.line_num}"
        if None in row:
            raise error(f"{where}: more values than header columns")
        if any((value or "").strip() for value in row.values()):
            rows.append((where, row))
    return rows


def parse_unique(
    rows: Iterable[tuple[str, Mapping[str, Any]]],
    parse: Callable[..., K],
    *,
    key_name: str,
    error: type[DataFileError],
) -> list[K]:
    """Each row parsed (``parse(row, where=...)``); two rows of one key are refused, as
    they would share one meeting or event."""
    items: list[K] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        item = parse(row, where=where)
        if item.key in seen:
            raise error(
                f"{where}: {key_name} {item.key!r} repeats {seen[item.key]}; each row needs its own key, "
                "or two rows would share one meeting"
            )
        seen[item.key] = where
        items.append(item)
    return items


def read_data_file(path: Path, parse: Callable[[str], T], *, what: str, error: type[DataFileError]) -> T:
    """``parse`` of the file's text (UTF-8; a byte order mark is dropped); errors name the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise error(f"cannot read {what} {path}: {err.strerror or err}") from None
    try:
        return parse(text)
    except error as err:
        raise error(f"{path}: {err}") from None
