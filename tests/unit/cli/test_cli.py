"""The ``airflow-provider-meetings`` command line: version and the usage a misspelt option shows."""

from __future__ import annotations

import pytest

from airflow_provider_meetings import __version__
from airflow_provider_meetings.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"airflow-provider-meetings {__version__}"


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["check", "--jsn"], "usage: airflow-provider-meetings check "),
        (["login", "--json", "--nope=1"], "usage: airflow-provider-meetings login "),
    ],
)
def test_misspelt_option_of_a_subcommand_shows_its_usage(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage), err
    assert f"airflow-provider-meetings {argv[0]}: error: unrecognized arguments: {argv[-1]}" in err
    assert "COMMAND" not in err


def test_unknown_option_before_the_subcommand_is_the_top_level_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--bogus", "check"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: airflow-provider-meetings [-h]"), err
    assert "airflow-provider-meetings: error: unrecognized arguments: --bogus" in err


def test_python_dash_m_runs_the_same_command() -> None:
    """``python -m airflow_provider_meetings.cli`` is the console script (a fallback where it is not on the PATH)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "airflow_provider_meetings.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"airflow-provider-meetings {__version__}"
