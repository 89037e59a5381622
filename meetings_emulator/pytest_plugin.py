"""pytest fixtures for testing DAGs against the emulator (entry point ``meetings_emulator``).

Importing this module costs nothing beyond pytest: the emulator (and trustme) load when a
fixture is first used; without trustme the fixtures skip the test.

Fixtures:

- ``graph_emulator``: the session's in-process emulator;
- ``meetings_conn_id``: per test, the emulator reset and set as the connections
  ``msgraph_meetings_default`` and ``msgraph_meetings_test``;
- ``meetings_airflow_db``: a throwaway Airflow home with a migrated SQLite database, for
  ``dag.test()`` and ``airflow dags test``. Opt in with ``meetings_airflow_home = true`` in
  the pytest configuration (or ``--meetings-airflow-home``): Airflow reads its home and
  database settings once, when it is first imported, so the plugin sets them while pytest
  starts, before any conftest or test module can import Airflow.

.. seealso:: docs/emulator.md, "Testing your own DAG"
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# DEFAULT_CONN_ID (what DAGs use unless they name another connection): meetings_conn_id
# points it at the emulator too.
from meetings_emulator.handle import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from meetings_emulator.runtime import RunningEmulator

#: Connection id yielded by :func:`meetings_conn_id`.
TEST_CONN_ID = "msgraph_meetings_test"

HOME_OPTION = "meetings_airflow_home"
DAGS_FOLDER_OPTION = "meetings_dags_folder"
_HOME_KEY = pytest.StashKey["_AirflowHome"]()


class _AirflowHome:
    """The session's throwaway Airflow home and the environment it replaced."""

    def __init__(self, dags_folder: Path) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="pytest-airflow-home-"))
        self.dags_folder = dags_folder
        self.migrated = False
        self.settings = {
            "AIRFLOW_HOME": str(self.path),
            # Explicit, so that an AIRFLOW__DATABASE__... of the developer's shell is never touched.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.path / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        self.replaced = {name: os.environ.get(name) for name in self.settings}
        os.environ.update(self.settings)

    def close(self) -> None:
        for name, value in self.replaced.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(self.path, ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("meetings_emulator", "Teams meetings emulator")
    group.addoption(
        "--meetings-airflow-home",
        action="store_true",
        default=False,
        help="run the session in a throwaway Airflow home (SQLite) for the meetings_airflow_db fixture",
    )
    parser.addini(
        HOME_OPTION,
        type="bool",
        default=False,
        help="run the session in a throwaway Airflow home (SQLite) for the meetings_airflow_db fixture",
    )
    parser.addini(
        DAGS_FOLDER_OPTION,
        default="dags",
        help="DAGs folder of that Airflow home, relative to the configuration file (default: dags)",
    )


def _set_up_airflow_home(config: pytest.Config, enabled: bool) -> None:
    if not enabled or _HOME_KEY in config.stash:
        return
    if "airflow" in sys.modules:
        raise pytest.UsageError(
            f"{HOME_OPTION}: Airflow was imported before this plugin could set AIRFLOW_HOME, so it would "
            "keep its previous home and database. Let pytest load the plugin through its entry point "
            "(install airflow-provider-meetings[emulator]) or with `-p meetings_emulator`, and do not "
            "import Airflow from a plugin loaded earlier."
        )
    base = config.inipath.parent if config.inipath else config.rootpath
    dags_folder = (base / str(config.getini(DAGS_FOLDER_OPTION))).resolve()
    config.stash[_HOME_KEY] = _AirflowHome(dags_folder)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    # Before conftest files load: the first moment a conftest could import Airflow.
    options, _ = parser.parse_known_and_unknown_args(args)
    enabled = bool(getattr(options, "meetings_airflow_home", False)) or bool(early_config.getini(HOME_OPTION))
    _set_up_airflow_home(early_config, enabled)


def pytest_configure(config: pytest.Config) -> None:
    # The plugin was registered late (e.g. from a conftest): still fine if Airflow is not imported yet.
    _set_up_airflow_home(config, bool(config.getoption("meetings_airflow_home") or config.getini(HOME_OPTION)))


def pytest_unconfigure(config: pytest.Config) -> None:
    home = config.stash.get(_HOME_KEY, None)
    if home is not None:
        home.close()
        del config.stash[_HOME_KEY]


@pytest.fixture(scope="session")
def graph_emulator() -> Iterator[RunningEmulator]:
    """An in-process emulator on a free loopback port, shared by the whole session."""
    pytest.importorskip("trustme", reason="the meetings emulator needs trustme")
    from meetings_emulator.runtime import run_emulator

    with run_emulator() as emulator:
        yield emulator


@pytest.fixture
def meetings_conn_id(graph_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Reset the emulator and point the connections ``msgraph_meetings_default`` and
    ``msgraph_meetings_test`` at it (``AIRFLOW_CONN_...`` variables, JSON form).

    DAGs that use the default connection id need no change; yields ``msgraph_meetings_test``
    for tests that pass ``conn_id`` explicitly.
    """
    graph_emulator.reset()
    for conn_id in (DEFAULT_CONN_ID, TEST_CONN_ID):
        for name, value in graph_emulator.environment(conn_id).items():
            monkeypatch.setenv(name, value)
    yield TEST_CONN_ID
    graph_emulator.clear_faults()


@pytest.fixture(scope="session")
def meetings_airflow_db(pytestconfig: pytest.Config) -> Path:
    """The session's throwaway Airflow home, its SQLite database migrated (once per session).

    ``AIRFLOW_HOME``, ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``, ``AIRFLOW__CORE__DAGS_FOLDER``
    (``meetings_dags_folder``, default ``dags`` next to the pytest configuration) and
    ``AIRFLOW__CORE__LOAD_EXAMPLES=False`` are set for the whole session, so ``dag.test()``
    in the test process and ``airflow`` commands in subprocesses use the same database.
    Needs ``meetings_airflow_home = true`` (or ``--meetings-airflow-home``). Returns the home.
    """
    home = pytestconfig.stash.get(_HOME_KEY, None)
    if home is None:
        pytest.fail(
            "meetings_airflow_db needs the session's own Airflow home: add `meetings_airflow_home = true` "
            "to the pytest configuration ([tool.pytest.ini_options] in pyproject.toml, or pytest.ini) or "
            "pass --meetings-airflow-home. It is set when pytest starts, because Airflow reads "
            "AIRFLOW_HOME only once, when it is first imported.",
            pytrace=False,
        )
    if not home.migrated:
        done = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, env=dict(os.environ)
        )
        if done.returncode != 0:
            pytest.fail(f"airflow db migrate failed in {home.path}:\n{(done.stdout + done.stderr)[-4000:]}")
        home.migrated = True
    return home.path
