"""graph/values.py: the rules every resource shares (here: the organizer, OData literals, Graph timestamps)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.graph.values import (
    odata_string,
    organizer_key,
    parse_iso,
    request_organizer,
    to_aware,
    to_utc,
)

ADELE = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
DEFAULT = "hr@contoso.example"


@pytest.mark.parametrize(
    ("user_id", "default", "delegated", "expected"),
    [
        ("pat@contoso.example", DEFAULT, False, "pat@contoso.example"),
        (None, DEFAULT, False, DEFAULT),
        ("", DEFAULT, False, DEFAULT),  # what an unset template renders: not given
        (ADELE, None, True, ADELE),
        (None, None, True, None),  # /me: a delegated token signs a user in
        ("", None, True, None),
    ],
    ids=["given", "None: default", "empty: default", "given, delegated", "None: /me", "empty: /me"],
)
def test_the_organizer_is_the_given_one_else_the_default_else_me(user_id, default, delegated, expected) -> None:
    assert request_organizer(user_id, default_user_id=default, delegated=delegated, resource="events") == expected


@pytest.mark.parametrize("user_id", [None, ""])
def test_an_app_only_token_without_organizer_is_refused_with_what_to_do(user_id) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        request_organizer(user_id, default_user_id=None, delegated=False, resource="onlineMeetings/createOrGet")
    assert caught.value.field == "user_id"
    text = str(caught.value)
    assert text.startswith("user_id: no organizer: app-only tokens cannot use /me/onlineMeetings/createOrGet")
    for fix in ("Pass user_id", "default_user_id", "delegated connection"):
        assert fix in text


@pytest.mark.parametrize(
    ("user_id", "default"),
    [("adele vance", None), (5, None), (None, "not a user")],
    ids=["bad given", "not text", "bad default"],
)
def test_the_organizer_is_checked_whichever_it_is(user_id, default) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        request_organizer(user_id, default_user_id=default, delegated=True, resource="events")
    assert caught.value.field == "user_id"


@pytest.mark.parametrize(
    ("value", "literal"),
    [("O'Brien-1", "'O''Brien-1'"), ("", "''"), ("''", "''''''"), ("https://t/x%3a'y", "'https://t/x%3a''y'")],
)
def test_odata_string_quotes_and_doubles_quotes(value, literal) -> None:
    assert odata_string(value) == literal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T09:00:00.0000000", datetime(2026, 11, 28, 9)),
        (
            "2026-11-28T09:00:00.1234567+01:00",
            datetime(2026, 11, 28, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("2026-11-28T09:00:00", datetime(2026, 11, 28, 9)),
    ],
)
def test_parse_iso_reads_graphs_seven_fraction_digits(text, expected):
    assert parse_iso(text) == expected


def test_parse_iso_refuses_what_is_not_iso():
    with pytest.raises(ValueError):
        parse_iso("28/11/2026 09:00")


PLUS_ONE = timezone(timedelta(hours=1))
NINE_UTC = datetime(2026, 12, 7, 9, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "tz", "instant"),
    [
        ("2026-12-07T09:00:00Z", timezone.utc, NINE_UTC),
        ("2026-12-07T09:00:00z", timezone.utc, NINE_UTC),
        ("2026-12-07T09:00:00+00:00", timezone.utc, NINE_UTC),
        (" 2026-12-07T10:00:00+01:00 ", PLUS_ONE, NINE_UTC),
        ("2026-12-07T10:00:00.1234567+01:00", PLUS_ONE, NINE_UTC.replace(microsecond=123456)),
        (datetime(2026, 12, 7, 10, tzinfo=ZoneInfo("Europe/Berlin")), ZoneInfo("Europe/Berlin"), NINE_UTC),
        (datetime(2026, 12, 7, 10, tzinfo=PLUS_ONE), PLUS_ONE, NINE_UTC),
    ],
)
def test_to_aware_keeps_the_values_own_zone(value, tz, instant) -> None:
    aware = to_aware(value, field_name="start")
    assert aware.tzinfo == tz and aware == instant
    utc = to_utc(value, field_name="start")
    assert utc == instant and utc.tzinfo is timezone.utc


def test_to_aware_returns_a_datetime_as_given() -> None:
    start = datetime(2026, 12, 7, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    assert to_aware(start, field_name="start") is start


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2026-12-07T09:00:00", "no timezone"),
        (datetime(2026, 12, 7, 9), "naive"),
        (date(2026, 12, 7), "date without a time"),
        ("07/12/2026 09:00", "not an ISO-8601"),
        (3, "must be a datetime"),
    ],
)
def test_to_aware_and_to_utc_refuse_the_same(value, words) -> None:
    for convert in (to_aware, to_utc):
        with pytest.raises(InvalidRequestError, match=words) as info:
            convert(value, field_name="start")
        assert info.value.field == "start"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_to_aware_of_nothing_is_none(value) -> None:
    assert to_aware(value, field_name="start") is None and to_utc(value, field_name="start") is None


@pytest.mark.parametrize(
    ("user_id", "key"),
    [
        (None, ""),
        ("", ""),
        ("0B6C2A1E-4F3D-4A5B-8C9D-1E2F3A4B5C01", "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"),
        ("AdeleV@Contoso.example", "adelev@contoso.example"),
        ("jane_example.org#EXT#@contoso.onmicrosoft.com", "jane_example.org#ext#@contoso.onmicrosoft.com"),
    ],
)
def test_organizer_key_ignores_case_and_names_me_empty(user_id, key) -> None:
    assert organizer_key(user_id) == key
