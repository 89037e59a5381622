"""The pytest plugin's session Airflow home, as a user's own test suite meets it (pytest in a subprocess).

The full example of docs/emulator.md (``dag.test()`` and ``airflow dags test`` against the
emulator) runs in tests/integration/docs/test_docs_run_as_written.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` in ``project``, from a shell without Airflow settings (the plugin loads by entry point)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


PROBE = """
    import json
    import os
    import sys
    from pathlib import Path


    def test_probe(pytestconfig):
        names = ["AIRFLOW_HOME", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__DAGS_FOLDER",
                 "AIRFLOW__CORE__LOAD_EXAMPLES"]
        seen = {name: os.environ.get(name) for name in names}
        seen["airflow_imported"] = "airflow" in sys.modules
        (pytestconfig.rootpath / "seen.json").write_text(json.dumps(seen))
"""


def test_session_home_from_the_ini_option_is_set_before_airflow_and_removed_after(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[tool.pytest.ini_options]\nmeetings_airflow_home = true\nmeetings_dags_folder = "my_dags"\n',
    )
    write(tmp_path / "tests" / "test_probe.py", PROBE)

    result = run_pytest(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads((tmp_path / "seen.json").read_text())
    home = Path(seen["AIRFLOW_HOME"])
    assert seen["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{home / 'airflow.db'}"
    assert seen["AIRFLOW__CORE__DAGS_FOLDER"] == str(tmp_path.resolve() / "my_dags")
    assert seen["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert seen["airflow_imported"] is False  # the plugin itself does not import Airflow
    assert not home.exists()  # a throwaway: gone after the session


def test_command_line_flag_turns_the_home_on(tmp_path: Path) -> None:
    write(tmp_path / "tests" / "test_probe.py", PROBE)

    result = run_pytest(tmp_path, "--meetings-airflow-home", "--rootdir", str(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["AIRFLOW_HOME"] and seen["AIRFLOW__CORE__DAGS_FOLDER"] == str(tmp_path.resolve() / "dags")


def test_db_fixture_without_the_option_says_how_to_turn_it_on(tmp_path: Path) -> None:
    write(tmp_path / "tests" / "test_db.py", "def test_db(meetings_airflow_db):\n    pass\n")

    result = run_pytest(tmp_path)

    assert result.returncode == 1
    assert "add `meetings_airflow_home = true` to the pytest configuration" in result.stdout


def test_airflow_imported_before_the_plugin_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.pytest.ini_options]\nmeetings_airflow_home = true\n")
    write(tmp_path / "early_plugin.py", "import airflow  # noqa: F401\n")
    write(tmp_path / "tests" / "test_probe.py", PROBE)

    result = run_pytest(tmp_path, "-p", "early_plugin")

    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "Airflow was imported before this plugin could set AIRFLOW_HOME" in result.stderr
    assert not (tmp_path / "seen.json").exists()
