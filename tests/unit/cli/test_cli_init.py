"""cli/__init__.py: the guard that keeps standard output for a command's result."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from airflow_provider_meetings.cli import stdout_to_stderr


def test_without_a_real_standard_error_output_is_redirected_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    err = io.StringIO()  # embedded use: no file descriptor behind sys.stderr
    with open(tmp_path / "out", "w+") as out:
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        with stdout_to_stderr():
            print("a log line")
        print("the result")
    assert err.getvalue() == "a log line\n"
    assert (tmp_path / "out").read_text() == "the result\n"


def test_what_is_written_to_the_stdout_file_descriptor_meanwhile_goes_to_stderr(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with open(tmp_path / "out", "w+") as out, open(tmp_path / "err", "w+") as err:
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        with stdout_to_stderr():
            os.write(out.fileno(), b"an Airflow log line\n")  # as a handler holding the descriptor writes
        os.write(out.fileno(), b"the result\n")
    assert (tmp_path / "out").read_text() == "the result\n"
    assert (tmp_path / "err").read_text() == "an Airflow log line\n"
