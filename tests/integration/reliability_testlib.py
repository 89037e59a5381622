"""Helpers of the reliability and security suites: fault plans and end-state checks; and the
DAG files, runs and XCom reads of every ``dag.test()`` test.

Imported by ``tests/integration/reliability`` and ``tests/integration/security`` (and, for
``dag.test()``, the operator and bulk tests); nothing here mocks the provider: the checks
read the emulator's own state and counters.
"""

from __future__ import annotations

import email.utils
import importlib.util
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parents[1]
REPO = TESTS_DIR.parent

#: Connection extras that make the fault runs fast: 1 s per request, waits of at most 20 s
#: per call, generous retry count (the bound under test is the wait, not the count).
FAST_RETRY_EXTRAS: dict[str, Any] = {"timeout": 1, "max_retries": 8, "max_retry_wait": 20}


def http_date_in(seconds: float) -> str:
    """A ``Retry-After`` HTTP-date ``seconds`` from now (whole seconds, as HTTP has them)."""
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


# -- counters: "no request was sent" -------------------------------------------------------

#: Counters that move as soon as anything reaches the emulator (TLS connection, token, Graph).
WIRE_COUNTERS = ("connections", "token_requests", "graph_requests", "batches")


def wire_counters(emu: Any) -> dict[str, int]:
    stats = emu.stats()
    return {name: stats[name] for name in WIRE_COUNTERS}


@contextmanager
def nothing_sent(emu: Any) -> Iterator[None]:
    """Assert that the block opened no connection to the emulator and sent no request."""
    before = wire_counters(emu)
    yield
    after = wire_counters(emu)
    assert after == before, f"a request reached the emulator although the input alone was wrong: {before} -> {after}"


# -- end state: exactly once ----------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One meeting a run must leave behind: its organizer (object id) and external id."""

    user_id: str
    external_id: str


def assert_exactly_once(emu: Any, expected: Iterable[Expected]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every expected meeting exists exactly once and nothing else exists.

    :return: the stored meetings by ``(user_id, external_id)``
    """
    expected = list(expected)
    stored = emu.meetings()
    keys = Counter((m["user_id"], m["external_id"]) for m in stored)
    duplicated = {k: n for k, n in keys.items() if n > 1}
    assert not duplicated, f"meetings stored more than once: {duplicated}"
    per_external_id = Counter(m["external_id"] for m in stored)
    expected_per_external_id = Counter(e.external_id for e in expected)
    assert per_external_id == expected_per_external_id, "an externalId has more (or fewer) meetings than asked for"
    wanted = {(e.user_id, e.external_id) for e in expected}
    assert set(keys) == wanted, (
        f"missing: {sorted(wanted - set(keys))[:5]}, unexpected: {sorted(set(keys) - wanted)[:5]}"
    )
    assert emu.stats()["meetings_created"] == len(wanted), "the emulator created a meeting more than once"
    return {(m["user_id"], m["external_id"]): m["meeting"] for m in stored}


def assert_results_match_state(
    stored: Mapping[tuple[str, str], Mapping[str, Any]],
    results: Iterable[tuple[Expected, str | None, str | None, bool | None]],
) -> None:
    """Each ``(expected, meeting id, join url, created)`` is the stored meeting.

    ``created`` may be ``False`` for a meeting this run made: when the answer to the
    creating request was lost (dropped, timed out), the retry gets it back with 200.
    The number of ``created=True`` results can therefore be lower than the meetings made,
    never higher.
    """
    created_true = 0
    for expected, meeting_id, join_url, created in results:
        meeting = stored[(expected.user_id, expected.external_id)]
        assert meeting_id == meeting["id"], f"{expected}: result id {meeting_id} is not the stored meeting"
        assert join_url == meeting["joinWebUrl"], f"{expected}: join URL differs from the stored meeting"
        assert created in (True, False), f"{expected}: created={created!r}"
        created_true += bool(created)
    assert created_true <= len(stored)


# -- a plan of faults -----------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One scripted fault and the retry log text it must produce.

    :param label: readable name (used in assertion messages)
    :param fault: the emulator's fault spec (``429``, ``{"status": 429, ...}``, ``"drop"``...)
    :param options: ``when``, ``seconds``, ``match``... for :meth:`script`
    :param log: what the hook's retry line says about it, e.g. ``"429 TooManyRequests"``
    """

    label: str
    fault: Any
    options: Mapping[str, Any]
    log: str

    def script(self, emu: Any, **more: Any) -> None:
        fault = self.fault
        if isinstance(fault, dict) and fault.get("retry_after") == "http-date":
            fault = {**fault, "retry_after": http_date_in(1)}
        emu.script(fault, **{**self.options, **more})


#: The mix of transient faults of the issue, each with the hook's description of it.
FAULT_MIX: tuple[Fault, ...] = (
    Fault("429 Retry-After 0", {"status": 429, "retry_after": "0"}, {}, "429 TooManyRequests"),
    Fault("429 Retry-After 1", {"status": 429, "retry_after": "1"}, {}, "429 TooManyRequests"),
    Fault("429 without Retry-After", {"status": 429}, {}, "429 TooManyRequests"),
    Fault("429 Retry-After HTTP-date", {"status": 429, "retry_after": "http-date"}, {}, "429 TooManyRequests"),
    Fault("503 Retry-After 0", {"status": 503, "retry_after": "0"}, {}, "503 ServiceNotAvailable"),
    Fault("503 without Retry-After", 503, {}, "503 ServiceNotAvailable"),
    Fault("504", 504, {}, "504 GatewayTimeout"),
    Fault("504 after processing", 504, {"when": "after"}, "504 GatewayTimeout"),
    Fault("connection dropped before processing", "drop", {}, "connection dropped"),
    Fault("connection dropped after processing", "drop", {"when": "after"}, "connection dropped"),
    Fault("slower than the timeout, processed first", "slow", {"when": "after", "seconds": 1.6}, "timed out"),
    Fault("slower than the timeout, processed late", "slow", {"when": "before", "seconds": 1.3}, "timed out"),
    Fault("proxy HTML 502", "non_json", {}, "502 HTTP502"),
)


def record_sleeps(hook: Any) -> list[float]:
    """The hook's waits, recorded (and still slept): bounds are checked on what was waited,
    not on the wall clock of a loaded machine."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    hook.sleep = sleep
    return slept


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


# -- real Airflow ------------------------------------------------------------------------------


#: The logical date of the ``dag.test()`` runs: ``{{ ds }}`` renders ``2026-11-28``.
LOGICAL_DATE = datetime(2026, 11, 28, tzinfo=timezone.utc)

#: What every test DAG file starts with. ``RETRIES`` (``**RETRIES`` in a task's arguments) is
#: two task retries one second apart, so that a retried task does not slow the suite down.
_DAG_HEADER = """\
from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, task

from airflow_provider_meetings.operators.online_meetings import (
    BulkCreateOrGetOnlineMeetingsOperator,
    CreateOrGetOnlineMeetingOperator,
    DeleteOnlineMeetingOperator,
)

RETRIES = dict(retries=2, retry_delay=timedelta(seconds=1))

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False{dag_arguments}) as dag:
"""


def dag_source(dag_id: str, tasks: str, dag_arguments: str = "") -> str:
    """The text of a test DAG file: the imports (``task`` and the three operators), ``RETRIES``
    and the ``with DAG(...)`` block.

    :param dag_id: the DAG's id
    :param tasks: the body of the ``with DAG(...) as dag:`` block, unindented (it is indented here)
    :param dag_arguments: more arguments of ``DAG(...)``, e.g. ``'params={"start": None}'``
    """
    header = _DAG_HEADER.format(dag_id=dag_id, dag_arguments=f", {dag_arguments}" if dag_arguments else "")
    return header + textwrap.indent(textwrap.dedent(tasks).strip() + "\n", "    ")


_SYNC_AND_CANCEL_TASKS = """
sync = CreateOrGetOnlineMeetingOperator(
    task_id="sync",
    conn_id="{conn_id}",
    external_id="{external_id}",
    user_id={user_id!r},
    subject="Lecture",
    start_date_time="{start}",
    end_date_time={end!r},
    update_existing=True,
    **RETRIES,
)
cancel = DeleteOnlineMeetingOperator(
    task_id="cancel", conn_id="{conn_id}", external_id="{cancel}", user_id={cancel_user!r}, **RETRIES
)
sync >> cancel
"""


def sync_and_cancel_tasks(
    conn_id: str,
    external_id: str,
    start: str,
    cancel: str,
    *,
    user_id: str | None = None,
    end: str | None = None,
    cancel_user: str | None = None,
) -> str:
    """The tasks of the sync DAGs (for :func:`dag_source`): ``sync`` keeps the meeting ``external_id``
    (subject "Lecture") in step with ``start`` and ``end`` (``update_existing=True``); then ``cancel``
    deletes the meeting ``cancel``. Both have ``RETRIES``; ``None`` is the operators' default.

    :param conn_id: the connection of both tasks
    :param external_id: the synced meeting's external id (templates are rendered by Airflow)
    :param start: its start, an ISO-8601 string or template
    :param cancel: the external id of the meeting to cancel
    :param user_id: the synced meeting's organizer
    :param end: its end
    :param cancel_user: the cancelled meeting's organizer
    """
    return _SYNC_AND_CANCEL_TASKS.format(
        conn_id=conn_id,
        external_id=external_id,
        user_id=user_id,
        start=start,
        end=end,
        cancel=cancel,
        cancel_user=cancel_user,
    )


def load_dag(dags_folder: Path, dag_id: str, source: str) -> Any:
    """Write a DAG file into the DAGs folder (``dag.test()`` syncs it from there) and import it."""
    path = dags_folder / f"{dag_id}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(f"issue6_dag_{dag_id}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.dag


def task_instances(dag_run: Any) -> dict[str, Any]:
    return {ti.task_id: ti for ti in dag_run.get_task_instances()}


def xcom(ti: Any, key: str = "return_value") -> Any:
    """An XCom a task instance stored in the metadata database, deserialised."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    query = XComModel.get_many(
        key=key, dag_ids=ti.dag_id, task_ids=ti.task_id, run_id=ti.run_id, map_indexes=ti.map_index
    )
    with create_session() as session:
        row = session.scalars(query).first()
        return None if row is None else XComModel.deserialize_value(row)


def all_xcom_values(dag_id: str) -> list[Any]:
    """Every XCom value stored for a DAG, deserialised (for leak checks)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(XComModel).where(XComModel.dag_id == dag_id)).all()
        return [XComModel.deserialize_value(row) for row in rows]
