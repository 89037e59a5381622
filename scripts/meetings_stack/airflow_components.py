"""Airflow's configuration for the stack, its database migration, and its components.

All settings are environment variables (written to ``<state>/airflow.env`` too, so that
``source .stack/airflow.env`` points the ``airflow`` CLI at the stack). Choices worth
knowing:

- ``[core] execution_api_server_url``: task processes talk to the api-server's execution
  API, which is not on the default port 8080 here.
- ``[api_auth] jwt_secret`` and ``[api] secret_key`` are the same for every component;
  tokens signed by one must verify in another.
- ``[scheduler] task_instance_heartbeat_timeout`` (default 300 s) is lowered to
  ``STACK_HEARTBEAT_TIMEOUT`` (30 s): a task whose worker died is then failed after 30 s
  and retried (the sample DAGs have ``retries=2``), instead of after five minutes.
- ``[core] test_connection = Enabled``: the connection test of the REST API and the CLI.
- Celery workers run with ``--skip-serve-logs``: all components share this machine's
  ``$AIRFLOW_HOME/logs``, where the api-server reads task logs directly.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import time
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from meetings_stack.airflow_api import AirflowApi
from meetings_stack.config import ADMIN_USER, CONN_ID, DAGS_FOLDER, EXECUTORS, POOL, REPO, StackConfig, StackError
from meetings_stack.processes import (
    ProcessRecord,
    ProcessTable,
    port_in_use,
    start_detached,
    stop,
    tail,
    wait_until,
)
from meetings_stack.services import clean_env, postgres_url, redis_url, write_private

#: Redis database of the connection's rate budget with ``EXECUTOR=celery`` (Celery's broker uses 0).
RATE_BUDGET_DB = 1
#: The DAGs whose parsing ``up`` waits for.
SAMPLE_DAGS = (
    "teams_meetings_from_events",
    "teams_weekly_office_hour",
    "example_bulk_meetings",
    "example_deferrable_meetings",
    "example_bulk_meetings_chunked",
)
CORE_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
MIGRATE_TIMEOUT = 600
READY_TIMEOUT = 240


def airflow_env(config: StackConfig, secrets: Mapping[str, str]) -> dict[str, str]:
    """The environment of every Airflow process of the stack."""
    env = clean_env()
    env.update(
        {
            "AIRFLOW_HOME": str(config.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": EXECUTORS[config.executor],
            "AIRFLOW__CORE__FERNET_KEY": secrets["fernet_key"],
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{config.api_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(config.password_file),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres_url(config, secrets["postgres_password"]),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(config.ports.api),
            "AIRFLOW__API__BASE_URL": config.api_url,
            "AIRFLOW__API__SECRET_KEY": secrets["api_secret_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets["jwt_secret"],
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(config.heartbeat_timeout),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(config.ports.worker_logs),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(config.ports.trigger_logs),
            # New DAG files show up within 30 s instead of 5 minutes.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        }
    )
    if not config.schedules:
        env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
    if config.executor == "celery":
        env.update(
            {
                "AIRFLOW__CELERY__BROKER_URL": redis_url(config, secrets["redis_password"]),
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + postgres_url(config, secrets["postgres_password"]),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(config.worker_concurrency),
            }
        )
    return env


def write_env_file(config: StackConfig, env: Mapping[str, str]) -> None:
    """``<state>/airflow.env``: ``export`` lines of the Airflow settings (mode 0600, it holds secrets)."""
    lines = ["# source this file to run `airflow` commands against the stack"]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in sorted(env.items()) if key.startswith("AIRFLOW")]
    lines.append(f"export PATH={shlex.quote(str(config.python.parent))}:$PATH")
    write_private(config.env_file, "\n".join(lines) + "\n")


def airflow_version() -> str:
    try:
        return version("apache-airflow-core")
    except PackageNotFoundError:
        raise StackError("Airflow is not installed in this environment: pip install -e '.[stack]'") from None


def check_python_packages(config: StackConfig) -> None:
    """Fail early, with the command to fix it, when an optional package is missing."""
    needed = {"psycopg2": "the PostgreSQL driver (psycopg2-binary)"}
    if config.executor == "celery":
        needed["airflow.providers.celery"] = "apache-airflow-providers-celery"
    missing = []
    for module, what in needed.items():
        try:
            if importlib.util.find_spec(module) is None:
                missing.append(what)
        except ModuleNotFoundError:
            missing.append(what)
    if missing:
        raise StackError(f"missing Python packages: {', '.join(missing)}; install them with pip install -e '.[stack]'")
    airflow_version()


def migrate(config: StackConfig, env: Mapping[str, str]) -> bool:
    """``airflow db migrate`` unless this Airflow version already migrated this database."""
    marker = config.airflow_home / ".migrated"
    wanted = f"{airflow_version()} {env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'].rpartition('@')[2]}"
    if marker.is_file() and marker.read_text() == wanted:
        return False
    log = config.logs_dir / "airflow-db-migrate.log"
    config.airflow_home.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        result = subprocess.run(
            [str(config.bin("airflow")), "db", "migrate"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=REPO,
            timeout=MIGRATE_TIMEOUT,
        )
    if result.returncode != 0:
        raise StackError(f"airflow db migrate failed (exit {result.returncode}); see {log}\n{tail(log)}")
    marker.write_text(wanted)
    return True


def component_commands(config: StackConfig) -> dict[str, list[str]]:
    """Name and command line of every Airflow process of this executor."""
    airflow = str(config.bin("airflow"))
    commands = {name: [airflow, name] for name in CORE_COMPONENTS}
    if config.executor == "celery":
        for number in range(1, config.celery_workers + 1):
            commands[f"celery-worker-{number}"] = [
                airflow,
                "celery",
                "worker",
                "--celery-hostname",
                f"worker{number}@%h",
                "--concurrency",
                str(config.worker_concurrency),
                "--skip-serve-logs",
            ]
    return commands


def running_components(table: ProcessTable) -> dict[str, ProcessRecord]:
    """The Airflow processes that still run."""
    return {name: r for name, r in table.load().items() if r.group == "airflow" and r.alive()}


def stop_components(table: ProcessTable) -> list[str]:
    """Stop the Airflow processes, workers first, the api-server last."""
    records = [r for r in table.load().values() if r.group == "airflow"]
    order = sorted(records, key=lambda r: (not r.name.startswith("celery"), r.name == "api-server"))
    return [r.name for r in order if stop(table, r.name)]


def start_components(config: StackConfig, table: ProcessTable, env: Mapping[str, str]) -> dict[str, ProcessRecord]:
    """Start the api-server, scheduler, dag-processor, triggerer (and Celery workers)."""
    started = {}
    for name, command in component_commands(config).items():
        started[name] = start_detached(
            table, name, command, log=config.logs_dir / f"{name}.log", env=env, cwd=REPO, group="airflow"
        )
    return started


def wait_ready(config: StackConfig, api: AirflowApi, started: Mapping[str, ProcessRecord]) -> None:
    """Until the api-server answers, the scheduler, dag-processor and triggerer report healthy,
    the Celery workers are ready and the sample DAGs are parsed."""
    api_record = started["api-server"]
    wait_until("answer from the api-server", lambda: bool(api.health()), timeout=READY_TIMEOUT, record=api_record)

    def healthy() -> bool:
        for name in CORE_COMPONENTS:
            if not started[name].alive():
                raise StackError(f"{name} exited; see {started[name].log}\n{tail(started[name].log)}")
        health = api.health()
        return all(
            (health.get(key) or {}).get("status") == "healthy" for key in ("scheduler", "triggerer", "dag_processor")
        )

    wait_until("healthy scheduler, triggerer and dag-processor", healthy, timeout=READY_TIMEOUT, record=api_record)
    for name, record in started.items():
        if name.startswith("celery-worker"):
            wait_until(
                f"{name} ready", lambda r=record: " ready." in Path(r.log).read_text(), timeout=120, record=record
            )

    def parsed() -> bool:
        for dag_id in SAMPLE_DAGS:
            api.dag(dag_id)
        return True

    wait_until(f"parsed DAGs {', '.join(SAMPLE_DAGS)}", parsed, timeout=READY_TIMEOUT, record=started["dag-processor"])


def set_up_pool_and_connection(
    config: StackConfig, api: AirflowApi, emulator: Mapping[str, Any], secrets: Mapping[str, str]
) -> None:
    """The pool the sample DAGs use, and their connection pointed at the emulator.

    With ``EXECUTOR=celery`` the connection's rate budget lives in the stack's Redis (the
    Celery broker, another database number): the workers share one budget, as workers on
    several machines would. With LocalExecutor it keeps the emulator connection's setting.
    """
    api.set_pool(POOL, config.pool_slots, "Microsoft Graph createOrGet calls (sample DAGs)")
    connection = dict(emulator["connection"])
    if config.executor == "celery":
        extra = connection.get("extra") or {}
        extra = json.loads(extra) if isinstance(extra, str) else dict(extra)
        extra.update(
            rate_budget="redis", rate_budget_url=redis_url(config, secrets["redis_password"], db=RATE_BUDGET_DB)
        )
        connection["extra"] = extra
    api.put_connection(CONN_ID, {**connection, "description": "The local meetings emulator (make stack)"})


def api_client(config: StackConfig, password: str) -> AirflowApi:
    return AirflowApi(config.api_url, ADMIN_USER, password)


def wait_for_port_release(port: int, timeout: float = 30.0) -> None:
    """After a stop: the port is free again (a restarted api-server must bind it)."""
    deadline = time.monotonic() + timeout
    while port_in_use(port) and time.monotonic() < deadline:
        time.sleep(0.5)
