"""The advice texts: AADSTS numbers, proxies named without credentials, Graph's answers to step 5."""

from __future__ import annotations

import pytest
from mock_graph_testlib import mock_client

from airflow_provider_meetings.artifacts.permissions import MEETING_LOOKUP
from airflow_provider_meetings.diagnostics.advice import (
    artifacts_granted,
    calendar_events_note,
    calendar_providers_note,
    graph_refused,
    proxy_for,
    token_refused,
)
from airflow_provider_meetings.diagnostics.probes import send_organizer_probe
from airflow_provider_meetings.diagnostics.report import Failed, Outcome
from airflow_provider_meetings.events.permissions import CALENDAR_EVENTS, CALENDAR_EVENTS_SHARED
from airflow_provider_meetings.graph.errors import ApplicationAccessPolicyError, AuthenticationError, GraphAPIError
from airflow_provider_meetings.graph.mock_transport import MockTransport, graph_error_answer

SIGNED_IN = "6e8d2b1a-3c4f-4a5b-9d7e-1f2a3b4c5d6e"


@pytest.mark.parametrize(
    ("error", "problem", "message"),
    [
        pytest.param(
            AuthenticationError("invalid_grant", "", error_codes=[700082]),
            "refresh_token_expired",
            "The connection's refresh token expired (AADSTS700082).",
            id="expired, told by error_codes",
        ),
        pytest.param(
            AuthenticationError("invalid_grant", "AADSTS50173: The provided grant has expired due to it being revoked"),
            "refresh_token_invalid",
            "The connection's refresh token is no longer valid (AADSTS50173).",
            id="revoked",
        ),
    ],
)
def test_a_refresh_token_that_ended_gets_the_tasks_advice(make_settings, error, problem, message):
    from airflow_provider_meetings.auth.token_source import delegated_hint

    settings = make_settings(refresh_token="0.AR-refresh-token-value")
    found = token_refused(error, settings, conn_id="c1")

    assert (found.problem, found.message) == (problem, message)
    assert "'airflow-provider-meetings login --conn-id c1'" in found.fix
    assert found.fix.removeprefix("Sign in again: ").split(" (docs/")[0] in delegated_hint(
        error, settings=settings, conn_id="c1"
    )
    assert "0.AR-refresh-token-value" not in found.message + found.fix


def test_an_unnamed_refusal_links_microsofts_page_of_its_code(make_settings):
    error = AuthenticationError("invalid_request", "", error_codes=[50011])

    found = token_refused(error, make_settings(), conn_id="c1")

    assert found.problem == "token_refused"
    assert found.fix.endswith("Microsoft explains AADSTS50011 at https://login.microsoftonline.com/error?code=50011.")


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


# -- no application access policy: the error class, as the Graph client makes it ----------------


def test_a_missing_access_policy_from_the_graph_client_is_named(make_settings):
    # The probe's requests go through GraphRestClient, which builds its errors with
    # graph_error_from_response: a missing policy arrives as ApplicationAccessPolicyError.
    settings = make_settings(default_user_id=SIGNED_IN)
    message = "No Application Access Policy found for this app."
    client = mock_client(MockTransport(lambda request: graph_error_answer(403, "Forbidden", message)), settings)
    probe = send_organizer_probe(client, settings, signed_in_user=None)

    assert probe is not None and isinstance(probe.error, ApplicationAccessPolicyError)
    found = graph_refused(settings, probe.error, user=SIGNED_IN, lookup=False, roles_checked=True)
    assert isinstance(found, Failed) and found.problem == "no_access_policy"
    assert "New-CsApplicationAccessPolicy" in (found.fix or "")


def test_the_access_policy_advice_follows_the_error_class_not_the_wording(make_settings):
    settings = make_settings(default_user_id=SIGNED_IN)
    classified = ApplicationAccessPolicyError(403, "Forbidden", "Request denied for this user.")
    unclassified = GraphAPIError(403, "Forbidden", "Request denied for this user.")

    found = graph_refused(settings, classified, user=SIGNED_IN, lookup=False, roles_checked=True)
    other = graph_refused(settings, unclassified, user=SIGNED_IN, lookup=False, roles_checked=True)

    assert isinstance(found, Failed) and found.problem == "no_access_policy"
    assert isinstance(other, Failed) and other.problem == "organizer_forbidden"


# -- the permission names, compared without case ------------------------------------------------


@pytest.mark.parametrize("delegated", [False, True])
def test_the_calendar_note_and_the_artifacts_compare_permissions_as_holds_does(delegated):
    shouting = [
        CALENDAR_EVENTS.for_token(delegated=delegated).upper(),
        CALENDAR_EVENTS_SHARED.delegated.upper(),
        MEETING_LOOKUP.for_token(delegated=delegated).upper(),
    ]

    note = calendar_events_note(shouting, delegated=delegated)
    message = artifacts_granted({"attendance": "x"}, shouting, delegated=delegated)

    assert note.startswith("Calendar events: the token also carries") and "also needs" not in note
    assert f"in {'scp' if delegated else 'roles'}." in message and "which the token lacks" not in message
