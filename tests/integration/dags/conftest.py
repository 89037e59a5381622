"""Run the sample DAGs as ``airflow dags test`` subprocesses against the in-process emulator.

The DAGs get an Airflow home of their own (SQLite, migrated once per module) whose DAGs
folder is the repository's ``dags/``, so nothing is shared with the ``dag.test()`` tests
that use the session's home.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DAGS_DIR = REPO / "dags"
if str(DAGS_DIR) not in sys.path:
    sys.path.insert(0, str(DAGS_DIR))

POOL = "teams_meetings"
COMMAND_TIMEOUT = 180


@dataclass
class SampleAirflow:
    """An Airflow home for the sample DAGs and a way to run commands in it."""

    home: Path
    output_dir: Path
    env: dict[str, str]

    def airflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``airflow <args>``; fail the test with the output's tail if it fails."""
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            cwd=REPO,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-6000:]
            pytest.fail(f"airflow {' '.join(args)} exited with {result.returncode}:\n{output}")
        return result

    def dags_test(self, dag_id: str, logical_date: str, **params: str) -> subprocess.CompletedProcess[str]:
        """``airflow dags test`` with the DAG's output redirected to :attr:`output_dir` (and other params)."""
        conf = json.dumps({"output_dir": self.output_dir.as_posix(), **params})
        return self.airflow("dags", "test", dag_id, logical_date, "-c", conf)


@pytest.fixture(scope="module")
def sample_airflow(graph_emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleAirflow]:
    """A migrated Airflow home with the ``teams_meetings`` pool and the emulator as
    ``msgraph_meetings_default``; the emulator starts empty."""
    home = tmp_path_factory.mktemp("sample-dags-airflow-home")
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    env.update(graph_emulator.environment("msgraph_meetings_default"))
    airflow = SampleAirflow(home=home, output_dir=home / "meetings_output", env=env)
    airflow.airflow("db", "migrate")
    airflow.airflow("pools", "set", POOL, "2", "sample DAG tests")
    graph_emulator.reset()
    yield airflow
    graph_emulator.reset()


@pytest.fixture
def edited_sample_data(tmp_path: Path) -> Callable[[str, dict[str, str]], Path]:
    """``edited_sample_data(name, {old: new})``: a copy of the sample DAGs' ``data/<name>`` in
    ``tmp_path`` with each ``old`` text replaced by ``new`` (each must be in the file)."""

    def edit(name: str, replacements: dict[str, str]) -> Path:
        text = (DAGS_DIR / "data" / name).read_text()
        for old, new in replacements.items():
            assert old in text, f"{old!r} is not in dags/data/{name}"
            text = text.replace(old, new)
        edited = tmp_path / name
        edited.write_text(text)
        return edited

    return edit
