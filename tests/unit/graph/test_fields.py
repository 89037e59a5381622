"""``ResourceField``: a field of the Graph JSON a result holds, read as an attribute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_meetings.events.results import EventBulkItemResult, EventResult
from airflow_provider_meetings.graph.fields import ResourceField
from airflow_provider_meetings.meetings.results import BulkItemResult, MeetingResult


@dataclass(frozen=True)
class Holder:
    resource: Any

    name = ResourceField("resource", "displayName", "The display name.")


def test_a_field_reads_the_resource_as_graph_spells_it() -> None:
    assert Holder({"displayName": "Ana"}).name == "Ana"
    assert Holder({"displayname": "Ana"}).name is None  # Graph's spelling only


def test_no_resource_or_no_field_is_none() -> None:
    assert Holder(None).name is None
    assert Holder({}).name is None


def test_on_the_class_it_is_the_field_with_its_doc() -> None:
    assert isinstance(Holder.name, ResourceField)
    assert Holder.name.__doc__ == "The display name."


def test_the_results_name_graph_fields() -> None:
    meeting = {"id": "m1", "joinWebUrl": "https://teams.microsoft.com/l/x"}
    assert (MeetingResult(meeting, True).meeting_id, MeetingResult(meeting, True).join_url) == (
        "m1",
        "https://teams.microsoft.com/l/x",
    )
    event = EventResult({"id": "e1", "iCalUId": "u1", "webLink": "https://o/x"}, True, "created")
    assert (event.event_id, event.ical_uid, event.web_link) == ("e1", "u1", "https://o/x")
    failed = BulkItemResult(0, "k", None, error=ValueError("x"))
    assert (failed.meeting_id, failed.join_url, failed.ok) == (None, None, False)
    assert EventBulkItemResult(1, "k", None, event={"id": "e2"}, status="created").event_id == "e2"
