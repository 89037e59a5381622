"""The connection's ``rate_budget`` through the hook against the emulator (real MSAL, HTTPS, Airflow)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def specs(n: int) -> list[dict[str, Any]]:
    return [{"external_id": f"budget-{i}", "subject": f"Budget {i}"} for i in range(n)]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The hook's log lines (Airflow's structlog writes them to standard output)."""
    return capsys.readouterr().out.splitlines()


def test_the_file_budget_lives_beside_the_token_cache(make_hook, graph_emulator, tmp_path: Path, capsys) -> None:
    cache = tmp_path / "meetings" / "token-cache.json"
    cache.parent.mkdir()
    hook = make_hook(rate_budget="file", token_cache_path=str(cache))
    graph_emulator.set_rate_limit(30, retry_after=1)
    try:
        results = hook.create_or_get_meetings(specs(60), max_concurrency=4)
    finally:
        graph_emulator.set_rate_limit(None)
    assert all(result.ok for result in results)
    assert [p.name for p in cache.parent.glob("rate-budget-*.json")] and hook.client.rate_budget.transactions > 0
    lines = log_lines(capsys)
    assert any("rate budget: shared by every process" in line for line in lines)
    assert any("rate budget: Graph asked to wait here" in line for line in lines)
    assert not [line for line in lines if "unavailable" in line]


def test_a_redis_that_is_down_falls_back_with_one_warning(make_hook, graph_emulator, capsys) -> None:
    hook = make_hook(rate_budget="redis", rate_budget_url=f"redis://:budget-secret-7@127.0.0.1:{closed_port()}/0")
    results = hook.create_or_get_meetings(specs(30), max_concurrency=4)
    assert all(result.ok for result in results)
    lines = log_lines(capsys)
    assert len([line for line in lines if "rate budget: the redis store is unavailable" in line]) == 1
    assert not [line for line in lines if "budget-secret-7" in line]


def hook_report(hook: Any) -> Any:
    from airflow_provider_meetings.diagnostics.check import check_connection

    return check_connection(hook)


def test_the_connection_check_names_the_backend(make_hook) -> None:
    """Step 1 names the backend; step 7 finds a Redis that cannot be reached (no password shown)."""
    hook = make_hook(rate_budget="redis", rate_budget_url="redis://:budget-secret-7@redis.invalid:6379/2")
    ok, text = hook.test_connection()
    report = hook_report(hook)
    assert not ok and report.failure is not None and report.failure.key == "rate_budget", text
    assert "Rate budget: redis (redis://:***@redis.invalid:6379/2)." in report.steps[0].message
    assert "budget-secret-7" not in text
    ok, text = make_hook().test_connection()  # the emulator's connections: off
    assert "Rate budget: off (each process paces itself)." in text
