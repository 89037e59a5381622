"""Fault specs, the rate limiter, configuration and the cheap-import promise."""

from __future__ import annotations

import re

import pytest
from fresh_interpreter_testlib import run_in_fresh_interpreter

from meetings_emulator.__main__ import build_parser
from meetings_emulator.config import EmulatorConfig, SeedUser
from meetings_emulator.faults import FaultPlan, RateLimiter, format_retry_after, parse_fault


@pytest.mark.parametrize(
    ("spec", "options", "expected"),
    [
        pytest.param(429, {}, {"kind": "status", "status": 429, "retry_after": None}, id="int"),
        pytest.param({"status": 429, "retry_after": 2}, {}, {"kind": "status", "retry_after": "2"}, id="dict"),
        pytest.param("drop", {"when": "after"}, {"kind": "drop", "when": "after"}, id="drop-after"),
        pytest.param("slow", {"seconds": 3}, {"kind": "slow", "seconds": 3}, id="slow"),
        pytest.param({"kind": "non_json", "count": 2}, {}, {"kind": "non_json", "times": 2}, id="count-alias"),
        pytest.param(503, {"target": "token"}, {"status": 503, "target": "token"}, id="token-target"),
        pytest.param("non_json", {}, {"kind": "non_json", "status": 502}, id="non-json-default-502"),
        pytest.param(
            {"kind": "non_json", "status": 200},
            {"target": "token"},
            {"status": 200, "target": "token"},
            id="non-json-200",
        ),
        pytest.param({"kind": "non_json", "status": 407}, {}, {"kind": "non_json", "status": 407}, id="non-json-407"),
        pytest.param({"status": 429, "retry_after": 2.128}, {}, {"retry_after": "2.128"}, id="decimal-retry-after"),
        pytest.param({"status": 429, "retry_after": 3.0}, {}, {"retry_after": "3"}, id="whole-float-retry-after"),
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
        ({"kind": "non_json", "status": 199}, {}),
        ({"kind": "non_json", "status": 600}, {}),
        ({"kind": "non_json", "status": "200"}, {}),
        ({"status": 429, "retry_after": -1}, {}),
        ({"status": 429, "retry_after": float("nan")}, {}),
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


def test_rate_limiter_admits_n_per_sliding_second() -> None:
    limiter = RateLimiter(2)
    assert [limiter.admit(10.0), limiter.admit(10.1), limiter.admit(10.2)] == [True, True, False]
    assert RateLimiter(None).admit() is True


def test_rate_limiter_counts_throttled_requests() -> None:
    # Graph "continues to log resource usage while a client is being throttled":
    # the throttled request at 10.2 still fills the window at 11.05.
    limiter = RateLimiter(2)
    for moment in (10.0, 10.1, 10.2):
        limiter.admit(moment)
    assert limiter.admit(11.05) is False  # (10.05, 11.05] holds 10.1 and the throttled 10.2
    assert limiter.admit(11.15) is False  # (10.15, 11.15] holds 10.2 and the throttled 11.05
    assert limiter.admit(12.2) is True  # a quiet second emptied the window


def test_rate_limiter_keeps_a_knocking_client_throttled() -> None:
    limiter = RateLimiter(5)
    knocks = [i * 0.1 for i in range(60)]  # 10 requests/s against a limit of 5/s, for 6 s
    admitted = [t for t in knocks if limiter.admit(t)]
    assert admitted == knocks[:5]  # only the first second's five; every later second is full


def test_rate_limiter_window_edge_and_reconfigure() -> None:
    limiter = RateLimiter(1)
    assert limiter.admit(5.0) is True
    assert limiter.admit(5.999) is False
    assert limiter.admit(6.999) is True  # exactly one second after 5.999: that request left the window
    limiter.configure(1)
    assert limiter.admit(7.0) is True  # a new limit starts a fresh window
    limiter.configure(None)
    assert all(limiter.admit(7.0) for _ in range(100))


@pytest.mark.parametrize(
    ("value", "text"),
    [(1, "1"), (2.0, "2"), (2.128, "2.128"), (0.5, "0.5"), ("3", "3"), ("1.25", "1.25"), (0, "0")],
)
def test_format_retry_after(value: object, text: str) -> None:
    assert format_retry_after(value) == text


@pytest.mark.parametrize("value", [-1, "soon", float("inf"), None, True])
def test_format_retry_after_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        format_retry_after(value)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], 1.0),
        (["--rate-limit-retry-after", "2.128"], 2.128),
        (["--retry-after", "3"], 3.0),
    ],
)
def test_cli_rate_limit_retry_after(argv: list[str], expected: float) -> None:
    assert build_parser().parse_args(argv).retry_after == expected


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_cli_rejects_bad_retry_after(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--rate-limit-retry-after", value])
    assert "retry_after" in capsys.readouterr().err


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
    run_in_fresh_interpreter(
        "import sys",
        "import meetings_emulator as e",
        "import meetings_emulator.pytest_plugin",
        "heavy = [m for m in ('trustme', 'jwt', 'cryptography', 'airflow', 'msal', 'requests',"
        " 'meetings_emulator.server') if m in sys.modules]",
        "assert not heavy, heavy",
        "assert e.EmulatorConfig is not None",
    )


def test_plugin_imports_without_trustme() -> None:
    run_in_fresh_interpreter(
        "import sys",
        "sys.modules['trustme'] = None",
        "import meetings_emulator.pytest_plugin",
        "from meetings_emulator import run_emulator",
    )


def test_random_faults_hit_about_the_rate_with_a_repeatable_mix() -> None:
    from meetings_emulator.faults import FaultPlan, RandomFaults

    def draws(seed: int) -> list[str | None]:
        plan = FaultPlan()
        plan.random = RandomFaults.parse(0.5, [429, 503, "drop"], seed=seed)
        picked = [plan.take("graph", "POST", "/users/u/onlineMeetings/createOrGet") for _ in range(2000)]
        return [None if f is None else f"{f.kind}{f.status or ''}" for f in picked]

    first = draws(7)
    assert first == draws(7)
    assert 900 < sum(f is not None for f in first) < 1100
    assert {f for f in first if f} == {"status429", "status503", "drop"}


def test_random_faults_spare_batch_items_other_targets_and_unmatched_paths() -> None:
    from meetings_emulator.faults import FaultPlan, RandomFaults

    plan = FaultPlan()
    plan.random = RandomFaults.parse(1.0, [503], match="createOrGet")
    assert plan.take("graph", "POST", "/users/u/onlineMeetings/createOrGet", top_level=False) is None
    assert plan.take("token", "POST", "/t/oauth2/v2.0/token") is None
    assert plan.take("graph", "GET", "/users/u") is None
    assert plan.take("graph", "POST", "/users/u/onlineMeetings/createOrGet").status == 503
    plan.add(parse_fault(429))  # a scripted fault comes first
    assert plan.take("graph", "POST", "/users/u/onlineMeetings/createOrGet").status == 429
    plan.clear()
    assert plan.random is None


@pytest.mark.parametrize(("rate", "faults"), [(0, [503]), (1.5, [503]), (0.5, []), (0.5, "503"), (0.5, ["explode"])])
def test_random_faults_refuse_bad_settings(rate: float, faults: object) -> None:
    from meetings_emulator.faults import RandomFaults

    with pytest.raises(ValueError):
        RandomFaults.parse(rate, faults)
