"""End-to-end tests: a real Airflow deployment (``scripts/stack.py``), driven like a user would.

``make e2e`` runs them (``make test`` does not: see ``testpaths`` in pyproject.toml). The
session starts its own stack in ``.stack-e2e/`` on ports 29xxx (``E2E_STACK_DIR``,
``E2E_PORT_BASE``), so that a developer's ``make stack`` keeps running beside it, and
deletes it at the end (``E2E_KEEP_STACK=1`` keeps it running for a look at the UI and the
logs in ``.stack-e2e/logs``).

Fixtures:

- ``local_stack`` / ``celery_stack``: the stack with LocalExecutor or CeleryExecutor (two
  workers). Asking for the other executor restarts only Airflow's components; PostgreSQL,
  the emulator and the metadata database stay, so keep tests of one executor together.
- ``events_run``: a factory that writes the sample events at a date the scheduler runs
  now (it refuses logical dates in the future) and triggers ``teams_meetings_from_events``.
- ``browser_page``: Playwright driving Debian's chromium, logged in.

A new test (e.g. deferral, with ``deferrable=True``) takes ``local_stack``, triggers a run
through ``stack.api`` and waits for states with ``stack.api.wait_for_task_states(...)``
(``deferred`` is a state like any other), then checks the emulator with
``assert_meetings_exactly_once``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from e2e_testlib import EventsRun, past_anchor, write_shifted_events  # noqa: E402
from meetings_stack.airflow_api import AirflowApi  # noqa: E402
from meetings_stack.processes import ProcessRecord, ProcessTable  # noqa: E402

from meetings_emulator import EmulatorClient  # noqa: E402

STACK_DIR = Path(os.environ.get("E2E_STACK_DIR") or REPO / ".stack-e2e").resolve()
PORT_BASE = int(os.environ.get("E2E_PORT_BASE") or 29000)
KEEP_STACK = os.environ.get("E2E_KEEP_STACK") == "1"
STACK_TIMEOUT = 600
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
#: Debian's chromium as root, headless, on a machine without internet (see the machine notes):
#: no sandbox (root), no GPU, and none of Chromium's own background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


@dataclass
class Stack:
    """A running stack, as ``stack.json`` describes it.

    :param info: the content of ``stack.json``.
    :param api: the REST API as the admin user.
    :param emulator: the emulator's control API.
    """

    info: dict[str, Any]
    api: AirflowApi
    emulator: EmulatorClient

    @property
    def state_dir(self) -> Path:
        return Path(self.info["state_dir"])

    @property
    def password(self) -> str:
        return json.loads(Path(self.info["password_file"]).read_text())[self.info["username"]]

    def processes(self) -> dict[str, ProcessRecord]:
        return ProcessTable(Path(self.info["processes_file"])).load()

    def secrets(self) -> dict[str, str]:
        """The stack's generated passwords (to check that none reaches a log)."""
        return json.loads((self.state_dir / "secrets.json").read_text())

    def celery_workers(self) -> dict[str, ProcessRecord]:
        return {name: r for name, r in self.processes().items() if name.startswith("celery-worker")}

    def emulator_connection(self) -> dict[str, Any]:
        """The emulator's Airflow connection (JSON form, with its secret)."""
        ready = json.loads((self.state_dir / "emulator" / "ready.json").read_text())
        return ready["connection"]

    def airflow_env(self) -> dict[str, str]:
        """The environment of the stack's ``airflow`` commands (from ``airflow.env``)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        for line in Path(self.info["env_file"]).read_text().splitlines():
            if line.startswith("export AIRFLOW"):
                key, _, value = line[len("export ") :].partition("=")
                env[key] = _unquote(value)
        return env


def _unquote(value: str) -> str:
    import shlex

    parts = shlex.split(value)
    return parts[0] if parts else ""


class StackRunner:
    """Runs ``scripts/stack.py`` as ``make stack`` does, for the e2e session's state folder."""

    def __init__(self, state_dir: Path, port_base: int) -> None:
        self.state_dir = state_dir
        self.port_base = port_base
        self._stack: Stack | None = None

    def run(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "STACK_", "EXECUTOR"))}
        # Each test triggers its own runs. With schedules on, unpausing a sample DAG can start
        # its latest daily tick too (CronTriggerTimetable, catchup=False: it did 17 minutes
        # after the 06:00 Paris tick), whose meetings and worker slots a test counts as its own.
        env["STACK_SCHEDULES"] = "off"
        command = [sys.executable, str(SCRIPTS / "stack.py"), *args]
        command += ["--state-dir", str(self.state_dir), "--port-base", str(self.port_base)]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=STACK_TIMEOUT, cwd=REPO)
        output = result.stdout + result.stderr
        if result.returncode != 0:
            pytest.fail(f"scripts/stack.py {' '.join(args)} exited with {result.returncode}:\n{output[-8000:]}")
        return output

    def up(self, executor: str) -> Stack:
        if self._stack is not None and self._stack.info["executor"] == executor:
            return self._stack
        self.run("up", "--executor", executor)
        info = json.loads((self.state_dir / "stack.json").read_text())
        password = json.loads(Path(info["password_file"]).read_text())[info["username"]]
        self._stack = Stack(
            info=info,
            api=AirflowApi(info["api_url"], info["username"], password),
            emulator=EmulatorClient(info["emulator"]["url"], info["emulator"]["ca_path"]),
        )
        return self._stack


@pytest.fixture(scope="session")
def stack_runner() -> Iterator[StackRunner]:
    """The session's stack folder, fresh at the start, stopped and deleted at the end."""
    runner = StackRunner(STACK_DIR, PORT_BASE)
    runner.run("down", "--wipe")  # leftovers of an interrupted session
    yield runner
    if KEEP_STACK:
        print(
            f"\nE2E_KEEP_STACK=1: the stack keeps running; stop it with: "
            f"python scripts/stack.py down --state-dir {runner.state_dir} --port-base {runner.port_base}"
        )
        return
    runner.run("down", "--wipe")
    shutil.rmtree(STACK_DIR, ignore_errors=True)


@pytest.fixture(scope="module")
def local_stack(stack_runner: StackRunner) -> Stack:
    """The stack with LocalExecutor (started or switched to at the first use in a module)."""
    return stack_runner.up("local")


@pytest.fixture(scope="module")
def celery_stack(stack_runner: StackRunner) -> Stack:
    """The stack with CeleryExecutor and two Celery workers."""
    return stack_runner.up("celery")


@pytest.fixture
def events_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., EventsRun]:
    """Trigger ``teams_meetings_from_events`` over the sample events, moved ``days_ago`` days
    into the past (each test its own day: a logical date is unique per DAG)."""

    def trigger(stack: Stack, *, days_ago: int) -> EventsRun:
        anchor = past_anchor(days_ago)
        folder = stack.state_dir / "e2e-events"
        events_file = folder / f"events-{anchor:%Y%m%d}.csv"
        events = write_shifted_events(REPO / "dags" / "data" / "events.csv", events_file, anchor)
        output_dir = stack.state_dir / "e2e-output"
        return EventsRun.trigger(
            stack.api, anchor=anchor, events_file=events_file, events=events, output_dir=output_dir
        )

    return trigger


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium through Playwright (nothing is downloaded)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: make stack-deps installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(browser: Any, local_stack: Stack) -> Iterator[Any]:
    """A new page, logged in to the stack's UI as the admin user."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=local_stack.info["api_url"])
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/")
    page.get_by_label("Username").fill(local_stack.info["username"])
    page.get_by_label("Password").fill(local_stack.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Dags").first.wait_for()
    try:
        yield page
    finally:
        context.close()
