from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pendulum
import pytest

from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.graph.values import (
    MAX_EXTERNAL_ID_LENGTH,
    format_graph_datetime,
    to_utc,
    user_path,
    validate_external_id,
    validate_user_id,
)
from airflow_provider_meetings.meetings.request import (
    MeetingSpec,
    build_create_or_get_body,
    normalize_participants,
    prepare_request,
)

GUID = "a1b2c3d4-0000-4000-8000-0123456789ab"
UTC = timezone.utc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-11-28T09:00:00Z", datetime(2026, 11, 28, 9, tzinfo=UTC), id="zulu"),
        pytest.param("2026-11-28T10:00:00+01:00", datetime(2026, 11, 28, 9, tzinfo=UTC), id="offset"),
        pytest.param("2026-11-28 04:30:00-04:30", datetime(2026, 11, 28, 9, tzinfo=UTC), id="space-separator"),
        pytest.param(
            "2020-02-06T01:49:21.3524945Z", datetime(2020, 2, 6, 1, 49, 21, 352494, tzinfo=UTC), id="graph-7-digits"
        ),
        pytest.param(
            datetime(2026, 11, 28, 10, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 11, 28, 9, tzinfo=UTC),
            id="aware-datetime",
        ),
        pytest.param(
            pendulum.datetime(2026, 7, 1, 11, tz="Europe/Paris"), datetime(2026, 7, 1, 9, tzinfo=UTC), id="pendulum-dst"
        ),
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty-string-is-absent"),
    ],
)
def test_to_utc_converts(value, expected):
    assert to_utc(value, field_name="start_date_time") == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("2026-11-28T09:00:00", "has no timezone", id="naive-string"),
        pytest.param(datetime(2026, 11, 28, 9), "naive datetime", id="naive-datetime"),
        pytest.param("next tuesday", "not an ISO-8601 datetime", id="unparseable"),
        pytest.param("2026-13-01T00:00:00Z", "not an ISO-8601 datetime", id="bad-month"),
        pytest.param(date(2026, 11, 28), "date without a time", id="date"),
        pytest.param(1764320400, "must be a datetime", id="epoch-int"),
    ],
)
def test_to_utc_refuses(value, fragment):
    with pytest.raises(InvalidRequestError, match=fragment) as info:
        to_utc(value, field_name="start_date_time")
    assert info.value.field == "start_date_time"
    assert str(info.value).startswith("start_date_time: ")


def test_format_graph_datetime_is_utc_with_seven_digits():
    value = datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert format_graph_datetime(value) == "2026-11-28T09:00:00.1234560Z"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("", "is empty", id="empty"),
        pytest.param("   ", "is empty", id="blank"),
        pytest.param(None, "must be a string", id="none"),
        pytest.param(42, "must be a string", id="int"),
        pytest.param("a\nb", "control characters", id="newline"),
    ],
)
def test_external_id_refused(value, fragment):
    with pytest.raises(InvalidRequestError, match=fragment):
        validate_external_id(value)


@pytest.mark.parametrize("value", [GUID, GUID.upper(), "adele.vance@contoso.com", "o'brien@sub.contoso.co.uk"])
def test_user_id_accepted(value):
    assert validate_user_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("../me", id="dotdot"),
        pytest.param("a/b@contoso.com", id="slash"),
        pytest.param("adele@contoso.com?$select=id", id="query"),
        pytest.param("adele@contoso.com#x", id="fragment"),
        pytest.param("adele%2F..@contoso.com", id="percent-encoded-slash"),
        pytest.param("adele vance@contoso.com", id="space"),
        pytest.param(" adele@contoso.com", id="leading-space"),
        pytest.param("adele..vance@contoso.com", id="double-dot"),
        pytest.param("adele", id="plain-name"),
        pytest.param("adele@contoso.com\n", id="trailing-newline"),
        pytest.param(GUID + "\n", id="guid-trailing-newline"),
        pytest.param("a1b2c3d4-0000-4000-8000-0123456789", id="short-guid"),
        pytest.param("", id="empty"),
        pytest.param(123, id="int"),
    ],
)
def test_user_id_refused(value):
    with pytest.raises(InvalidRequestError) as info:
        validate_user_id(value)
    assert info.value.field == "user_id"


# -- missing values, length, guest organizers ------------------------------------------------

GUEST = "jane_example.org#EXT#@contoso.onmicrosoft.com"
NONE_WORD = "contains None as a whole word: a template probably rendered a missing value; check what the template reads"
EMPTY_PART = "has an empty part (it starts or ends with a separator, or has two in a row)"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("bad_inputs-None", NONE_WORD, id="conf-get-rendered-None"),
        pytest.param("None", NONE_WORD, id="only-None"),
        pytest.param("None-3", NONE_WORD, id="leading-None"),
        pytest.param("a/None/b", NONE_WORD, id="None-between-slashes"),
        pytest.param("dag.None", NONE_WORD, id="None-after-dot"),
        pytest.param("dag_None_2026", NONE_WORD, id="None-between-underscores"),
        pytest.param("dag-", EMPTY_PART, id="trailing-separator"),
        pytest.param("dag--2026-01-01", EMPTY_PART, id="double-separator"),
        pytest.param("-2026-01-01", EMPTY_PART, id="leading-separator"),
        pytest.param("dag-/2026", EMPTY_PART, id="two-different-separators"),
        pytest.param(" dag-2026", EMPTY_PART, id="leading-space"),
        pytest.param("dag-2026 ", EMPTY_PART, id="trailing-space"),
        pytest.param("x" * (MAX_EXTERNAL_ID_LENGTH + 1), "is 257 characters long", id="257-characters"),
        pytest.param("x" * 3000, "is 3,000 characters long", id="3000-characters"),
    ],
)
def test_external_id_with_a_missing_value_or_too_long_is_refused(value, fragment):
    with pytest.raises(InvalidRequestError) as info:
        validate_external_id(value)
    assert info.value.field == "external_id"
    assert fragment in str(info.value)
    if "characters long" not in fragment:
        assert repr(value) in str(info.value)  # the rendered value is shown
        assert "dag_run.conf" in str(info.value)  # and what to check


def test_the_length_error_says_the_limit_is_the_providers_own():
    with pytest.raises(InvalidRequestError) as info:
        validate_external_id("k" * 300)
    assert str(info.value) == (
        "external_id: is 300 characters long ('kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'...); external ids may "
        "have at most 256 (the provider's own limit: Graph documents none). Use a shorter stable key, such "
        "as the DAG id and an event key or a hash of the long part"
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("x" * MAX_EXTERNAL_ID_LENGTH, id="256-characters"),
        pytest.param("Nonesuch", id="None-inside-a-word"),
        pytest.param("dag-NoneX-1", id="None-prefix-of-a-segment"),
        pytest.param("dag-xNone", id="None-suffix-of-a-segment"),
        pytest.param("none-2026", id="lower-case-none"),
        pytest.param("teams_weekly_office_hour-20261207T070000Z", id="weekly"),
        pytest.param("daily-2026-11-28T09:00:00+00:00", id="ts"),
        pytest.param("teams_meetings_from_events-interview-4711", id="event-key"),
        pytest.param("a", id="one-character"),
    ],
)
def test_external_id_accepted(value):
    assert validate_external_id(value) == value


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        pytest.param({"subject": "Interview with None"}, "subject", NONE_WORD, id="subject-None"),
        pytest.param(
            {"participants": {"attendees": ["None@contoso.com"]}},
            "participants.attendees[0]",
            NONE_WORD,
            id="attendee-None",
        ),
        pytest.param(
            {"participants": {"attendees": ["None"]}}, "participants.attendees[0]", NONE_WORD, id="attendee-only-None"
        ),
        pytest.param(
            {"participants": {"attendees": ["alex-@contoso.com"]}},
            "participants.attendees[0]",
            EMPTY_PART,
            id="attendee-empty-part",
        ),
        pytest.param(
            {"participants": {"attendees": [{"upn": "None"}]}},
            "participants.attendees[0].upn",
            NONE_WORD,
            id="attendee-upn-None",
        ),
        pytest.param(
            {"participants": {"organizer": {"upn": "x.None@contoso.com"}}},
            "participants.organizer.upn",
            NONE_WORD,
            id="organizer-upn-None",
        ),
    ],
)
def test_other_fields_with_a_missing_value_are_refused(kwargs, field, fragment):
    with pytest.raises(InvalidRequestError) as info:
        build_create_or_get_body(MeetingSpec("x", **kwargs))
    assert info.value.field == field
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "subject", ["Weekly review - 2026-11-28", "Retro (week 49)", "Q&A: ML 101", "Nonesuch planning", ""]
)
def test_subject_punctuation_is_free_text(subject):
    assert build_create_or_get_body(MeetingSpec("x", subject=subject))["subject"] == subject


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("None", NONE_WORD, id="only-None"),
        pytest.param("None@contoso.com", NONE_WORD, id="None-local-part"),
        pytest.param("adele@None.com", NONE_WORD, id="None-domain"),
        pytest.param("adele-@contoso.com", EMPTY_PART, id="trailing-separator"),
        pytest.param("adele__vance@contoso.com", EMPTY_PART, id="double-separator"),
        pytest.param("None_example.org#EXT#@contoso.onmicrosoft.com", NONE_WORD, id="guest-None"),
    ],
)
def test_user_id_with_a_missing_value_is_refused(value, fragment):
    with pytest.raises(InvalidRequestError) as info:
        validate_user_id(value, field_name="default_user_id")
    assert info.value.field == "default_user_id"
    assert fragment in str(info.value) and repr(value) in str(info.value)


@pytest.mark.parametrize(
    "value",
    [GUEST, "JANE_EXAMPLE.ORG#ext#@contoso.onmicrosoft.com", "j.doe_mail.example.co.uk#EXT#@contoso.onmicrosoft.com"],
)
def test_guest_upn_is_accepted_everywhere(value):
    assert validate_user_id(value) == value
    assert normalize_participants({"attendees": [value]}) == {"attendees": [{"upn": value}]}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("jane#EXT#x@contoso.onmicrosoft.com", id="EXT-not-before-the-at"),
        pytest.param("jane_example.org#EXT@contoso.onmicrosoft.com", id="EXT-without-closing-hash"),
        pytest.param("jane_example.org#EXT#@contoso.onmicrosoft.com#x", id="fragment-after-domain"),
        pytest.param("jane_example.org#EXT##EXT#@contoso.onmicrosoft.com", id="EXT-twice"),
        pytest.param("jane#x#@contoso.onmicrosoft.com", id="other-hash-word"),
        pytest.param("jane_example.org#EXT#/../@contoso.onmicrosoft.com", id="EXT-then-path"),
        pytest.param("jane_example.org%23EXT%23@contoso.onmicrosoft.com", id="already-encoded"),
        pytest.param("jane_example.org#EXT#@contoso.onmicrosoft.com?$select=id", id="EXT-then-query"),
        pytest.param("jane example.org#EXT#@contoso.onmicrosoft.com", id="EXT-with-space"),
    ],
)
def test_hash_outside_a_guest_mark_is_refused(value):
    with pytest.raises(InvalidRequestError, match="is neither an Entra object id"):
        validate_user_id(value)


def test_guest_upn_is_percent_encoded_in_the_path():
    assert user_path(GUEST) == "users/jane_example.org%23EXT%23%40contoso.onmicrosoft.com"
    prepared = prepare_request(MeetingSpec("guest-meeting", user_id=GUEST))
    assert prepared.path == "users/jane_example.org%23EXT%23%40contoso.onmicrosoft.com/onlineMeetings/createOrGet"
    assert "#" not in prepared.path and prepared.user_id == GUEST


def test_user_path_encodes_and_me():
    assert user_path(None) == "me"
    assert user_path(GUID) == f"users/{GUID}"
    assert user_path("o'brien@contoso.com") == "users/o%27brien%40contoso.com"


def test_body_with_everything():
    spec = MeetingSpec(
        "office-hours-2026-11-28",
        subject="Office hours",
        start_date_time="2026-11-28T10:00:00+01:00",
        end_date_time=pendulum.datetime(2026, 11, 28, 10, tz="UTC"),
        participants={
            "attendees": ["pat@contoso.com", GUID, {"upn": "x@contoso.com", "identity": {"user": {"id": GUID}}}]
        },
        chat_info={"threadId": "19:abc@thread.v2"},
    )
    body = build_create_or_get_body(spec, api_version="beta")
    assert body == {
        "externalId": "office-hours-2026-11-28",
        "subject": "Office hours",
        "startDateTime": "2026-11-28T09:00:00.0000000Z",
        "endDateTime": "2026-11-28T10:00:00.0000000Z",
        "participants": {
            "attendees": [
                {"upn": "pat@contoso.com"},
                {"identity": {"user": {"id": GUID}}},
                {"upn": "x@contoso.com", "identity": {"user": {"id": GUID}}},
            ]
        },
        "chatInfo": {"threadId": "19:abc@thread.v2"},
    }


def test_body_minimal_leaves_defaults_to_graph():
    assert build_create_or_get_body(MeetingSpec("x")) == {"externalId": "x"}
    start_only = build_create_or_get_body(MeetingSpec("x", start_date_time="2026-11-28T09:00:00Z"))
    assert "endDateTime" not in start_only


@pytest.mark.parametrize(
    ("kwargs", "field", "fragments"),
    [
        pytest.param(
            {"end_date_time": "2026-11-28T10:00:00Z"},
            "end_date_time",
            ["without start_date_time", "2026-11-28T10:00:00Z"],
            id="end-without-start",
        ),
        pytest.param(
            {"start_date_time": "2026-11-28T10:00:00Z", "end_date_time": "2026-11-28T09:00:00Z"},
            "end_date_time",
            ["is not after", "2026-11-28T10:00:00Z", "2026-11-28T09:00:00Z"],
            id="end-before-start",
        ),
        pytest.param(
            {"start_date_time": "2026-11-28T10:00:00+01:00", "end_date_time": "2026-11-28T09:00:00Z"},
            "end_date_time",
            ["is not after"],
            id="end-equals-start-after-conversion",
        ),
        pytest.param({"subject": 5}, "subject", ["must be a string"], id="subject-int"),
        pytest.param({"participants": ["a@b.com"]}, "participants", ["must be a mapping"], id="participants-list"),
        pytest.param({"participants": {"attendee": []}}, "participants", ["unknown key"], id="participants-typo"),
        pytest.param(
            {"participants": {"attendees": "a@b.com"}}, "participants.attendees", ["must be a list"], id="attendees-str"
        ),
        pytest.param(
            {"participants": {"attendees": [{"name": "Pat"}]}},
            "participants.attendees[0]",
            ["needs 'identity'"],
            id="attendee-without-identity",
        ),
        pytest.param(
            {"participants": {"attendees": [{"identity": "pat"}]}},
            "participants.attendees[0].identity",
            ["must be a mapping"],
            id="identity-str",
        ),
        pytest.param(
            {"participants": {"attendees": ["not an id"]}},
            "participants.attendees[0]",
            ["neither an object id nor a UPN"],
            id="attendee-bad-string",
        ),
        pytest.param(
            {"chat_info": "19:abc", "api_version": "beta"}, "chat_info", ["must be a mapping"], id="chat-info-str"
        ),
        # Keys and enum members the SDK models do not have: Graph would answer 400.
        pytest.param(
            {"chat_info": {"threadID": "19:abc"}, "api_version": "beta"},
            "chat_info",
            ["['threadID'] not properties of Graph's chatInfo"],
            id="chat-info-unknown-key",
        ),
        pytest.param(
            {"participants": {"attendees": [{"upn": "pat@contoso.example", "email": "pat@contoso.example"}]}},
            "participants.attendees[0]",
            ["['email'] not properties of Graph's meetingParticipantInfo"],
            id="attendee-unknown-key",
        ),
        pytest.param(
            {"participants": {"attendees": [{"upn": "pat@contoso.example", "role": "Presenter"}]}},
            "participants.attendees[0].role",
            ["'Presenter' is not one of", "(write 'presenter')"],
            id="attendee-role-case",
        ),
        pytest.param(
            {"participants": {"organizer": {"upn": "pat@contoso.example", "role": "organizer"}}},
            "participants.organizer.role",
            ["'organizer' is not one of"],
            id="organizer-role-is-not-a-role",
        ),
    ],
)
def test_body_refused(kwargs, field, fragments):
    fields = {name: value for name, value in kwargs.items() if name != "api_version"}
    with pytest.raises(InvalidRequestError) as info:
        build_create_or_get_body(MeetingSpec("x", **fields), api_version=kwargs.get("api_version", "v1.0"))
    assert info.value.field == field
    for fragment in fragments:
        assert fragment in str(info.value)


def test_organizer_errors_name_the_organizer():
    with pytest.raises(InvalidRequestError) as info:
        normalize_participants({"organizer": "not an id"})
    assert info.value.field == "participants.organizer"


def test_normalize_participants_keeps_organizer():
    organizer = {"identity": {"user": {"id": GUID}}}
    assert normalize_participants({"organizer": organizer}) == {"organizer": organizer}


def test_prepare_request_paths():
    spec = MeetingSpec("e1", subject="s")
    assert prepare_request(spec).path == "me/onlineMeetings/createOrGet"
    assert prepare_request(spec, default_user_id=GUID).path == f"users/{GUID}/onlineMeetings/createOrGet"
    explicit = prepare_request(MeetingSpec("e1", user_id="pat@contoso.com"), default_user_id=GUID)
    assert explicit.path == "users/pat%40contoso.com/onlineMeetings/createOrGet"
    assert explicit.user_id == "pat@contoso.com"
    assert explicit.external_id == "e1"
    assert prepare_request(MeetingSpec("e1", user_id=""), default_user_id=GUID).user_id == GUID


def test_prepare_request_refuses_me_for_app_only_tokens():
    spec = MeetingSpec("e1", subject="s")
    with pytest.raises(InvalidRequestError, match="app-only tokens cannot use /me/onlineMeetings/createOrGet"):
        prepare_request(spec, delegated=False)
    assert prepare_request(spec, default_user_id=GUID, delegated=False).user_id == GUID


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param(["e1"], "must be a mapping", id="not-mapping"),
        pytest.param({"subject": "s"}, "external_id: is missing", id="no-external-id"),
        pytest.param({"external_id": "e", "start_date": "x"}, "unknown key(s) ['start_date']", id="unknown-key"),
    ],
)
def test_spec_from_mapping_refused(value, fragment):
    with pytest.raises(InvalidRequestError) as info:
        MeetingSpec.from_mapping(value, where="meetings[3]")
    assert fragment in str(info.value)
    assert str(info.value).startswith("meetings[3]")


def test_spec_from_mapping():
    assert MeetingSpec.from_mapping({"external_id": "e", "user_id": GUID}) == MeetingSpec("e", user_id=GUID)


PRODUCER = {"upn": "pro@contoso.com"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"participants": {"producers": [PRODUCER]}}, "participants.producers", id="producers"),
        pytest.param({"participants": {"contributors": [PRODUCER]}}, "participants.contributors", id="contributors"),
        pytest.param(
            {"participants": {"attendees": [PRODUCER], "producers": []}}, "participants.producers", id="empty-producers"
        ),
        pytest.param({"chat_info": {"threadId": "19:abc@thread.v2"}}, "chat_info", id="chat-info"),
    ],
)
def test_v1_refuses_what_only_beta_defines(kwargs, field):
    with pytest.raises(InvalidRequestError) as info:
        build_create_or_get_body(MeetingSpec("x", **kwargs), api_version="v1.0")
    message = str(info.value)
    assert info.value.field == field
    assert "api_version='v1.0'" in message
    assert "'beta'" in message and "drop" in message  # what to do: use beta, or drop the field
    # the default is v1.0
    with pytest.raises(InvalidRequestError):
        build_create_or_get_body(MeetingSpec("x", **kwargs))


@pytest.mark.parametrize(
    ("kwargs", "key", "expected"),
    [
        pytest.param(
            {"participants": {"producers": ["pro@contoso.com"]}},
            "participants",
            {"producers": [PRODUCER]},
            id="producers",
        ),
        pytest.param(
            {"participants": {"contributors": [GUID]}},
            "participants",
            {"contributors": [{"identity": {"user": {"id": GUID}}}]},
            id="contributors",
        ),
        pytest.param(
            {"chat_info": {"threadId": "19:a@thread.v2"}}, "chatInfo", {"threadId": "19:a@thread.v2"}, id="chat"
        ),
    ],
)
def test_beta_accepts_its_own_properties(kwargs, key, expected):
    assert build_create_or_get_body(MeetingSpec("x", **kwargs), api_version="beta")[key] == expected


@pytest.mark.parametrize("api_version", ["v1", "V1.0", "", None, "v2.0"])
def test_unknown_api_version_is_refused(api_version):
    with pytest.raises(InvalidRequestError) as info:
        build_create_or_get_body(MeetingSpec("x"), api_version=api_version)
    assert info.value.field == "api_version"


@pytest.mark.parametrize(
    ("api_version", "refused"),
    [("v1.0", True), ("beta", False)],
)
def test_prepare_request_passes_the_api_version(api_version, refused):
    spec = MeetingSpec("e1", participants={"producers": ["pro@contoso.com"]})
    if refused:
        with pytest.raises(InvalidRequestError, match="participants.producers"):
            prepare_request(spec, default_user_id=GUID, api_version=api_version)
    else:
        prepared = prepare_request(spec, default_user_id=GUID, api_version=api_version)
        assert prepared.body["participants"] == {"producers": [PRODUCER]}
