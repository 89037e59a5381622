"""Every DAG in ``dags/`` parses, offline, quickly, and carries its documentation."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"
EXPECTED_DAG_IDS = {
    "teams_weekly_office_hour",
    "teams_meetings_from_events",
    "teams_interview_loop",
    "teams_interview_artifacts",
    "teams_attendance_report",
    "example_meeting_artifacts",
}


def _refuse(what: str):
    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"{what} while parsing DAG files: {args}")

    return refuse


@pytest.fixture(scope="module")
def dagbag():
    """Parse ``dags/`` as the DAG processor does, with the network, connections and
    variables out of reach: a DAG file that touches them at parse time fails to import."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import BaseHook, Connection, Variable

    patch = pytest.MonkeyPatch()
    patch.setattr(socket.socket, "connect", _refuse("network access"))
    patch.setattr(socket.socket, "connect_ex", _refuse("network access"))
    patch.setattr(socket, "create_connection", _refuse("network access"))
    patch.setattr(BaseHook, "get_connection", classmethod(_refuse("connection lookup")))
    patch.setattr(Connection, "get", classmethod(_refuse("connection lookup")))
    patch.setattr(Variable, "get", classmethod(_refuse("variable lookup")))
    try:
        bag = DagBag(dag_folder=DAGS_DIR, safe_mode=False, bundle_path=DAGS_DIR, bundle_name="dags-folder")
    finally:
        patch.undo()
    return bag


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}


def test_sample_dags_are_there(dagbag) -> None:
    assert EXPECTED_DAG_IDS <= set(dagbag.dag_ids)


def test_helpers_and_data_are_not_parsed(dagbag) -> None:
    """``.airflowignore`` keeps the helper package and the data out of DAG parsing."""
    parsed = {Path(path).resolve() for path in dagbag.file_last_changed}
    assert {DAGS_DIR / f"{dag_id}.py" for dag_id in EXPECTED_DAG_IDS} <= parsed
    assert all(path.parent == DAGS_DIR for path in parsed), sorted(parsed)


def test_every_dag_has_owner_tags_and_docs(dagbag) -> None:
    problems = []
    for dag_id, dag in sorted(dagbag.dags.items()):
        if not dag.tags:
            problems.append(f"{dag_id}: no tags")
        if not (dag.doc_md and dag.doc_md.strip()):
            problems.append(f"{dag_id}: no doc_md")
        problems += [f"{dag_id}.{t.task_id}: no owner" for t in dag.tasks if t.owner in ("", "airflow")]
        if dag.catchup:
            problems.append(f"{dag_id}: catchup=True would book every missed interval at once")
    assert problems == []


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAG_IDS))
def test_sample_dag_params_are_documented(dagbag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert dag.doc_md.strip().startswith("###")
    for name in dag.params:
        assert f"`{name}`" in dag.doc_md, f"param {name} is not documented in doc_md"


def test_graph_calls_of_events_dag_use_the_pool(dagbag) -> None:
    task = dagbag.dags["teams_meetings_from_events"].get_task("create_or_get_meeting")
    assert task.pool == "teams_meetings"
    assert "teams_meetings" in dagbag.dags["teams_meetings_from_events"].doc_md


def test_parsing_loads_no_msal_and_is_quick() -> None:
    """The DAG processor re-parses files constantly: keep msal and friends out of it."""
    code = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(DAGS_DIR)!r})\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "start = time.monotonic()\n"
        f"bag = DagBag(dag_folder={str(DAGS_DIR)!r}, safe_mode=False)\n"
        "elapsed = time.monotonic() - start\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "heavy = sorted(m for m in ('msal', 'jwt', 'trustme') if m in sys.modules)\n"
        "print(heavy, round(elapsed, 2))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    heavy, elapsed = result.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    assert heavy == "[]"
    assert float(elapsed) < 5.0


def test_readme_lists_every_sample_dag(dagbag) -> None:
    """The README's "The sample DAGs" names each DAG of ``dags/``, and no other."""
    readme = (DAGS_DIR.parent / "README.md").read_text()
    section = readme.split("## The sample DAGs", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    assert set(re.findall(r"^- `(\w+)`:", section, re.MULTILINE)) == set(dagbag.dag_ids)


def test_graph_calls_of_interview_loop_use_the_pool(dagbag) -> None:
    dag = dagbag.dags["teams_interview_loop"]
    for task_id in ("create_or_get_interview_event", "cancel_interview_event"):
        assert dag.get_task(task_id).pool == "teams_meetings"
