"""``OnlineMeetingsHook.create_or_get_meetings`` against the HTTPS emulator (real MSAL, requests)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidRequestError

pytestmark = pytest.mark.integration


@pytest.fixture
def emu(graph_emulator: Any, make_hook: Any) -> Iterator[Any]:
    """The session emulator, reset (by ``make_hook``) and 5 ms slower per request; reset again after."""
    graph_emulator.set_latency(5)
    yield graph_emulator
    graph_emulator.reset()


@pytest.fixture
def hook(emu: Any, make_hook: Any) -> Any:
    return make_hook(max_retry_wait=30)


def specs(n: int, prefix: str = "bulk") -> list[dict[str, Any]]:
    return [{"external_id": f"{prefix}-{i}", "subject": f"Bulk {i}"} for i in range(n)]


def stored_counts(emu: Any) -> Counter[tuple[str, str]]:
    return Counter((m["user_id"], m["external_id"]) for m in emu.meetings())


def test_more_than_20_items_span_several_batches_in_input_order(emu: Any, hook: Any) -> None:
    # The first item's batch answers last (batches complete out of order), and every
    # batch lists its answers in reverse (Graph answers in any order).
    emu.script("slow", seconds=0.5, match="createOrGet", times=1)
    emu.set_batch_order("reverse")
    results = hook.create_or_get_meetings(specs(45), max_concurrency=3)
    assert [r.external_id for r in results] == [f"bulk-{i}" for i in range(45)]
    assert [r.index for r in results] == list(range(45))
    assert all(r.ok and r.created for r in results)
    stats = emu.stats()
    assert stats["batches"] == 3 and stats["batch_items"] == 45
    assert stats["token_requests"] == 1
    meetings = {m["external_id"]: m["meeting"] for m in emu.meetings()}
    for r in results:
        assert r.meeting_id == meetings[r.external_id]["id"]
        assert r.join_url == meetings[r.external_id]["joinWebUrl"]
    json.dumps([r.to_dict() for r in results])


def test_partial_failure_forbidden_user_and_invalid_item(emu: Any, hook: Any) -> None:
    nopolicy = emu.user("nopolicy")["id"]
    items = specs(6)
    items[2] = {"external_id": "bulk-2", "user_id": nopolicy}
    items[4] = {"external_id": "bulk-4", "start_date_time": "2026-12-07T09:00:00"}  # naive
    items.append({"external_id": "bulk-1", "subject": "again"})  # duplicate of item 1
    results = hook.create_or_get_meetings(items)
    assert [r.ok for r in results] == [True, True, False, True, False, True, False]
    assert isinstance(results[2].error, GraphAPIError) and results[2].error.status == 403
    assert nopolicy in str(results[2].error) and results[2].permanent
    assert isinstance(results[4].error, InvalidRequestError)
    assert str(results[4].error).startswith("meetings[4].start_date_time")
    assert str(results[6].error).startswith("meetings[6].external_id duplicates meetings[1]")
    assert results[4].attempts == 0 and results[6].attempts == 0
    counts = stored_counts(emu)
    assert sum(counts.values()) == 4 and set(counts.values()) == {1}
    assert emu.stats()["batch_items"] == 5  # the invalid item and the duplicate were not sent


def test_rate_limited_emulator_is_retried_to_success(emu: Any, hook: Any) -> None:
    emu.set_rate_limit(20, retry_after=1)
    results = hook.create_or_get_meetings(specs(50), max_concurrency=4)
    assert all(r.ok for r in results)
    stats = emu.stats()
    assert stats["throttled"] > 0
    assert sum(stored_counts(emu).values()) == 50
    assert max(r.attempts for r in results) > 1


def test_scripted_item_429_and_503_are_retried(emu: Any, hook: Any) -> None:
    emu.script({"status": 429, "retry_after": "0"}, match="createOrGet", times=3)
    emu.script({"status": 503}, match="createOrGet", times=1)
    results = hook.create_or_get_meetings(specs(10))
    assert all(r.ok and r.created for r in results)
    assert sum(r.attempts for r in results) == 14
    assert emu.pending_faults() == []


def test_expired_token_gets_one_refresh(emu: Any, hook: Any) -> None:
    hook.create_or_get_meetings(specs(2, "warm"))
    emu.expire_tokens()
    results = hook.create_or_get_meetings(specs(5))
    assert all(r.ok for r in results)
    assert emu.stats()["token_requests"] == 2


def test_rerun_returns_existing_meetings_once_each(emu: Any, hook: Any) -> None:
    first = hook.create_or_get_meetings(specs(25))
    second = hook.create_or_get_meetings(specs(25))
    assert all(r.created for r in first)
    assert [r.created for r in second] == [False] * 25
    assert [r.meeting_id for r in second] == [r.meeting_id for r in first]
    counts = stored_counts(emu)
    assert len(counts) == 25 and set(counts.values()) == {1}


def test_meeting_fields_choose_what_is_kept(emu: Any, hook: Any) -> None:
    (result,) = hook.create_or_get_meetings(specs(1), meeting_fields=("id", "subject"))
    assert set(result.meeting) == {"id", "subject"}
    (full,) = hook.create_or_get_meetings(specs(1), meeting_fields=None)
    assert "joinMeetingIdSettings" in full.meeting and "passcode" not in json.dumps(full.to_dict())


@pytest.mark.parametrize("bad", [0, 33, "4"])
def test_max_concurrency_is_checked(hook: Any, bad: Any) -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        hook.create_or_get_meetings(specs(1), max_concurrency=bad)
