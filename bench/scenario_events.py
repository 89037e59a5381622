"""Benchmark scenario 6: bulk calendar events under Outlook's per-mailbox concurrency limit.

Outlook allows 4 concurrent requests per app and mailbox
(https://learn.microsoft.com/graph/throttling-limits, "Outlook service limits"), and the
items of a ``$batch`` count against it. With the emulator's latency ``L`` added to every
request, one mailbox therefore serves at most ``4 / L`` requests per second: the *ceiling*.
``create_or_get_events`` needs one request per event to find it by its external id and one
more to create it, so a first run books at most ``4 / L / 2`` events per second for one
organizer; a rerun (every event found) needs one request per event. Ten organizers are ten
mailboxes: ten times the ceiling.

The request counts come from the emulator's counters (``by_route``), so the fraction of the
ceiling is measured, not derived from an assumed number of requests per event.
"""

from __future__ import annotations

import datetime
import time
import zoneinfo
from collections import Counter
from typing import Any

#: The routes of a mailbox's calendar (``stats()["by_route"]`` keys), each request one slot.
EVENT_ROUTES = ("listEvents", "createEvent", "getEvent", "updateEvent", "cancelEvent", "deleteEvent", "getCalendar")
#: Outlook's concurrent requests per app and mailbox (throttling-limits).
MAILBOX_CONCURRENCY = 4
#: The first interview; one every 30 minutes after it.
START = datetime.datetime(2030, 3, 4, 9, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))


def organizers(emulator: Any, count: int) -> list[str]:
    """``count`` organizers: the emulator's seed organizer, then users added for the run."""
    from meetings_emulator.config import ORGANIZER_ID

    users = [ORGANIZER_ID]
    for n in range(1, count):
        user = f"0e7b1c2d-0000-4000-8000-0000000b{n:04d}"
        emulator.add_user(user, f"bench-organizer{n}@contoso.example", f"Bench organizer {n}")
        users.append(user)
    return users


def items(users: list[str], per_organizer: int) -> list[dict[str, Any]]:
    """``per_organizer`` interviews for each organizer, interleaved, each with a candidate invited."""
    out = []
    for i in range(per_organizer * len(users)):
        # Step in UTC, shown in Berlin time: wall-clock steps would land in the hour that
        # daylight saving skips, which the client rightly refuses.
        start = (START.astimezone(datetime.timezone.utc) + datetime.timedelta(minutes=30 * i)).astimezone(START.tzinfo)
        out.append(
            {
                "external_id": f"bench-interview-{i}",
                "subject": f"Interview {i}",
                "start": start,
                "end": start + datetime.timedelta(minutes=30),
                "user_id": users[i % len(users)],
                "attendees": [
                    f"candidate{i}@contoso.example",
                    {"address": "panel@contoso.example", "type": "optional"},
                ],
            }
        )
    return out


def mailbox_requests(stats: dict[str, Any]) -> int:
    """Requests (batch items included) that reached a mailbox's calendar routes."""
    by_route = stats.get("by_route", {})
    return sum(sum(by_route.get(route, {}).values()) for route in EVENT_ROUTES)


def duplicates(emulator: Any) -> tuple[int, int]:
    """(events stored, events stored more than once for the same organizer and external id)."""
    stored = emulator.events()
    keys = Counter(
        (e["user_id"], tuple(p.get("value") for p in e["event"].get("singleValueExtendedProperties") or []))
        for e in stored
    )
    return len(stored), sum(c - 1 for c in keys.values())


def timed_call(emulator: Any, conn_id: str, specs: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``create_or_get_events`` call with a fresh hook, and what the emulator saw of it."""
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    before = emulator.stats()  # counters run on through a case: the call's are differences
    hook = OnlineMeetingsHook(conn_id)
    start = time.perf_counter()
    results = hook.create_or_get_events(specs)
    elapsed = time.perf_counter() - start
    hook.close()
    stats = emulator.stats()
    stored, dups = duplicates(emulator)
    return {
        "n": len(specs),
        "seconds": elapsed,
        "rate": len(specs) / elapsed,
        "requests": mailbox_requests(stats) - mailbox_requests(before),
        "failures": sum(not r.ok for r in results),
        "first_error": next((f"{r.external_id}: {r.error}" for r in results if not r.ok), ""),
        "statuses": dict(Counter(r.status for r in results)),
        "created": stats["events_created"] - before["events_created"],
        "throttled": stats["throttled"] - before["throttled"],
        "peak": max(stats["mailbox_peaks"].values(), default=0),
        "stored": stored,
        "duplicates": dups,
    }


def run_events(emulator: Any, conn_id: str, latency_ms: float, per_organizer: int, many: int) -> dict[str, Any]:
    """One organizer, then ``many`` organizers: a first run and a rerun each.

    :param emulator: a started emulator (its own process)
    :param conn_id: the Airflow connection the hooks use
    :param latency_ms: latency added to every Graph request
    :param per_organizer: events per organizer
    :param many: organizers of the second case
    """
    out: dict[str, Any] = {"latency_ms": latency_ms, "per_organizer": per_organizer, "cases": {}}
    for count in (1, many):
        emulator.reset(users=True)
        emulator.set_latency(latency_ms)
        # Outlook's limit; no Retry-After on its 429 (not documented either way, docs/emulator.md).
        emulator.set_mailbox_concurrency(MAILBOX_CONCURRENCY, retry_after=None)
        users = organizers(emulator, count)
        specs = items(users, per_organizer)
        first = timed_call(emulator, conn_id, specs)
        rerun = timed_call(emulator, conn_id, specs)
        out["cases"][count] = {"first": first, "rerun": rerun}
    return out


def render_events(results: dict[str, Any]) -> tuple[list[str], list[tuple[str, bool, str]]]:
    """The scenario-6 table (markdown lines) and its targets."""
    latency = results["latency_ms"] / 1000.0
    ceiling = MAILBOX_CONCURRENCY / latency  # requests per second per mailbox
    cases = results["cases"]
    one, many = min(cases), max(cases)
    lines = [
        f"**6. Calendar events**, `create_or_get_events` of {results['per_organizer']} events per organizer "
        f"(each with a candidate and a panel invited), {results['latency_ms']:.0f} ms added to every Graph request, "
        f"Outlook's limit of {MAILBOX_CONCURRENCY} concurrent requests per mailbox on (`set_mailbox_concurrency(4)`). "
        f"Ceiling: {MAILBOX_CONCURRENCY} / {results['latency_ms']:.0f} ms = {ceiling:.0f} requests/s per mailbox; "
        "requests are the batch items that reached the calendar routes (emulator's counters): a first run finds "
        "then creates (2 per event), a rerun only finds (1).",
        "",
        "| organizers | run | events | seconds | events/s | mailbox requests | requests/s | fraction of the "
        "ceiling | vs one organizer | created | peak slots held | 429s | duplicates | failures |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    fractions: dict[tuple[int, str], float] = {}
    for count in (one, many):
        for run in ("first", "rerun"):
            row = cases[count][run]
            req_rate = row["requests"] / row["seconds"]
            fraction = req_rate / (ceiling * count)
            fractions[(count, run)] = fraction
            versus = row["rate"] / cases[one][run]["rate"]
            lines.append(
                f"| {count} | {'first run' if run == 'first' else 'rerun'} | {row['n']} | {row['seconds']:.1f} | "
                f"{row['rate']:.1f} | {row['requests']} | {req_rate:.1f} | {fraction:.0%} of {ceiling * count:.0f}/s | "
                f"{versus:.1f}x | {row['created']} | {row['peak']} | {row['throttled']} | {row['duplicates']} | "
                f"{row['failures']} |"
            )
    errors = [cases[c][r]["first_error"] for c in cases for r in ("first", "rerun") if cases[c][r]["first_error"]]
    if errors:
        lines += ["", "First item errors: " + "; ".join(f"`{e}`" for e in errors)]
    ratio = cases[many]["first"]["rate"] / cases[one]["first"]["rate"]
    clean = all(
        cases[c][r]["failures"] == 0 and cases[c][r]["duplicates"] == 0 and cases[c][r]["peak"] <= MAILBOX_CONCURRENCY
        for c in cases
        for r in ("first", "rerun")
    )
    targets = [
        (
            f"events, 1 organizer: >= 90% of {MAILBOX_CONCURRENCY} concurrent requests at {results['latency_ms']:.0f} ms",
            fractions[(one, "first")] >= 0.9,
            f"{fractions[(one, 'first')]:.0%} ({cases[one]['first']['rate']:.1f} events/s)",
        ),
        (
            f"events, {many} organizers: >= 90% of {many}x that ceiling (about {many}x one organizer)",
            fractions[(many, "first")] >= 0.9,
            f"{fractions[(many, 'first')]:.0%}, {ratio:.1f}x one organizer",
        ),
        (
            "events: 0 item errors, no duplicates, at most 4 concurrent per mailbox",
            clean,
            ", ".join(
                f"{c} org: {cases[c]['first']['failures'] + cases[c]['rerun']['failures']} errors, "
                f"peak {max(cases[c]['first']['peak'], cases[c]['rerun']['peak'])}"
                for c in cases
            ),
        ),
        (
            "events: a rerun creates none",
            all(cases[c]["rerun"]["created"] == 0 for c in cases),
            " / ".join(str(cases[c]["rerun"]["created"]) for c in cases),
        ),
    ]
    return lines, targets
