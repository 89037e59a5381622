"""artifacts/locate.py: a meeting is named by artifact_args' rule (the operators'), the organizer by graph/'s."""

from __future__ import annotations

import datetime as dt

import pytest
from mock_graph_testlib import app_settings

from airflow_provider_meetings.artifact_args import (
    MEETING_KEYS,
    ArgumentError,
    describe_reference,
    meeting_reference,
)
from airflow_provider_meetings.artifacts.locate import (
    MEETINGS_RESOURCE,
    MeetingRef,
    prepare_meeting_ref,
)
from airflow_provider_meetings.artifacts.sessions import SessionWindow
from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.graph.values import request_organizer

USER = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
JOIN_URL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_" + "a" * 120 + "%40thread.v2/0"


def settings(**extra):
    return app_settings(default_user_id=USER, **extra)


def test_the_keys_are_artifact_args() -> None:
    assert MEETING_KEYS == ("meeting_id", "join_url", "external_id")


@pytest.mark.parametrize(
    ("named", "expected"),
    [
        ({"meeting_id": "", "join_url": JOIN_URL}, MeetingRef(USER, join_url=JOIN_URL)),
        ({"meeting_id": "m-1", "join_url": "", "external_id": "  "}, MeetingRef(USER, meeting_id="m-1")),
        ({"meeting_id": " m-1 "}, MeetingRef(USER, meeting_id="m-1")),
    ],
    ids=["empty id beside a URL", "empty URL and blank external id", "stripped"],
)
def test_an_empty_value_is_not_given_as_for_the_operators(named, expected) -> None:
    """Templated fields render unset values as "": the hook now reads them as the sensor does."""
    assert prepare_meeting_ref(settings(), **named) == expected


@pytest.mark.parametrize(
    "named",
    [{}, {"meeting_id": ""}, {"join_url": "  ", "user_id": USER}, {"meeting_id": "m", "join_url": JOIN_URL}],
    ids=["nothing", "only empty", "only blank", "two"],
)
def test_not_exactly_one_is_the_operators_refusal(named) -> None:
    with pytest.raises(ArgumentError) as operators:
        meeting_reference(**named)
    with pytest.raises(InvalidRequestError) as caught:
        prepare_meeting_ref(settings(), **named)
    assert caught.value.field == "meeting"
    assert str(caught.value) == f"meeting: {operators.value}"
    assert "exactly one of meeting_id, join_url or external_id" in str(caught.value)


@pytest.mark.parametrize("name", ["meeting_id", "join_url", "external_id", "user_id"])
def test_a_value_that_is_not_text_names_its_argument(name) -> None:
    named = {name: 5} if name != "user_id" else {"meeting_id": "m", "user_id": 5}
    with pytest.raises(InvalidRequestError) as caught:
        prepare_meeting_ref(settings(), **named)
    assert caught.value.field == name
    assert str(caught.value) == f"{name}: must be text, got int: 5"


def test_an_empty_organizer_is_the_connections_default() -> None:
    """``user_id=""`` skipped the default before and failed as no Entra id."""
    assert prepare_meeting_ref(settings(), user_id="", meeting_id="m").user_id == USER
    assert prepare_meeting_ref(settings(), user_id="", external_id="e-1").event_lookup.user_id == USER


def test_an_app_only_connection_without_organizer_gets_the_one_message() -> None:
    with pytest.raises(InvalidRequestError) as expected:
        request_organizer(None, default_user_id=None, delegated=False, resource=MEETINGS_RESOURCE)
    with pytest.raises(InvalidRequestError) as caught:
        prepare_meeting_ref(app_settings(), user_id="", meeting_id="m")
    assert str(caught.value) == str(expected.value)
    assert "/me/onlineMeetings" in str(caught.value)


def test_a_delegated_connection_without_organizer_uses_me() -> None:
    ref = prepare_meeting_ref(app_settings(refresh_token="r"), meeting_id="m")
    assert ref.user_id is None


def test_a_long_join_url_is_shown_as_the_sensor_logs_it() -> None:
    ref = prepare_meeting_ref(settings(), join_url=JOIN_URL)
    assert len(JOIN_URL) > 80
    assert ref.named == describe_reference({"join_url": JOIN_URL})
    assert ref.named.endswith("...") and len(ref.named) == len("join_url=") + 80


# -- not_before: which sessions count ---------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        "2026-12-07T09:00:00Z",
        "2026-12-07T10:00:00+01:00",
        " 2026-12-07T09:00:00.0000000Z ",
        dt.datetime(2026, 12, 7, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    ],
)
def test_not_before_is_one_utc_instant_whatever_its_form(given) -> None:
    ref = prepare_meeting_ref(settings(), meeting_id="m-1", not_before=given)
    assert ref.sessions.not_before == dt.datetime(2026, 12, 7, 9, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_an_empty_not_before_is_every_session(empty) -> None:
    assert (
        prepare_meeting_ref(settings(), join_url=JOIN_URL, not_before=empty, before=empty).sessions == SessionWindow()
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-12-07T09:00:00", "has no timezone"),
        ("last monday", "is not an ISO-8601 datetime"),
        (1765098000, "must be text"),
        (dt.datetime(2026, 12, 7, 9), "naive datetime"),
    ],
    ids=["no offset", "not a datetime", "a number", "naive datetime"],
)
def test_a_bad_not_before_is_refused_before_any_request(value, message) -> None:
    with pytest.raises(InvalidRequestError, match=message) as caught:
        prepare_meeting_ref(settings(), meeting_id="m-1", not_before=value)
    assert caught.value.field == "not_before"


def test_not_before_stays_text_in_the_reference_trigger_kwargs_hold() -> None:
    reference = meeting_reference(join_url=JOIN_URL, not_before=dt.datetime(2026, 12, 7, 9, tzinfo=dt.timezone.utc))
    assert reference["not_before"] == "2026-12-07T09:00:00+00:00"
    assert "not_before=2026-12-07T09:00:00+00:00" in describe_reference(reference)
    assert "not_before" not in meeting_reference(join_url=JOIN_URL, not_before="  ")


def test_before_closes_the_window() -> None:
    ref = prepare_meeting_ref(
        settings(), meeting_id="m-1", not_before="2026-12-07T08:30:00Z", before="2026-12-14T09:30:00+01:00"
    )
    utc = dt.timezone.utc
    assert ref.sessions == SessionWindow(
        dt.datetime(2026, 12, 7, 8, 30, tzinfo=utc), dt.datetime(2026, 12, 14, 8, 30, tzinfo=utc)
    )
    assert prepare_meeting_ref(settings(), meeting_id="m-1", before="2026-12-14T08:30:00Z").sessions.not_before is None


@pytest.mark.parametrize(
    ("not_before", "before"),
    [("2026-12-07T09:00:00Z", "2026-12-07T09:00:00Z"), ("2026-12-07T09:00:00Z", "2026-12-07T09:30:00+01:00")],
    ids=["equal", "earlier in another zone"],
)
def test_a_before_not_later_than_not_before_is_refused(not_before, before) -> None:
    with pytest.raises(InvalidRequestError, match="is not later than not_before") as caught:
        prepare_meeting_ref(settings(), meeting_id="m-1", not_before=not_before, before=before)
    assert caught.value.field == "before"


def test_a_naive_or_unreadable_before_names_before() -> None:
    for value, message in ((dt.datetime(2026, 12, 7), "naive datetime"), ("next week", "not an ISO-8601")):
        with pytest.raises(InvalidRequestError, match=message) as caught:
            prepare_meeting_ref(settings(), meeting_id="m-1", before=value)
        assert caught.value.field == "before"


def test_a_misspelt_keyword_names_prepare_meeting_ref() -> None:
    with pytest.raises(TypeError, match=r"^prepare_meeting_ref\(\) got an unexpected keyword argument 'befor'$"):
        prepare_meeting_ref(settings(), meeting_id="m-1", befor="2026-12-14T08:30:00Z")
