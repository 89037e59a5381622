"""The advice texts: AADSTS numbers, proxies named without credentials, Graph's answers to step 5."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.diagnostics.advice import (
    aadsts_number,
    calendar_providers_note,
    graph_refused,
    proxy_for,
)
from airflow_provider_meetings.diagnostics.report import Failed, Outcome
from airflow_provider_meetings.graph.errors import AuthenticationError, GraphAPIError

SIGNED_IN = "6e8d2b1a-3c4f-4a5b-9d7e-1f2a3b4c5d6e"


@pytest.mark.parametrize(
    ("error", "number"),
    [
        pytest.param(
            AuthenticationError("invalid_client", "AADSTS7000222: expired", error_codes=[7000222]), 7000222, id="codes"
        ),
        pytest.param(AuthenticationError("invalid_client", "AADSTS700027: Client assertion failed"), 700027, id="text"),
        pytest.param(
            AuthenticationError("invalid_authority", "Unable to get authority configuration"), None, id="none"
        ),
    ],
)
def test_aadsts_number(error, number):
    assert aadsts_number(error) == number


def test_proxy_is_named_without_its_credentials(make_settings):
    named = proxy_for(make_settings(proxies={"https": "http://svc-user:pr0xy-Secret@proxy.corp:3128"}))

    assert named == "proxy.corp:3128 (from the extra proxies)"


def test_a_404_for_the_signed_in_user_is_not_confirmed_rather_than_failed(make_settings):
    # The signed-in user exists (Entra just issued their token); Graph's 404 to a lookup by a
    # join URL says the organizer in the URL did not match (microsoft-graph-docs#10770).
    error = GraphAPIError(404, "NotFound", f"Organizer Id mismatch User Id: {SIGNED_IN}.")

    found = graph_refused(
        make_settings(refresh_token="rt-value"),
        error,
        user=None,
        lookup=False,
        roles_checked=True,
        organizer_in_url=SIGNED_IN,
    )

    assert isinstance(found, Outcome) and found.skipped
    assert found.message.startswith(
        f"Graph answered 404 NotFound (Organizer Id mismatch User Id: {SIGNED_IN}) to the signed-in user's "
        f"read-only meetings lookup (organizer {SIGNED_IN} in the join URL), so the check could not confirm"
    )
    assert "Teams licence" in found.message


def test_a_404_for_a_named_organizer_still_fails(make_settings):
    error = GraphAPIError(404, "NotFound", "Resource 'x' does not exist.")

    found = graph_refused(make_settings(), error, user=SIGNED_IN, lookup=False, roles_checked=True)

    assert isinstance(found, Failed) and found.problem == "organizer_not_found"


def test_calendar_providers_note_warns_without_teams():
    assert calendar_providers_note(None) == ""
    assert "offers Teams meetings" in calendar_providers_note(["TeamsForBusiness"])
    warning = calendar_providers_note([])
    assert warning.startswith("Warning: the organizer's calendar does not offer teamsForBusiness")
    assert "allowedOnlineMeetingProviders: none" in warning
