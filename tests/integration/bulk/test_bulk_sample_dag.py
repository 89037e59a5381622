"""``dags/example_bulk_meetings.py`` through ``airflow dags test`` against the emulator."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

# whole sample DAGs and the docs' commands: make test-slow (part of make e2e in CI), not make test
pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Reuse the sample-DAG Airflow home of tests/integration/dags (a fixture, not a copy).
_spec = importlib.util.spec_from_file_location(
    "sample_dags_conftest", Path(__file__).resolve().parents[1] / "dags" / "conftest.py"
)
assert _spec and _spec.loader
_sample = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _sample
_spec.loader.exec_module(_sample)
sample_airflow = _sample.sample_airflow

DAG_ID = "example_bulk_meetings"
RUN_DATE = "2026-12-07T05:00:00+00:00"  # 06:00 Europe/Paris
#: The events of dags/data/events.csv starting within 24 h of that run.
EXPECTED = {"course-ml101-2026-12-07", "interview-4711", "ticket-INC-1042"}


def stored(emulator: Any) -> list[str]:
    return [m["external_id"] for m in emulator.meetings() if m["external_id"].startswith(DAG_ID + "-")]


def test_bulk_dag_books_the_events_once(sample_airflow: Any, graph_emulator: Any) -> None:
    sample_airflow.dags_test(DAG_ID, RUN_DATE)
    first = stored(graph_emulator)
    assert sorted(first) == sorted(f"{DAG_ID}-{key}" for key in EXPECTED)
    batches = graph_emulator.stats()["batches"]
    assert batches >= 1

    sample_airflow.dags_test(DAG_ID, RUN_DATE)
    assert sorted(stored(graph_emulator)) == sorted(first)  # the re-run got the same meetings


CHUNKED_DAG_ID = "example_bulk_meetings_chunked"


def test_chunked_bulk_dag_books_the_events_once_in_mapped_bulk_tasks(sample_airflow: Any, graph_emulator: Any) -> None:
    result = sample_airflow.dags_test(CHUNKED_DAG_ID, RUN_DATE, chunks=2)
    booked = [m["external_id"] for m in graph_emulator.meetings() if m["external_id"].startswith(CHUNKED_DAG_ID + "-")]
    assert sorted(booked) == sorted(f"{CHUNKED_DAG_ID}-{key}" for key in EXPECTED)
    output = result.stdout + result.stderr
    assert "in 2 bulk task(s)" in output, output[-3000:]
