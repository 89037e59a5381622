"""Pure createOrGet semantics and date-time handling, without HTTP."""

from __future__ import annotations

import pytest

from meetings_emulator.config import default_users
from meetings_emulator.errors import GraphError
from meetings_emulator.meetings import (
    HOUR_TICKS,
    MeetingStore,
    format_ticks,
    now_ticks,
    parse_datetime,
)

ADELE, ALEX = default_users()[0], default_users()[1]
TENANT = "tenant"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2020-02-06T01:49:21.3524945Z", "2020-02-06T01:49:21.3524945Z", id="seven-digits"),
        pytest.param("2020-02-06T01:49:21Z", "2020-02-06T01:49:21.0000000Z", id="no-fraction"),
        pytest.param("2020-02-06T01:49:21.5+01:00", "2020-02-06T00:49:21.5000000Z", id="offset"),
        pytest.param(
            "2020-02-06T01:49:21.123456789-0530", "2020-02-06T07:19:21.1234567Z", id="nine-digits-compact-offset"
        ),
        pytest.param("2020-02-06T01:49:21", "2020-02-06T01:49:21.0000000Z", id="naive-is-utc"),
        pytest.param("2020-02-06 01:49Z", "2020-02-06T01:49:00.0000000Z", id="space-no-seconds"),
        pytest.param("2020-12-31T23:30:00-01:00", "2021-01-01T00:30:00.0000000Z", id="year-rollover"),
    ],
)
def test_parse_and_format(value: str, expected: str) -> None:
    assert format_ticks(parse_datetime(value, "startDateTime")) == expected


@pytest.mark.parametrize("value", ["", "tomorrow", "2020-13-01T00:00:00Z", "2020-02-30T00:00:00Z", 12, None])
def test_parse_rejects(value: object) -> None:
    with pytest.raises(GraphError) as raised:
        parse_datetime(value, "startDateTime")
    assert raised.value.status == 400 and raised.value.code == "BadRequest"


def test_identity_is_tenant_user_external_id() -> None:
    store = MeetingStore()
    created, first = store.create_or_get(TENANT, ADELE, {"externalId": "a", "subject": "One"})
    again, second = store.create_or_get(TENANT, ADELE, {"externalId": "a", "subject": "Two"})
    other_user, third = store.create_or_get(TENANT, ALEX, {"externalId": "a"})
    other_tenant, fourth = store.create_or_get("other", ADELE, {"externalId": "a"})
    assert (created, again, other_user, other_tenant) == (True, False, True, True)
    assert first == second and second["subject"] == "One"
    assert len({first["id"], third["id"], fourth["id"]}) == 3
    assert len(store) == 3


def test_defaults() -> None:
    store = MeetingStore()
    before = now_ticks()
    _, meeting = store.create_or_get(TENANT, ADELE, {"externalId": "d"})
    start = parse_datetime(meeting["startDateTime"], "s")
    assert before <= start <= now_ticks()
    assert parse_datetime(meeting["endDateTime"], "e") - start == HOUR_TICKS
    _, only_start = store.create_or_get(TENANT, ADELE, {"externalId": "s", "startDateTime": "2030-01-01T00:00:00Z"})
    assert only_start["endDateTime"] == "2030-01-01T01:00:00.0000000Z"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(None, id="none"),
        pytest.param({}, id="missing"),
        pytest.param({"externalId": "  "}, id="blank"),
        pytest.param({"externalId": "x", "endDateTime": "2030-01-01T00:00:00Z"}, id="end-only"),
        pytest.param(
            {"externalId": "x", "startDateTime": "2030-01-01T01:00:00Z", "endDateTime": "2030-01-01T00:00:00Z"},
            id="end-before-start",
        ),
        pytest.param({"externalId": "x", "participants": []}, id="participants-not-object"),
    ],
)
def test_validation(body: object) -> None:
    store = MeetingStore()
    with pytest.raises(GraphError) as raised:
        store.create_or_get(TENANT, ADELE, body)
    assert raised.value.status == 400
    assert len(store) == 0


def test_equal_start_and_end_are_accepted() -> None:
    # createOrGet's page names only an end earlier than the start as an error (docs/emulator.md)
    store = MeetingStore()
    same = "2030-01-01T00:00:00Z"
    _, meeting = store.create_or_get(TENANT, ADELE, {"externalId": "eq", "startDateTime": same, "endDateTime": same})
    assert meeting["startDateTime"] == meeting["endDateTime"]


def test_attendee_role_as_sent_or_null() -> None:
    # createOrGet's example answers "role": null for an attendee sent without one (docs/emulator.md)
    store = MeetingStore()
    sent = [{"upn": "a@contoso.example"}, {"upn": "b@contoso.example", "role": "presenter"}]
    _, meeting = store.create_or_get(TENANT, ADELE, {"externalId": "r", "participants": {"attendees": sent}})
    assert [a["role"] for a in meeting["participants"]["attendees"]] == [None, "presenter"]
    assert meeting["participants"]["organizer"]["role"] == "presenter"
    updated = store.update(TENANT, ADELE.id, meeting["id"], {"participants": {"attendees": sent[:1]}})
    assert updated["participants"]["attendees"] == [{"upn": "a@contoso.example", "role": None}]


def test_no_monthly_meeting_limit() -> None:
    # The throttling-limits page's "2000 meetings/user each month" is listed for meetingInfo and
    # documents no answer for exceeding it: the emulator enforces no such limit (docs/emulator.md).
    store = MeetingStore()
    created = [store.create_or_get(TENANT, ADELE, {"externalId": f"m{n}"})[0] for n in range(2001)]
    assert all(created) and len(store) == 2001


def test_get_and_find() -> None:
    store = MeetingStore()
    _, meeting = store.create_or_get(TENANT, ADELE, {"externalId": "g"})
    assert store.get(TENANT, ADELE.id, meeting["id"]) == meeting
    assert store.find_by_join_web_url(TENANT, ADELE.id, meeting["joinWebUrl"]) == [meeting]
    assert store.find_by_join_web_url(TENANT, ALEX.id, meeting["joinWebUrl"]) == []
    with pytest.raises(GraphError) as raised:
        store.get(TENANT, ALEX.id, meeting["id"])
    assert raised.value.status == 404


def test_returned_copies_do_not_alias_the_store() -> None:
    store = MeetingStore()
    _, meeting = store.create_or_get(TENANT, ADELE, {"externalId": "c", "subject": "S"})
    meeting["subject"] = "changed"
    assert store.get(TENANT, ADELE.id, meeting["id"])["subject"] == "S"
