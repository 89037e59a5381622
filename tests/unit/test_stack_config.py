"""``scripts/meetings_stack``'s settings: ``STACK_SCHEDULES`` turns the scheduler's own runs off."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from meetings_stack.airflow_components import airflow_env  # noqa: E402
from meetings_stack.config import StackConfig, StackError  # noqa: E402

SECRETS = dict.fromkeys(
    ("fernet_key", "postgres_password", "redis_password", "api_secret_key", "jwt_secret"), "not-a-secret"
)


def config(tmp_path: Path, **environ: str) -> StackConfig:
    return StackConfig.from_env({"STACK_DIR": str(tmp_path), **environ})


def test_schedules_are_on_unless_turned_off(tmp_path) -> None:
    assert config(tmp_path).schedules is True
    assert "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE" not in airflow_env(config(tmp_path), SECRETS)
    off = config(tmp_path, STACK_SCHEDULES=" OFF ")
    assert off.schedules is False
    assert airflow_env(off, SECRETS)["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "False"


def test_a_value_other_than_on_or_off_is_refused(tmp_path) -> None:
    with pytest.raises(StackError, match="STACK_SCHEDULES='no': use on or off"):
        config(tmp_path, STACK_SCHEDULES="no")
