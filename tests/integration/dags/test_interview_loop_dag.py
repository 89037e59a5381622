"""The interview-loop sample DAG through real Airflow (``airflow dags test``), real MSAL
and HTTPS, against the emulator's calendar events: one event per interview with the
candidate and the panel invited, nothing new on a rerun, a moved interview is one PATCH,
a cancelled one is cancelled with its comment."""

from __future__ import annotations

from typing import Any

import pytest

from meetings_emulator.event_times import from_utc_ticks

# whole sample DAGs and the docs' commands: make test-slow (part of make e2e in CI), not make test
pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAG_ID = "teams_interview_loop"
RUN_DATE = "2026-12-07T06:00:00+00:00"  # 07:00 Europe/Berlin, the cron tick
ADELE = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
KEYS = ("de-4711-tech", "de-4712-tech", "ml-0815-final")


def utc_instant(event: dict[str, Any], name: str) -> str:
    """An event's start or end as a UTC instant (the emulator keeps UTC ticks)."""
    return from_utc_ticks(event[f"{name}_ticks"], "UTC")["dateTime"][:19]


def external_id(event: dict[str, Any]) -> str:
    (value,) = [p["value"] for p in event["event"]["singleValueExtendedProperties"] if p["id"].endswith("ExternalId")]
    return value


def stored(emulator: Any, state: str = "active") -> dict[str, dict[str, Any]]:
    """The emulator's events of this DAG in one state, by interview key."""
    prefix = DAG_ID + "-"
    return {
        external_id(e)[len(prefix) :]: e
        for e in emulator.events()
        if e["state"] == state and external_id(e).startswith(prefix)
    }


def attendees(event: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["emailAddress"]["address"], a["type"]) for a in event["event"]["attendees"]]


def route(emulator: Any, name: str) -> dict[str, int]:
    return emulator.stats()["by_route"].get(name, {})


@pytest.fixture(scope="module")
def first_run(sample_airflow: Any, graph_emulator: Any) -> Any:
    sample_airflow.dags_test(DAG_ID, RUN_DATE)
    return sample_airflow


def test_one_event_per_interview_with_the_candidate_and_the_panel(first_run: Any, graph_emulator: Any) -> None:
    events = stored(graph_emulator)
    assert set(events) == set(KEYS)
    ada = events["de-4711-tech"]
    assert ada["user_id"] == ADELE
    assert ada["event"]["subject"] == "Interview: Ada Lovelace (Senior data engineer)"
    assert attendees(ada) == [
        ("ada@example.org", "required"),
        ("alexw@contoso.example", "required"),
        ("meganb@contoso.example", "required"),
        ("lynner@contoso.example", "optional"),
    ]
    assert ada["event"]["isOnlineMeeting"] is True
    assert ada["event"]["onlineMeeting"]["joinUrl"].startswith("https://teams.microsoft.com/")
    assert ada["event"]["originalStartTimeZone"] == "Europe/Berlin"  # the DAG's time_zone param
    assert ada["event"]["allowNewTimeProposals"] is False  # an interview's time is not up for proposals
    assert ada["event"]["categories"] == ["Interviews"]
    assert (utc_instant(ada, "start"), utc_instant(ada, "end")) == ("2026-12-07T09:00:00", "2026-12-07T10:00:00")
    assert route(graph_emulator, "createEvent") == {"201": len(KEYS)}


def test_a_rerun_books_nothing_new(first_run: Any, graph_emulator: Any) -> None:
    before = {key: e["event"]["id"] for key, e in stored(graph_emulator).items()}
    created, updated = route(graph_emulator, "createEvent"), route(graph_emulator, "updateEvent")
    first_run.dags_test(DAG_ID, RUN_DATE)
    assert {key: e["event"]["id"] for key, e in stored(graph_emulator).items()} == before
    assert route(graph_emulator, "createEvent") == created
    assert route(graph_emulator, "updateEvent") == updated == {}


def test_a_moved_interview_is_one_patch_and_a_cancelled_one_is_cancelled_with_its_comment(
    first_run: Any, graph_emulator: Any, edited_sample_data: Any
) -> None:
    edited = edited_sample_data(
        "interviews.csv",
        {
            "2026-12-07T14:00:00+01:00,2026-12-07T15:00:00+01:00": "2026-12-07T16:00:00+01:00,2026-12-07T17:00:00+01:00",
            "alexw@contoso.example,,\n": "alexw@contoso.example,cancelled,The position has been filled.\n",
        },
    )
    text = edited.read_text()
    assert text.count("cancelled") == 1 and "T16:00:00+01:00" in text
    before = stored(graph_emulator)
    patched = route(graph_emulator, "updateEvent").get("200", 0)

    first_run.dags_test(DAG_ID, RUN_DATE, schedule_file=str(edited))

    after = stored(graph_emulator)
    assert set(after) == {"de-4711-tech", "de-4712-tech"}
    moved = after["de-4712-tech"]
    assert moved["event"]["id"] == before["de-4712-tech"]["event"]["id"]
    assert (utc_instant(moved, "start"), utc_instant(moved, "end")) == ("2026-12-07T15:00:00", "2026-12-07T16:00:00")
    assert attendees(moved) == attendees(before["de-4712-tech"])  # the same attendees receive the update
    assert moved["event"]["onlineMeeting"] == before["de-4712-tech"]["event"]["onlineMeeting"]  # same Teams link
    assert route(graph_emulator, "updateEvent").get("200", 0) == patched + 1
    (cancelled,) = stored(graph_emulator, "cancelled").values()
    assert external_id(cancelled) == f"{DAG_ID}-ml-0815-final"
    assert cancelled["cancel_comment"] == "The position has been filled."

    first_run.dags_test(DAG_ID, RUN_DATE, schedule_file=str(edited))  # the same file again: nothing more

    assert stored(graph_emulator) == after
    assert len(stored(graph_emulator, "cancelled")) == 1
    assert route(graph_emulator, "updateEvent").get("200", 0) == patched + 1
    assert route(graph_emulator, "cancelEvent").get("202", 0) == 1
