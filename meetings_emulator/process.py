"""Run the emulator as a subprocess (its own GIL) and wait until it is ready."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from meetings_emulator.control_client import EmulatorClient


class EmulatorProcess(EmulatorClient):
    """An :class:`EmulatorClient` for an emulator this process started.

    :param process: the subprocess.
    :param ready: the content of its ready file.
    """

    def __init__(self, process: subprocess.Popen[bytes], ready: dict[str, Any]) -> None:
        super().__init__(ready["url"], ready["ca_path"])
        self.process = process
        self.ready = ready

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait, and return the exit code (kills it if it does not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode


@contextlib.contextmanager
def start_emulator_process(
    port: int = 0,
    *,
    state_file: str | None = None,
    latency_ms: float | None = None,
    rate_limit: float | None = None,
    token_lifetime: int | None = None,
    ca_file: str | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 30.0,
    stdout: Any = subprocess.DEVNULL,
    stderr: Any = None,
) -> Iterator[EmulatorProcess]:
    """Start ``python -m meetings_emulator`` and yield once it listens.

    :param port: TCP port (0: free port).
    :param state_file: ``--state-file``.
    :param latency_ms: ``--latency-ms``.
    :param rate_limit: ``--rate-limit``.
    :param token_lifetime: ``--token-lifetime``.
    :param ca_file: ``--ca-file``.
    :param extra_args: more CLI arguments.
    :param timeout: seconds to wait for readiness.
    :param stdout: where the child's stdout goes (default: discarded).
    :param stderr: where the child's stderr goes (default: inherited).
    """
    with tempfile.TemporaryDirectory(prefix="meetings-emulator-") as tmp:
        ready_file = Path(tmp) / "ready.json"
        args = [
            sys.executable,
            "-m",
            "meetings_emulator",
            "--port",
            str(port),
            "--ready-file",
            str(ready_file),
        ]
        for flag, value in (
            ("--state-file", state_file),
            ("--latency-ms", latency_ms),
            ("--rate-limit", rate_limit),
            ("--token-lifetime", token_lifetime),
            ("--ca-file", ca_file or str(Path(tmp) / "ca.pem")),
        ):
            if value is not None:
                args += [flag, str(value)]
        args += list(extra_args or [])
        process = subprocess.Popen(args, stdout=stdout, stderr=stderr, env=dict(os.environ))
        handle: EmulatorProcess | None = None
        try:
            deadline = time.monotonic() + timeout
            while not ready_file.exists():
                if process.poll() is not None:
                    raise RuntimeError(f"emulator exited with {process.returncode} before it was ready")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"emulator not ready after {timeout} s")
                time.sleep(0.05)
            handle = EmulatorProcess(process, json.loads(ready_file.read_text()))
            yield handle
        finally:
            if handle is not None:
                handle.terminate()
            elif process.poll() is None:
                process.kill()
                process.wait()
