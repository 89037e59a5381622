"""Test session set-up: a throwaway Airflow home, configured before Airflow is imported.

The metadata database (SQLite) is migrated lazily, once per session, only when a test
asks for the ``airflow_db`` fixture (the ``dag.test()`` tests do).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="meetings-airflow-home-"))
_DAGS_FOLDER = _AIRFLOW_HOME / "dags"
_DAGS_FOLDER.mkdir()
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)

# Environment variables win over any airflow.cfg; set them before anything imports Airflow.
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(_DAGS_FOLDER),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
    }
)
# A developer's own connection must not leak into the tests.
os.environ.pop("AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT", None)


#: The files that take longest in wall-clock time, longest first, mostly waiting (retry
#: back-off under a fault storm, ``make demo`` and ``airflow dags test`` subprocesses). They
#: are collected first, so that under pytest-xdist (``make test``, ``--dist loadfile``) they
#: start at once beside the short files instead of running alone at the end.
LONG_FILES = (
    "tests/integration/reliability/test_storm_under_rate_limit.py",
    "tests/integration/docs/test_docs_run_as_written.py",
    "tests/integration/dags/test_sample_dags.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move the tests of :data:`LONG_FILES` to the front; the order within a file is kept."""
    rank = {path: n for n, path in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(LONG_FILES)))


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The session's Airflow home (a temporary directory)."""
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def dags_folder() -> Path:
    """The configured DAGs folder; ``dag.test()`` finds a DAG only if its file is here."""
    return _DAGS_FOLDER


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the session's SQLite metadata database (a few seconds, once)."""
    airflow = Path(sys.executable).with_name("airflow")
    command = [str(airflow)] if airflow.exists() else [sys.executable, "-m", "airflow"]
    subprocess.run([*command, "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())


class CapturedLogs:
    """Log events of Airflow's structlog loggers (the hook's ``self.log``) during a test."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries

    @property
    def text(self) -> str:
        return "\n".join(f"{e.get('log_level', '?').upper()} {e.get('event')}" for e in self.entries)

    def messages(self, level: str) -> list[str]:
        return [str(e.get("event")) for e in self.entries if e.get("log_level") == level]


@pytest.fixture
def hook_logs() -> Iterator[CapturedLogs]:
    """What hooks created during the test log (Airflow 3 hooks log through structlog, not caplog)."""
    import structlog
    import structlog.testing

    airflows: list[dict[str, Any]] = []
    with structlog.testing.capture_logs() as entries, pytest.MonkeyPatch.context() as patch:
        # The first dag.test() of a process configures Airflow's logging (structlog.configure),
        # which would drop the capture: keep capturing across that.
        capture = structlog.get_config()["processors"]
        configure = structlog.configure

        def configure_and_keep_capturing(*args: Any, **kwargs: Any) -> None:
            configure(*args, **kwargs)
            config = structlog.get_config()
            airflows.append({**config, "processors": list(config["processors"])})
            configure(processors=capture)

        patch.setattr(structlog, "configure", configure_and_keep_capturing)
        yield CapturedLogs(entries)
    # Leaving the capture restores the processors from before the test; Airflow configures
    # its logging once per process, so later tests of this worker would lose the task logs
    # (what dag.test() prints) unless Airflow's configuration is put back.
    if airflows:
        structlog.configure(**airflows[-1])


@pytest.fixture(scope="session")
def certificate_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A self-signed certificate with its key: plain PEM, encrypted PEM, and the cert alone."""
    from meetings_emulator.certs import make_app_certificate

    app = make_app_certificate()
    cert_pem = app.cert_pem.encode()
    password = "pem-passphrase-7Hq"
    plain_key = app.key_pem().encode()
    encrypted_key = app.key_pem(password).encode()
    folder = tmp_path_factory.mktemp("certs")
    paths = {
        "plain": folder / "app.pem",
        "encrypted": folder / "app-encrypted.pem",
        "cert_only": folder / "cert-only.pem",
    }
    paths["plain"].write_bytes(plain_key + cert_pem)
    paths["encrypted"].write_bytes(encrypted_key + cert_pem)
    paths["cert_only"].write_bytes(cert_pem)
    return {
        "paths": {k: str(v) for k, v in paths.items()},
        "cert_pem": cert_pem.decode(),
        "key_pem": plain_key.decode(),
        "password": password,
        "thumbprint": app.sha1_thumbprint,
    }
