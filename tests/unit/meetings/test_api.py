"""The onlineMeetings resource on the Graph REST client, against an in-memory mock transport."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from mock_graph_testlib import app_settings, mock_client

from airflow_provider_meetings.graph.errors import ConnectionConfigError, InvalidRequestError
from airflow_provider_meetings.graph.mock_transport import (
    MockRequest,
    MockTransport,
    graph_error_answer,
    json_answer,
)
from airflow_provider_meetings.graph.retry import RetryPolicy
from airflow_provider_meetings.graph.values import request_organizer
from airflow_provider_meetings.meetings.api import OnlineMeetingsApi, prepare_meeting
from airflow_provider_meetings.meetings.availability import CLOUDS_WITHOUT_CREATE_OR_GET
from airflow_provider_meetings.meetings.bulk import BulkPlan
from airflow_provider_meetings.meetings.organizers import OrganizerDirectory
from airflow_provider_meetings.meetings.request import CREATE_OR_GET_RESOURCE, MeetingSpec

ADELE = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
FAST = RetryPolicy(max_retries=2, max_total_wait=1, backoff_base=0.001, backoff_max=0.002)
SETTINGS = app_settings(FAST, default_user_id=ADELE)
START = "2027-01-04T08:00:00.0000000Z"


class Graph:
    """A tiny onlineMeetings service: createOrGet by external id, PATCH, DELETE (single and $batch)."""

    def __init__(self, **existing: dict[str, Any]) -> None:
        self.meetings: dict[str, dict[str, Any]] = {
            f"m-{eid}": {"id": f"m-{eid}", "externalId": eid, **fields} for eid, fields in existing.items()
        }
        self.calls: list[str] = []

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        self.calls.append(f"{method} {path.rsplit('/', 1)[-1]}")
        if path.endswith("/createOrGet"):
            meeting_id = f"m-{body['externalId']}"
            created = meeting_id not in self.meetings
            if created:
                self.meetings[meeting_id] = {"id": meeting_id, **body}
            return (201 if created else 200), self.meetings[meeting_id]
        meeting_id = path.rsplit("/", 1)[-1]
        if meeting_id not in self.meetings:
            return 404, {"error": {"code": "NotFound", "message": "no"}}
        if method == "DELETE":
            del self.meetings[meeting_id]
            return 204, None
        self.meetings[meeting_id].update(body)
        return 200, self.meetings[meeting_id]

    def __call__(self, request: MockRequest):
        if request.path.endswith("/$batch"):
            responses = []
            for item in request.json["requests"]:
                status, body = self.answer(item["method"], item["url"], item.get("body"))
                responses.append({"id": item["id"], "status": status, "body": body})
            return json_answer(200, {"responses": responses})
        status, body = self.answer(request.method, request.path, request.json)
        return json_answer(status, body) if status < 400 else graph_error_answer(status, "NotFound")


def api(graph: Graph) -> OnlineMeetingsApi:
    return OnlineMeetingsApi(mock_client(MockTransport(graph), SETTINGS), OrganizerDirectory())


def prepared(external_id: str, **kw: Any):
    return prepare_meeting(MeetingSpec(external_id, **kw), SETTINGS)


def test_sync_patches_what_differs_and_nothing_else():
    graph = Graph(ev={"subject": "old"})
    result = api(graph).sync(prepared("ev", subject="new"))
    assert (result.status, result.meeting["subject"], result.user_id) == ("updated", "new", ADELE)
    assert graph.calls == ["POST createOrGet", "PATCH m-ev"]
    assert api(graph).sync(prepared("ev", subject="new")).status == "unchanged"


def test_sync_creates_a_missing_meeting_without_a_patch():
    graph = Graph()
    assert api(graph).sync(prepared("ev", subject="s")).status == "created"
    assert graph.calls == ["POST createOrGet"]


def test_cancel_finds_then_deletes():
    graph = Graph(ev={})
    assert api(graph).cancel(prepared("ev")) is True
    assert api(graph).cancel(prepared("ev")) is False  # none left: created and deleted at once
    assert graph.meetings == {}


def test_delete_of_a_meeting_gone_already_is_false():
    assert api(Graph()).delete(prepared("ev"), "m-gone") is False


def test_bulk_creates_updates_and_deletes_in_two_batch_runs():
    graph = Graph(same={"subject": "S"}, moved={"subject": "old"}, gone={})
    items = [
        {"external_id": "new", "subject": "S"},
        {"external_id": "same", "subject": "S"},
        {"external_id": "moved", "subject": "new"},
        {"external_id": "gone", "cancelled": True},
        {"external_id": ""},
    ]
    plan = BulkPlan(
        items, prepare=lambda spec: prepare_meeting(spec, SETTINGS), update_existing=True, meeting_fields=("id",)
    )
    results = api(graph).create_update_or_delete_many(plan, max_concurrency=2, progress=None, progress_interval=5)
    assert [r.outcome for r in results] == ["created", "unchanged", "updated", "cancelled", None]
    assert [r.http_status for r in results] == [201, 200, 200, 204, None]
    assert [r.to_dict()["status"] for r in results] == ["created", "unchanged", "updated", "cancelled", None]
    assert graph.meetings["m-moved"]["subject"] == "new" and "m-gone" not in graph.meetings
    assert results[4].error is not None and results[4].attempts == 0


@pytest.mark.parametrize("user_id", [None, ""])
def test_prepare_meeting_refuses_me_for_app_only_tokens(user_id):
    settings = replace(SETTINGS, default_user_id=None)
    with pytest.raises(InvalidRequestError, match="app-only tokens cannot use /me") as caught:
        prepare_meeting(MeetingSpec("ev", user_id=user_id), settings)
    with pytest.raises(InvalidRequestError) as expected:  # the one message of every resource
        request_organizer(None, default_user_id=None, delegated=False, resource=CREATE_OR_GET_RESOURCE)
    assert str(caught.value) == str(expected.value)
    assert "/me/onlineMeetings/createOrGet" in str(caught.value)


def test_prepare_meeting_uses_me_for_delegated_tokens():
    settings = replace(app_settings(FAST, refresh_token="r"), default_user_id=None)
    assert prepare_meeting(MeetingSpec("ev"), settings).path == "me/onlineMeetings/createOrGet"


@pytest.mark.parametrize("cloud", sorted(CLOUDS_WITHOUT_CREATE_OR_GET))
def test_prepare_meeting_refuses_a_cloud_without_create_or_get(cloud):
    with pytest.raises(ConnectionConfigError, match="createOrGet is not available"):
        prepare_meeting(MeetingSpec("ev"), replace(SETTINGS, cloud=cloud))
