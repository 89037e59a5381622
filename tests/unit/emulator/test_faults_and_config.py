"""Fault specs, the rate limiter, configuration and the cheap-import promise."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from airflow_provider_meetings.emulator.config import EmulatorConfig, SeedUser
from airflow_provider_meetings.emulator.faults import FaultPlan, RateLimiter, parse_fault


@pytest.mark.parametrize(
    ("spec", "options", "expected"),
    [
        pytest.param(429, {}, {"kind": "status", "status": 429, "retry_after": None}, id="int"),
        pytest.param({"status": 429, "retry_after": 2}, {}, {"kind": "status", "retry_after": "2"}, id="dict"),
        pytest.param("drop", {"when": "after"}, {"kind": "drop", "when": "after"}, id="drop-after"),
        pytest.param("slow", {"seconds": 3}, {"kind": "slow", "seconds": 3}, id="slow"),
        pytest.param({"kind": "non_json", "count": 2}, {}, {"kind": "non_json", "times": 2}, id="count-alias"),
        pytest.param(503, {"target": "token"}, {"status": 503, "target": "token"}, id="token-target"),
    ],
)
def test_parse_fault(spec: object, options: dict, expected: dict) -> None:
    fault = parse_fault(spec, **options).to_json()
    assert {k: fault[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("spec", "options"),
    [
        ("explode", {}),
        ({"status": 200}, {}),
        (429, {"when": "during"}),
        (429, {"target": "x"}),
        (429, {"times": 0}),
        ({"retry_after": "1"}, {}),
        (429, {"match": "("}),
    ],
)
def test_parse_fault_rejects(spec: object, options: dict) -> None:
    with pytest.raises((ValueError, TypeError, re.error)):
        parse_fault(spec, **options)


def test_fault_plan_order_times_and_match() -> None:
    plan = FaultPlan()
    plan.add(parse_fault(503, match="createOrGet", times=2))
    plan.add(parse_fault(429))
    assert plan.take("graph", "GET", "/users/x/onlineMeetings/1").status == 429
    assert plan.take("token", "POST", "/t/oauth2/v2.0/token") is None
    assert plan.take("graph", "POST", "/users/x/onlineMeetings/createOrGet").status == 503
    assert plan.take_explicit("graph", "POST", "/$batch") is None
    assert plan.take("graph", "POST", "/users/x/onlineMeetings/createOrGet").status == 503
    assert plan.take("graph", "POST", "/users/x/onlineMeetings/createOrGet") is None
    assert plan.pending() == []


def test_rate_limiter_sliding_window() -> None:
    limiter = RateLimiter(2)
    assert [limiter.admit(10.0), limiter.admit(10.1), limiter.admit(10.2)] == [True, True, False]
    assert limiter.admit(11.05) is True  # the 10.0 admission left the window
    assert limiter.admit(11.06) is False
    assert RateLimiter(None).admit() is True


def test_config_from_kwargs() -> None:
    user_id = "6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    config = EmulatorConfig.from_kwargs(users=[{"id": user_id, "user_principal_name": "a@b", "display_name": "A"}])
    assert config.users == (SeedUser(user_id, "a@b", "A"),)
    camel = EmulatorConfig.from_kwargs(users=[{"id": user_id, "userPrincipalName": "a@b", "displayName": "A"}])
    assert camel.users == config.users
    with pytest.raises(TypeError, match="latency"):
        EmulatorConfig.from_kwargs(latency=5)


def test_default_seed_has_exactly_one_user_without_policy() -> None:
    users = EmulatorConfig().users
    assert [u.user_principal_name for u in users if not u.has_policy] == ["nopolicy@contoso.example"]
    assert len({u.id for u in users}) == len(users)


def test_importing_the_package_and_plugin_is_cheap() -> None:
    code = (
        "import sys\n"
        "import airflow_provider_meetings.emulator as e\n"
        "import airflow_provider_meetings.emulator.pytest_plugin\n"
        "heavy = [m for m in ('trustme', 'jwt', 'cryptography', 'airflow', 'msal', 'requests',"
        " 'airflow_provider_meetings.emulator.server') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert e.EmulatorConfig is not None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plugin_imports_without_trustme() -> None:
    code = (
        "import sys\n"
        "sys.modules['trustme'] = None\n"
        "import airflow_provider_meetings.emulator.pytest_plugin\n"
        "from airflow_provider_meetings.emulator import run_emulator\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
