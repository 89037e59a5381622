"""Step 5's requests: which organizer the probe's join URL names, and what the probe records."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from airflow_provider_meetings.diagnostics.probes import (
    CHECK_RETRY_POLICY,
    NO_ORGANIZER,
    attempt_error,
    check_client,
    read_online_meeting_providers,
    send_organizer_probe,
)
from airflow_provider_meetings.graph.answer import HttpAnswer
from airflow_provider_meetings.graph.errors import GraphAPIError, RetriesExhaustedError, TransportError

SIGNED_IN = "6e8d2b1a-3c4f-4a5b-9d7e-1f2a3b4c5d6e"
ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c6d"
EMPTY = HttpAnswer(200, {"Content-Type": "application/json"}, b'{"value": []}')


def organizer_in(path: str) -> str:
    """The ``Oid`` of the join URL in a ``$filter=JoinWebUrl eq '...'`` path."""
    expression = unquote(path.split("?$filter=", 1)[1])
    url = expression[len("JoinWebUrl eq '") : -1]
    context = parse_qs(urlsplit(url).query)["context"][0]
    return json.loads(context)["Oid"]


def test_delegated_without_organizer_names_the_signed_in_user(make_settings, fake_graph):
    # Graph matches the join URL's organizer (microsoft-graph-docs#10770): an all-zero Oid
    # would be answered 404 for any signed-in user.
    graph = fake_graph(lambda path: EMPTY)

    probe = send_organizer_probe(graph, make_settings(refresh_token="rt-value"), signed_in_user=SIGNED_IN)

    assert probe is not None and probe.status == 200 and probe.asks_signed_in_user
    (path,) = graph.paths
    assert path.startswith("me/onlineMeetings?$filter=JoinWebUrl%20eq%20'https%3A")
    assert organizer_in(path) == probe.organizer_in_url == SIGNED_IN


def test_delegated_token_without_readable_oid_names_nobody(make_settings, fake_graph):
    graph = fake_graph(lambda path: EMPTY)

    probe = send_organizer_probe(graph, make_settings(refresh_token="rt-value"), signed_in_user=None)

    assert probe is not None and organizer_in(graph.paths[0]) == NO_ORGANIZER


def test_an_organizer_by_object_id_is_the_join_urls_organizer(make_settings, fake_graph):
    graph = fake_graph(lambda path: EMPTY)

    probe = send_organizer_probe(graph, make_settings(default_user_id=ORGANIZER), signed_in_user=SIGNED_IN)

    assert probe is not None and graph.paths[0].startswith(f"users/{ORGANIZER}/onlineMeetings?")
    assert organizer_in(graph.paths[0]) == ORGANIZER


def test_an_organizer_by_upn_is_looked_up_first(make_settings, fake_graph):
    def handler(path: str) -> HttpAnswer:
        if path.startswith("users/adele%40contoso.example?"):
            return HttpAnswer(200, {"Content-Type": "application/json"}, json.dumps({"id": ORGANIZER}).encode())
        return EMPTY

    graph = fake_graph(handler)

    probe = send_organizer_probe(graph, make_settings(default_user_id="adele@contoso.example"), signed_in_user=None)

    assert probe is not None and (probe.object_id, probe.lookup) == (ORGANIZER, False)
    assert graph.paths == ["users/adele%40contoso.example?$select=id", graph.paths[1]]
    assert organizer_in(graph.paths[1]) == ORGANIZER


def test_app_only_without_organizer_sends_nothing(make_settings, fake_graph):
    graph = fake_graph(lambda path: EMPTY)

    assert send_organizer_probe(graph, make_settings(), signed_in_user=None) is None
    assert graph.paths == []


@pytest.mark.parametrize(
    ("raised", "error_status", "failure"),
    [
        pytest.param(GraphAPIError(403, "Forbidden", "No Application Access Policy found for this app."), 403, None),
        pytest.param(
            RetriesExhaustedError("x", 1, 0.0, GraphAPIError(503, "ServiceNotAvailable", "busy")),
            503,
            None,
            id="transient graph error, not retried",
        ),
        pytest.param(
            RetriesExhaustedError("x", 1, 0.0, TransportError("connection", "https://graph", "refused")),
            None,
            TransportError,
            id="no answer, not retried",
        ),
    ],
)
def test_errors_are_recorded_unwrapped(make_settings, fake_graph, raised, error_status, failure):
    def handler(path: str) -> HttpAnswer:
        raise raised

    probe = send_organizer_probe(fake_graph(handler), make_settings(default_user_id=ORGANIZER), signed_in_user=None)

    assert probe is not None
    assert (probe.error.status if probe.error else None) == error_status
    assert type(probe.failure) is failure if failure else probe.failure is None


def test_the_check_client_retries_nothing(make_settings):
    settings = make_settings(max_retries=6)
    client = check_client(settings, log=logging.getLogger("check"), mask=lambda secret: None, conn_id="c")
    try:
        assert client.settings.retry == CHECK_RETRY_POLICY
        assert (CHECK_RETRY_POLICY.max_retries, CHECK_RETRY_POLICY.max_total_wait) == (0, 0)
        assert client.settings.client_id == settings.client_id
    finally:
        client.close()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(b'{"allowedOnlineMeetingProviders": ["teamsForBusiness"]}', ["teamsForBusiness"], id="teams"),
        pytest.param(b'{"allowedOnlineMeetingProviders": []}', [], id="none"),
        pytest.param(b"{}", None, id="not in the answer"),
        pytest.param(b"not json", None, id="not json"),
    ],
)
def test_the_calendar_providers_are_read_with_one_select(fake_graph, answer, expected):
    graph = fake_graph(lambda path: HttpAnswer(200, {"Content-Type": "application/json"}, answer))
    assert read_online_meeting_providers(graph, ORGANIZER) == expected
    assert graph.paths == [f"users/{ORGANIZER}/calendar?$select=allowedOnlineMeetingProviders"]


def test_a_calendar_that_cannot_be_read_gives_none(fake_graph):
    def refuse(path: str) -> HttpAnswer:
        raise GraphAPIError(403, "ErrorAccessDenied", "Access is denied.")

    graph = fake_graph(refuse)
    assert read_online_meeting_providers(graph, None) is None
    assert graph.paths == ["me/calendar?$select=allowedOnlineMeetingProviders"]


def test_attempt_error_unwraps_only_a_retry_wrapper():
    inner = GraphAPIError(503, "ServiceNotAvailable", "busy")

    assert attempt_error(RetriesExhaustedError("x", 1, 0.0, inner)) is inner
    assert attempt_error(inner) is inner
