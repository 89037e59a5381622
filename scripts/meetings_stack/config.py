"""Where the stack keeps its state, which ports it listens on, and its settings.

Everything is read from the environment (``make stack`` passes it through), so that two
stacks (a developer's and the e2e tests') can run side by side:

| variable | default | meaning |
|---|---|---|
| ``STACK_DIR`` | ``.stack`` | state folder (databases, logs, secrets); ``make stack-down`` keeps it |
| ``EXECUTOR`` | ``local`` | ``local`` (LocalExecutor) or ``celery`` (CeleryExecutor, Redis, two workers) |
| ``STACK_PORT_BASE`` | ``28000`` | ports are this plus 80 (UI/API), 432 (PostgreSQL), 379 (Redis), 443 (emulator), 793/794 (log servers) |
| ``STACK_CELERY_WORKERS`` | ``2`` | Celery workers with ``EXECUTOR=celery`` |
| ``STACK_WORKER_CONCURRENCY`` | ``2`` | task slots per Celery worker |
| ``STACK_HEARTBEAT_TIMEOUT`` | ``30`` | ``[scheduler] task_instance_heartbeat_timeout``: seconds before a task whose worker died is failed (and retried) |
| ``STACK_SCHEDULES`` | ``on`` | ``off``: ``[scheduler] use_job_schedule = False``, the scheduler starts no run of a schedule or an asset, only the runs triggered by hand or the API (the e2e tests: a sample DAG's daily tick, run when the DAG is unpaused, would interleave with a test's run) |
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}
DEFAULT_PORT_BASE = 28000
POOL = "teams_meetings"
CONN_ID = "msgraph_meetings_default"
ADMIN_USER = "admin"


class StackError(Exception):
    """The stack cannot start or stop; the message says what to do."""


@dataclass(frozen=True)
class Ports:
    """TCP ports on 127.0.0.1, all derived from one base.

    :param base: the base; each service adds its own offset.
    """

    base: int = DEFAULT_PORT_BASE

    @property
    def api(self) -> int:
        """Airflow's api-server: the UI, the REST API and the execution API of the workers."""
        return self.base + 80

    @property
    def postgres(self) -> int:
        return self.base + 432

    @property
    def redis(self) -> int:
        return self.base + 379

    @property
    def emulator(self) -> int:
        return self.base + 443

    @property
    def worker_logs(self) -> int:
        """``[logging] worker_log_server_port`` (the LocalExecutor's scheduler serves task logs here)."""
        return self.base + 793

    @property
    def trigger_logs(self) -> int:
        return self.base + 794

    def all(self) -> dict[str, int]:
        """Every port by service name."""
        return {
            "api-server": self.api,
            "postgres": self.postgres,
            "redis": self.redis,
            "emulator": self.emulator,
            "worker-logs": self.worker_logs,
            "trigger-logs": self.trigger_logs,
        }


@dataclass(frozen=True)
class StackConfig:
    """The settings of one stack.

    :param state_dir: folder for everything the stack writes.
    :param executor: ``local`` or ``celery``.
    :param ports: the ports.
    :param celery_workers: number of Celery workers (``celery`` only).
    :param worker_concurrency: task slots per Celery worker.
    :param heartbeat_timeout: ``[scheduler] task_instance_heartbeat_timeout`` in seconds.
    :param schedules: whether the scheduler starts the runs of schedules and assets
        (``[scheduler] use_job_schedule``); triggered runs run either way.
    :param pool_slots: slots of the ``teams_meetings`` pool.
    :param python: the interpreter whose Airflow and emulator the stack runs.
    """

    state_dir: Path
    executor: str = "local"
    ports: Ports = Ports()
    celery_workers: int = 2
    worker_concurrency: int = 2
    heartbeat_timeout: int = 30
    schedules: bool = True
    pool_slots: int = 4
    python: Path = Path(sys.executable)

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise StackError(f"EXECUTOR={self.executor!r} is not supported; use one of {sorted(EXECUTORS)}")
        if not 1024 <= self.ports.base <= 65535 - 800:
            raise StackError(f"STACK_PORT_BASE={self.ports.base} is out of range; use 1024..{65535 - 800}")
        if self.celery_workers < 1 or self.worker_concurrency < 1:
            raise StackError("STACK_CELERY_WORKERS and STACK_WORKER_CONCURRENCY must be at least 1")
        if self.heartbeat_timeout < 10:
            raise StackError("STACK_HEARTBEAT_TIMEOUT must be at least 10 seconds (tasks heartbeat every 5 s)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: object) -> StackConfig:
        """Settings from ``STACK_*`` and ``EXECUTOR`` variables; ``overrides`` win."""

        def number(name: str, default: int) -> int:
            value = environ.get(name, "").strip()
            if not value:
                return default
            try:
                return int(value)
            except ValueError:
                raise StackError(f"{name}={value!r} is not a whole number") from None

        def switch(name: str, default: bool) -> bool:
            value = environ.get(name, "").strip().lower()
            if not value:
                return default
            if value not in ("on", "off"):
                raise StackError(f"{name}={value!r}: use on or off")
            return value == "on"

        values: dict[str, object] = {
            "state_dir": Path(environ.get("STACK_DIR") or REPO / ".stack").resolve(),
            "executor": (environ.get("EXECUTOR") or "local").strip().lower(),
            "ports": Ports(number("STACK_PORT_BASE", DEFAULT_PORT_BASE)),
            "celery_workers": number("STACK_CELERY_WORKERS", 2),
            "worker_concurrency": number("STACK_WORKER_CONCURRENCY", 2),
            "heartbeat_timeout": number("STACK_HEARTBEAT_TIMEOUT", 30),
            "schedules": switch("STACK_SCHEDULES", True),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    # -- folders and files ------------------------------------------------------------------

    @property
    def logs_dir(self) -> Path:
        """One log file per process."""
        return self.state_dir / "logs"

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def output_dir(self) -> Path:
        """Where the sample DAGs write their reports (their ``output_dir`` default)."""
        return self.airflow_home / "meetings_output"

    @property
    def secrets_file(self) -> Path:
        """Generated passwords and keys (mode 0600)."""
        return self.state_dir / "secrets.json"

    @property
    def password_file(self) -> Path:
        """The SimpleAuthManager's password file (``{"admin": "..."}``, mode 0600)."""
        return self.state_dir / "simple_auth_manager_passwords.json"

    @property
    def processes_file(self) -> Path:
        """What runs: name, pid, command, log (see :mod:`meetings_stack.processes`)."""
        return self.state_dir / "processes.json"

    @property
    def stack_file(self) -> Path:
        """How to reach the running stack (URLs, ports, executor); read by the e2e tests."""
        return self.state_dir / "stack.json"

    @property
    def env_file(self) -> Path:
        """``source`` it to run ``airflow`` commands against the stack."""
        return self.state_dir / "airflow.env"

    @property
    def emulator_state(self) -> Path:
        return self.state_dir / "emulator" / "meetings.json"

    @property
    def emulator_ca(self) -> Path:
        return self.state_dir / "emulator" / "ca.pem"

    @property
    def emulator_ready(self) -> Path:
        return self.state_dir / "emulator" / "ready.json"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    def bin(self, name: str) -> Path:
        """A console script installed beside :attr:`python` (``airflow``, ``meetings-emulator``)."""
        return self.python.parent / name
