"""Background processes of the stack: start them detached, find them again, stop them.

Each process starts in a session of its own (it survives ``make stack`` returning and
Ctrl-C in that terminal) with its output in ``<state>/logs/<name>.log``. Its pid, start
time and stop signal are recorded in ``<state>/processes.json``; the start time tells a
live process from a new one that got the same pid.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from meetings_stack.config import StackError


@dataclass(frozen=True)
class ProcessRecord:
    """One started process.

    :param name: e.g. ``postgres``, ``scheduler``, ``celery-worker-1``.
    :param pid: its pid (the leader of its own session and process group).
    :param create_time: :func:`psutil.Process.create_time` when it started.
    :param command: the command line.
    :param log: its log file.
    :param stop_signal: the signal that stops it cleanly (``SIGINT`` is PostgreSQL's fast shutdown).
    :param group: ``infra`` (kept across executor changes) or ``airflow``.
    """

    name: str
    pid: int
    create_time: float
    command: list[str]
    log: str
    stop_signal: str = "SIGTERM"
    group: str = "airflow"

    def process(self) -> psutil.Process | None:
        """The live process, or ``None`` when it ended (or its pid now belongs to another)."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 1.0 or proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except psutil.Error:
            return None

    def alive(self) -> bool:
        return self.process() is not None


class ProcessTable:
    """The records in ``processes.json``.

    :param path: the JSON file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, ProcessRecord]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as err:
            raise StackError(f"{self.path} is not valid JSON ({err}); stop leftover processes by hand") from None
        return {name: ProcessRecord(**record) for name, record in data.items()}

    def _save(self, records: Mapping[str, ProcessRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps({name: asdict(r) for name, r in records.items()}, indent=1))
        partial.replace(self.path)

    def add(self, record: ProcessRecord) -> None:
        records = self.load()
        records[record.name] = record
        self._save(records)

    def remove(self, name: str) -> None:
        records = self.load()
        if records.pop(name, None) is not None:
            self._save(records)

    def alive(self, name: str) -> ProcessRecord | None:
        """The record of ``name`` if that process still runs."""
        record = self.load().get(name)
        return record if record is not None and record.alive() else None


def start_detached(
    table: ProcessTable,
    name: str,
    command: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str],
    cwd: Path,
    stop_signal: str = "SIGTERM",
    group: str = "airflow",
    user: str | None = None,
) -> ProcessRecord:
    """Start ``command`` in a new session, output appended to ``log``; record it in ``table``.

    :param user: run as this user (PostgreSQL refuses to run as root).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        handle.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} $ {' '.join(command)}\n".encode())
        handle.flush()
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            user=user,
            group=_primary_group(user) if user else None,
            extra_groups=[] if user else None,
        )
    record = ProcessRecord(
        name=name,
        pid=process.pid,
        create_time=psutil.Process(process.pid).create_time(),
        command=list(command),
        log=str(log),
        stop_signal=stop_signal,
        group=group,
    )
    table.add(record)
    return record


def _primary_group(user: str) -> int:
    return pwd.getpwnam(user).pw_gid


def stop(table: ProcessTable, name: str, *, timeout: float = 30.0) -> bool:
    """Stop ``name`` and everything it started; ``True`` if something was running.

    The stop signal goes to the process group; what is still alive after ``timeout``
    (including children that moved to a group of their own, as Airflow's task processes
    do) gets SIGKILL.
    """
    record = table.load().get(name)
    if record is None:
        return False
    proc = record.process()
    if proc is None:
        table.remove(name)
        return False
    try:
        tree = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        tree = [proc]
    try:
        os.killpg(record.pid, signal.Signals[record.stop_signal])
    except (ProcessLookupError, PermissionError):
        pass
    _, alive = psutil.wait_procs(tree, timeout=timeout)
    for leftover in alive:
        try:
            leftover.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=5)
    table.remove(name)
    return True


def kill_tree(pid: int) -> list[int]:
    """SIGKILL ``pid`` and all its descendants at once, as when a machine dies; returns the pids."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return []
    for proc in tree:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(tree, timeout=10)
    return [proc.pid for proc in tree]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(
    what: str, check: Callable[[], bool], *, timeout: float, record: ProcessRecord | None = None, every: float = 0.5
) -> None:
    """Poll ``check`` until it is true; fail early when ``record``'s process ends, naming its log."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except StackError:
            raise
        except Exception:  # a service that is still starting may answer anything
            pass
        if record is not None and not record.alive():
            raise StackError(f"{record.name} exited while waiting for {what}; see {record.log}\n{tail(record.log)}")
        if time.monotonic() > deadline:
            where = f"; see {record.log}\n{tail(record.log)}" if record else ""
            raise StackError(f"no {what} after {timeout:.0f} s{where}")
        time.sleep(every)


def tail(path: str | Path, lines: int = 25) -> str:
    """The last lines of a log, indented."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    | " + line for line in text[-lines:])
