"""Every command and example the README and docs/ give a reader, run as written.

Each fenced block carries a mark (see doc_blocks.py). The first tests check the marks: a
shell block nobody runs, or a block of the newcomer docs nobody checks, fails here. The
others run every ``command:`` and ``checked:`` block, reading its text from the doc, each
registered for its names with ``@runs``. Shell blocks are typed into :class:`Terminal`
sessions that stand in for a reader's terminals: in a copy of the clone with its ``.venv``,
with no Airflow settings inherited, keeping exported variables from one block to the next.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
from doc_blocks import (
    NEWCOMER_DOCS,
    REPO,
    SHELL_LANGUAGES,
    all_blocks,
    blocks,
    command_lines,
    text_of,
)

# whole sample DAGs and the docs' commands: make test-slow (part of make e2e in CI), not make test
pytestmark = pytest.mark.slow

USER_PROJECT = Path(__file__).parent / "user_project"
DAGS_DIR = REPO / "dags"
STATUS = r"(created|existing|updated|unchanged|cancelled|not_found|unknown|-)"
#: A row of the demo's table: event, status on run 1, status with the edited events file, join URL.
ROW_RE = re.compile(rf"^\s+(\S+)\s+{STATUS}\s+{STATUS}\s+https://", re.MULTILINE)
#: A row of the demo's interview events: interview key, what the run did, the date.
INTERVIEW_RE = re.compile(rf"^\s+(\S+)\s+{STATUS}\s+\d{{4}}-\d\d-\d\d \d\d:\d\d-", re.MULTILINE)
INTERVIEWS = ("de-4711-tech", "de-4712-tech", "ml-0815-final")

#: (mark kind, name) -> the test that runs or checks the blocks marked so.
RUNNERS: dict[tuple[str, str], str] = {}
_Test = TypeVar("_Test", bound=Callable[..., Any])


def runs(kind: str, *names: str) -> Callable[[_Test], _Test]:
    """Register the decorated test as the one that runs the blocks marked ``<!-- kind: name -->``."""

    def register(test: _Test) -> _Test:
        for name in names:
            assert (kind, name) not in RUNNERS, f"{kind}: {name} has two tests"
            RUNNERS[(kind, name)] = test.__name__
        return test

    return register


# -- the marks ------------------------------------------------------------------------------------


def test_every_block_says_its_language() -> None:
    """An unlabelled block could hide a command from the checks below; output is ``text``."""
    assert [b.where for b in all_blocks() if not b.language] == []


def test_every_shell_block_is_run_by_a_test_or_marked_not_run() -> None:
    unmarked = [
        b.where for b in all_blocks() if b.language in SHELL_LANGUAGES and b.mark_kind not in ("command", "not run")
    ]
    assert unmarked == [], "mark each with <!-- command: name --> and a test, or <!-- not run: why -->"


def test_every_code_block_of_the_newcomer_docs_is_tested_or_marked_not_run() -> None:
    unmarked = [
        b.where
        for doc in NEWCOMER_DOCS
        for b in blocks(doc)
        if b.language in ("python", "toml", "yaml", "json", "ini", "csv")
        and b.mark_kind not in ("snippet", "checked", "not run")
    ]
    assert unmarked == [], "quote a tested file (<!-- snippet: path [name] -->), or <!-- checked: name --> and a test"


def test_every_marked_block_has_its_test_and_every_test_its_block() -> None:
    marked = {(b.mark_kind, b.mark_value) for b in all_blocks() if b.mark_kind in ("command", "checked")}
    assert marked == set(RUNNERS)


def test_blocks_that_share_a_name_say_the_same() -> None:
    for kind, name in RUNNERS:
        text_of(kind, name)


# -- how a reader's terminal is imitated ---------------------------------------------------------------


def fresh_env() -> dict[str, str]:
    """A new terminal's environment: this one's, without Airflow settings, pytest's variables or a virtualenv."""
    venv_bin = str(Path(sys.prefix) / "bin")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "_AIRFLOW", "PYTEST_"))
        and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "TMPDIR")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    return env


class Background:
    """A command left running in a terminal (the emulator); its output, line by line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout: float = 60) -> str:
        """The first output line starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if line.startswith(prefix)]
            if found:
                return found[0]
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.1)
        pytest.fail(f"no line starting with {prefix!r}; output:\n" + "\n".join(self.lines))

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(15)
        self._reader.join(5)


class Terminal:
    """A reader's bash session: each block is typed into the same shell, so variables it
    exports (``source .venv/bin/activate``, ``export ...``) and its folder carry over."""

    def __init__(self, folder: Path, env: dict[str, str], state: Path) -> None:
        self.env = env
        state.mkdir(parents=True, exist_ok=True)
        self._exports = state / "exports.sh"
        self._folder = state / "folder"
        self._exports.write_text("")
        self._folder.write_text(str(folder))

    def _script(self, text: str) -> list[str]:
        exports, folder = shlex.quote(str(self._exports)), shlex.quote(str(self._folder))
        return [
            "bash",
            "-c",
            f'source {exports}\ncd "$(cat {folder})"\nset -eo pipefail\n{text}\nexport -p > {exports}\npwd > {folder}\n',
        ]

    def run(self, text: str, timeout: float = 600) -> str:
        """Run a block; its output (stdout and stderr), or fail the test with it."""
        done = subprocess.run(
            self._script(text),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            pytest.fail(f"exit {done.returncode} of:\n{text}--- output ---\n{done.stdout[-6000:]}")
        return done.stdout

    @contextlib.contextmanager
    def start(self, text: str) -> Iterator[Background]:
        """Run a block that keeps running (until the ``with`` ends: SIGTERM, like Ctrl-C)."""
        process = subprocess.Popen(
            self._script(text),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        background = Background(process)
        try:
            yield background
        finally:
            background.stop()


def requires_the_clones_venv() -> None:
    if Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
        pytest.skip("the docs' commands use the clone's .venv (make install); these tests run from another Python")


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this checkout as a reader has it after ``make demo``: its files and its ``.venv``."""
    requires_the_clones_venv()
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    target = tmp_path_factory.mktemp("clone") / "airflow-provider-meetings"
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the work tree is not part of it
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(REPO / ".venv")
    return target


@contextlib.contextmanager
def exclusive_port(port: int) -> Iterator[None]:
    """Hold ``port`` for one test: other test runs on this machine wait; a server of someone else's skips."""
    with open(Path(tempfile.gettempdir()) / f"airflow-provider-meetings-port-{port}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the emulator binds
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                pytest.skip(f"port {port}, which the docs' emulator command uses, is taken on this machine")
        yield


def assert_output_shows(shown: str, printed: list[str]) -> None:
    """Each line the doc shows is printed, in order; ``...`` stands for anything."""
    position = 0
    for line in shown.splitlines():
        if line.strip() == "...":
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in line.split("...")))
        matches = [i for i in range(position, len(printed)) if pattern.fullmatch(printed[i])]
        assert matches, f"the doc shows {line!r}; printed:\n" + "\n".join(printed)
        position = matches[0] + 1


# -- README and tutorial: make demo, install ---------------------------------------------------------


@pytest.mark.integration
@pytest.mark.timeout(900)  # four `airflow dags test` runs; minutes on a busy machine
@runs("command", "quick_start", "make_demo")
def test_make_demo_twice(tmp_path: Path) -> None:
    """``make demo`` as README and tutorial say, twice: the edited events file moves one
    meeting and cancels another; the second demo finds the meetings of the first.
    ``make test``, the README's second line, is what CI runs (and what runs this test)."""
    requires_the_clones_venv()
    demo, make_test = command_lines(text_of("command", "quick_start"))
    assert command_lines(text_of("command", "make_demo")) == [demo]
    # .ci/run runs each step through its timing wrapper: the command is the end of one of its lines.
    words = make_test.split()
    ci_lines = [line.split() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert any(line[-len(words) :] == words for line in ci_lines), f"{make_test!r} is not run by .ci/run"
    # In the checkout itself (make's stamps live in its .venv); DEMO_DIR keeps its .demo/ untouched.
    terminal = Terminal(REPO, {**fresh_env(), "DEMO_DIR": str(tmp_path / "demo")}, tmp_path / "terminal")

    first = terminal.run(demo)
    assert demo_statuses(first) == {
        "office-hour-2026-12-07": ("created", "-"),
        "course-ml101-2026-12-07": ("created", "updated"),
        "interview-4711": ("created", "cancelled"),
        "ticket-INC-1042": ("created", "unchanged"),
    }, first
    assert "Run 1: 4 meetings: 4 created." in first
    assert "1 updated, 1 unchanged, 1 cancelled. The emulator holds 3." in first
    # The interview loop's calendar events, each with its invitations (issue 22).
    assert interview_statuses(first) == dict.fromkeys(INTERVIEWS, "created"), first
    assert (
        "invitations from adelev@contoso.example to required: ada@example.org, alexw@contoso.example, "
        "meganb@contoso.example; optional: lynner@contoso.example"
    ) in first

    # From the state the first demo left: run 1 moves the lecture back and books the
    # cancelled interview again; the edit then applies once more.
    second = terminal.run(demo)
    assert demo_statuses(second) == {
        "office-hour-2026-12-07": ("existing", "-"),
        "course-ml101-2026-12-07": ("updated", "updated"),
        "interview-4711": ("created", "cancelled"),
        "ticket-INC-1042": ("unchanged", "unchanged"),
    }, second
    assert "The emulator holds 3." in second
    assert interview_statuses(second) == dict.fromkeys(INTERVIEWS, "unchanged"), second


def demo_statuses(output: str) -> dict[str, tuple[str, str]]:
    """The demo's table: event -> (status on run 1, status with the edited events file)."""
    return {event: (one, two) for event, one, two in ROW_RE.findall(output)}


def interview_statuses(output: str) -> dict[str, str]:
    """The demo's interview events: interview key -> what the interview loop's run did."""
    return dict(INTERVIEW_RE.findall(output))


@pytest.mark.integration
@runs("command", "install")
def test_install_from_the_clone(clone: Path, tmp_path: Path) -> None:
    """The README's install line in an environment of its own. It sees this venv's packages
    (a .pth file), so pip builds and installs only the provider from the clone, offline."""
    target = tmp_path / "airflow-env"
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
    python = target / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "dependencies-of-the-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = fresh_env()
    env.update({"VIRTUAL_ENV": str(target), "PATH": f"{target / 'bin'}{os.pathsep}{env['PATH']}"})

    output = Terminal(clone, env, tmp_path / "terminal").run(text_of("command", "install"))

    assert "Successfully installed airflow-provider-meetings" in output, output
    assert "does not provide the extra" not in output, output
    where = subprocess.run(  # away from the checkout, whose folder would come first on sys.path
        [python, "-c", "import airflow_provider_meetings, trustme; print(airflow_provider_meetings.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(site), where  # the installed copy, not this checkout
    providers = subprocess.run(
        [python, "-m", "airflow", "providers", "list"],
        cwd=tmp_path,
        env={**env, "AIRFLOW_HOME": str(tmp_path / "airflow-home")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "airflow-provider-meetings" in providers  # as the README promises


# -- by hand: the emulator in one terminal, Airflow in another ---------------------------------------------


@pytest.mark.integration
@pytest.mark.timeout(900)
@runs("command", "by_hand_emulator", "emulator_cli", "by_hand_airflow_home", "connections_test")
@runs("command", "connection_check", "check_readme")
@runs("command", "by_hand_weekly", "by_hand_events", "pools_set")
@runs("checked", "emulator_cli_output")
def test_sample_dags_by_hand_against_the_emulator(clone: Path, tmp_path: Path) -> None:
    """Tutorial sections 6-8, emulator.md's command line and connection.md's connection test."""
    from meetings_emulator import EmulatorClient

    started = text_of("command", "by_hand_emulator")
    assert command_lines(text_of("command", "emulator_cli")) == command_lines(started)[-1:]
    port = int(re.search(r"--port (\d+)", started)[1])

    with exclusive_port(port), Terminal(clone, fresh_env(), tmp_path / "first").start(started) as emulator:
        export = emulator.wait_for("export AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT=")
        assert_output_shows(text_of("checked", "emulator_cli_output"), emulator.lines)
        connection = json.loads(shlex.split(export)[1].partition("=")[2])
        graph = EmulatorClient(connection["host"], connection["extra"]["verify"])

        second = Terminal(clone, fresh_env(), tmp_path / "second")
        second.run(text_of("command", "by_hand_airflow_home"))
        second.run(export)  # pasted from the first terminal
        assert "Connection success!" in second.run(text_of("command", "connections_test"))
        checked = second.run(text_of("command", "connection_check"))
        assert "OK: the connection 'msgraph_meetings_default' passed every check." in checked, checked
        readme = second.run(text_of("command", "check_readme"))  # text, then --json
        report, _ = json.JSONDecoder().raw_decode(readme[readme.index("\n{") + 1 :])
        assert report["ok"] is True, readme
        # The organizer's read-only lookup and calendar read, once per check; no meeting.
        assert graph.stats()["by_route"] == {"listMeetings": {"200": 4}, "getCalendar": {"200": 4}}
        assert graph.meetings() == []

        second.run(text_of("command", "by_hand_weekly"))
        invitation = clone / ".airflow/meetings_output/teams_weekly_office_hour/20261207T070000Z/invitation.ics"
        assert "https://teams.microsoft.com/l/meetup-join/" in invitation.read_text()

        second.run(text_of("command", "by_hand_events"))
        report = clone / ".airflow/meetings_output/teams_meetings_from_events/20261207T050000Z/meetings.csv"
        assert len(report.read_text().splitlines()) == 1 + 3  # the header and the day's three events

        output = second.run(text_of("command", "pools_set"))
        assert "teams_meetings" in output
        assert sorted(m["external_id"] for m in graph.meetings()) == [
            "teams_meetings_from_events-course-ml101-2026-12-07",
            "teams_meetings_from_events-interview-4711",
            "teams_meetings_from_events-ticket-INC-1042",
            "teams_weekly_office_hour-2026-12-07",
        ]
    ca_folder = Path(connection["extra"]["verify"]).parent
    if ca_folder.name.startswith("meetings-emulator-"):
        shutil.rmtree(ca_folder, ignore_errors=True)


# -- emulator.md: testing your own DAG, the emulator from Python --------------------------------------


@pytest.mark.integration
@runs("command", "user_project_pytest")
def test_testing_your_own_dag(tmp_path: Path) -> None:
    """emulator.md's example project (its files are quoted whole), tested in a shell that has the provider."""
    project = tmp_path / "my-project"
    shutil.copytree(USER_PROJECT, project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    env = fresh_env()
    env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env['PATH']}"

    output = Terminal(project, env, tmp_path / "terminal").run(text_of("command", "user_project_pytest"))

    assert re.search(r"\b2 passed\b", output), output


@pytest.mark.integration
@runs("checked", "emulator_in_process", "emulator_other_process")
def test_emulator_from_python_as_shown() -> None:
    for name in ("emulator_in_process", "emulator_other_process"):
        exec(compile(text_of("checked", name), f"<docs/emulator.md {name}>", "exec"), {})


@pytest.mark.integration
@runs("checked", "emulator_device_code")
def test_device_code_flow_as_shown() -> None:
    from meetings_emulator import run_emulator

    with run_emulator(device_code_interval=1) as emu:  # as the doc says to start it
        exec(
            compile(text_of("checked", "emulator_device_code"), "<docs/emulator.md device code>", "exec"), {"emu": emu}
        )
        assert len(emu.issued_refresh_tokens()) == 1


@pytest.mark.integration
@runs("command", "emulator_users_cli", "emulator_users_curl")
def test_own_organizers_on_the_command_line_and_over_https(tmp_path: Path) -> None:
    """emulator.md's "Your own organizers": the emulator with --user in one terminal, curl in another."""
    from meetings_emulator import EmulatorClient

    requires_the_clones_venv()
    started = text_of("command", "emulator_users_cli")
    port = int(re.search(r"--port (\d+)", started)[1])
    env = fresh_env()
    env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env['PATH']}"  # the provider installed
    folder = tmp_path / "work"
    folder.mkdir()

    with exclusive_port(port), Terminal(folder, env, tmp_path / "first").start(started) as emulator:
        emulator.wait_for("export AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT=")
        assert any(
            "fox.mulder@contoso.example" in line and "Mulder, Fox  (no application access policy)" in line
            for line in emulator.lines
        ), emulator.lines

        answer = Terminal(folder, env, tmp_path / "second").run(text_of("command", "emulator_users_curl"))

        added, _ = json.JSONDecoder().raw_decode(answer[answer.index('{"') :])  # after curl's progress meter
        assert added["userPrincipalName"] == "dana.scully@contoso.example"
        users = {
            u["userPrincipalName"]: u for u in EmulatorClient(f"https://127.0.0.1:{port}", str(folder / "ca.pem")).users
        }
        assert users["dana.scully@contoso.example"]["hasPolicy"] is True
        assert users["fox.mulder@contoso.example"]["hasPolicy"] is False


# -- README: the minimal DAG; tutorial: the arguments of an event, troubleshooting ---------------------


@pytest.fixture
def readme_dag_file(dags_folder: Path) -> Iterator[Path]:
    """The README's DAG, copied into the session's DAGs folder (``dag.test()`` syncs it from there)."""
    path = dags_folder / "readme_minimal_dag.py"
    path.write_text(text_of("checked", "readme_dag"))
    yield path
    path.unlink()


@pytest.mark.integration
@pytest.mark.usefixtures("airflow_db")
@runs("checked", "readme_dag")
def test_readme_minimal_dag(readme_dag_file: Path, meetings_conn_id: str, graph_emulator: Any) -> None:
    """The README's DAG books its meeting through the default connection, and a re-run gets it back."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(readme_dag_file))
    assert bag.import_errors == {}
    (dag,) = bag.dags.values()
    monday = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)

    assert dag.test(logical_date=monday).state == "success"
    assert dag.test(logical_date=monday).state == "success"

    [stored] = graph_emulator.meetings()
    assert stored["external_id"] == f"{dag.dag_id}-2026-01-05"
    assert stored["meeting"]["subject"] == "Office hours 2026-01-05"
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"201": 1, "200": 1}


@runs("checked", "events_kwargs")
def test_tutorial_shows_the_operator_arguments_of_an_event() -> None:
    if str(DAGS_DIR) not in sys.path:
        sys.path.insert(0, str(DAGS_DIR))
    from meetings_dag_helpers.events import meeting_kwargs, read_events_file

    shown = ast.literal_eval(text_of("checked", "events_kwargs"))
    dag_id = "teams_meetings_from_events"
    [event] = [
        e for e in read_events_file(DAGS_DIR / "data" / "events.csv") if shown["external_id"] == f"{dag_id}-{e.key}"
    ]
    assert meeting_kwargs(event, dag_id=dag_id, default_organizer="", default_duration=timedelta(minutes=30)) == shown


def test_troubleshooting_quotes_airflows_message_for_a_missing_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    monkeypatch.delenv("AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT", raising=False)
    with pytest.raises(AirflowNotFoundException) as missing:
        BaseHook.get_connection("msgraph_meetings_default")
    assert f"``{missing.value}``" in (REPO / "docs" / "tutorial.md").read_text()
