"""graph/values.py: the rules every resource shares (here: the organizer, OData literals, Graph timestamps)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.graph.values import odata_string, parse_iso, request_organizer

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
