"""pytest fixtures for testing DAGs against the emulator (entry point ``meetings_emulator``).

Importing this module costs nothing beyond pytest: the emulator (and trustme) load when a
fixture is first used; without trustme the fixtures skip the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_meetings.emulator.runtime import RunningEmulator

#: Connection id set up by :func:`meetings_conn_id`.
TEST_CONN_ID = "msgraph_meetings_test"


@pytest.fixture(scope="session")
def graph_emulator() -> Iterator[RunningEmulator]:
    """An in-process emulator on a free loopback port, shared by the whole session."""
    pytest.importorskip("trustme", reason="the meetings emulator needs trustme")
    from airflow_provider_meetings.emulator.runtime import run_emulator

    with run_emulator() as emulator:
        yield emulator


@pytest.fixture
def meetings_conn_id(graph_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Reset the emulator and point ``AIRFLOW_CONN_MSGRAPH_MEETINGS_TEST`` at it.

    Yields the connection id ``msgraph_meetings_test``.
    """
    graph_emulator.reset()
    monkeypatch.setenv(f"AIRFLOW_CONN_{TEST_CONN_ID.upper()}", graph_emulator.connection_json())
    yield TEST_CONN_ID
    graph_emulator.clear_faults()
