"""Bad input through the real hook: an exact, helpful error, and nothing sent when the
input alone is wrong (the emulator's connection, token and Graph counters do not move).

The pure rules have their own unit tables (``tests/unit/meetings/test_request.py``,
``test_connection_settings.py``); these tables prove the hook applies them before any I/O.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from reliability_testlib import nothing_sent

from airflow_provider_meetings.graph.errors import (
    ApplicationAccessPolicyError,
    AuthenticationError,
    ConnectionConfigError,
    GraphAPIError,
    InvalidRequestError,
    RetriesExhaustedError,
)

pytestmark = pytest.mark.integration

NOT_A_USER = (
    "is neither an Entra object id (GUID such as '00000000-0000-0000-0000-000000000000') nor a user "
    "principal name ('name@contoso.com'); find the organizer's object id in Entra ID > Users"
)
STABLE_KEY_HINT = "template it from a stable key such as '{{ dag.dag_id }}-{{ ds }}'"
ISO_HINT = "is not an ISO-8601 datetime; use e.g. '2026-11-28T09:00:00Z' or '2026-11-28T10:00:00+01:00'"
START, END = "2026-11-28T10:00:00Z", "2026-11-28T11:00:00Z"
CHECK_TEMPLATE = "check what the template reads (dag_run.conf, params, the Airflow variable or XCom) and give it a value or a default"
NONE_WORD = f"contains None as a whole word: a template probably rendered a missing value; {CHECK_TEMPLATE}"
EMPTY_PART = (
    "has an empty part (it starts or ends with a separator, or has two in a row): a template probably rendered "
    f"an empty value; {CHECK_TEMPLATE}"
)


def case(id: str, field: str, message: str, connection: dict[str, Any] | None = None, **kwargs: Any) -> Any:  # noqa: A002 - pytest's word
    """A request refused with ``message``; ``connection`` overrides fields of the hook's connection."""
    kwargs.setdefault("external_id", "bad-input")
    return pytest.param(kwargs, connection or {}, field, f"{field}: {message}", id=id)


REQUEST_CASES = [
    # external_id
    case(
        "external_id empty",
        "external_id",
        "is empty; give each meeting a stable, unique id such as '{{ dag.dag_id }}-{{ ds }}'",
        external_id="",
    ),
    case(
        "external_id blank",
        "external_id",
        "is empty; give each meeting a stable, unique id such as '{{ dag.dag_id }}-{{ ds }}'",
        external_id="   ",
    ),
    case(
        "external_id None", "external_id", f"must be a string, got NoneType None; {STABLE_KEY_HINT}", external_id=None
    ),
    case("external_id int", "external_id", f"must be a string, got int 42; {STABLE_KEY_HINT}", external_id=42),
    case("external_id list", "external_id", f"must be a string, got list ['a']; {STABLE_KEY_HINT}", external_id=["a"]),
    case("external_id control character", "external_id", "contains control characters: 'a\\nb'", external_id="a\nb"),
    # external_id: the text of a missing value (a template that rendered None or an empty variable)
    case("external_id rendered None", "external_id", f"'bad_inputs-None' {NONE_WORD}", external_id="bad_inputs-None"),
    case("external_id None segment", "external_id", f"'a/None/b' {NONE_WORD}", external_id="a/None/b"),
    case("external_id trailing separator", "external_id", f"'dag-' {EMPTY_PART}", external_id="dag-"),
    case("external_id double separator", "external_id", f"'dag--2026' {EMPTY_PART}", external_id="dag--2026"),
    case("external_id leading separator", "external_id", f"'-2026-01-01' {EMPTY_PART}", external_id="-2026-01-01"),
    case(
        "external_id 257 characters",
        "external_id",
        f"is 257 characters long ({'k' * 40!r}...); external ids may have at most 256 (the provider's own "
        "limit: Graph documents none). Use a shorter stable key, such as the DAG id and an event key or a "
        "hash of the long part",
        external_id="k" * 257,
    ),
    case("subject rendered None", "subject", f"'Interview with None' {NONE_WORD}", subject="Interview with None"),
    # datetimes
    case(
        "end without start",
        "end_date_time",
        f"'{END}' was given without start_date_time; Graph needs a start to go with an end "
        "(give both, or only a start for a one-hour meeting)",
        end_date_time=END,
    ),
    case(
        "end before start",
        "end_date_time",
        f"end_date_time '{START}' (2026-11-28T10:00:00.0000000Z) is not after start_date_time "
        f"'{END}' (2026-11-28T11:00:00.0000000Z)",
        start_date_time=END,
        end_date_time=START,
    ),
    case(
        "end equals start in another offset",
        "end_date_time",
        "end_date_time '2026-11-28T11:00:00+01:00' (2026-11-28T10:00:00.0000000Z) is not after "
        f"start_date_time '{START}' (2026-11-28T10:00:00.0000000Z)",
        start_date_time=START,
        end_date_time="2026-11-28T11:00:00+01:00",
    ),
    case("start unparseable", "start_date_time", f"'next tuesday' {ISO_HINT}", start_date_time="next tuesday"),
    case(
        "end out of range",
        "end_date_time",
        f"'2026-13-40T25:00:00Z' {ISO_HINT}",
        start_date_time=START,
        end_date_time="2026-13-40T25:00:00Z",
    ),
    case(
        "start naive string",
        "start_date_time",
        "'2026-11-28T10:00:00' has no timezone; add 'Z' for UTC or an offset such as '+01:00'",
        start_date_time="2026-11-28T10:00:00",
    ),
    case(
        "start naive datetime",
        "start_date_time",
        "2026-11-28T10:00:00 is a naive datetime; give it a timezone (datetime(..., tzinfo=timezone.utc) "
        "or pendulum.datetime(..., tz='Europe/Paris'))",
        start_date_time=datetime.datetime(2026, 11, 28, 10),
    ),
    case(
        "end naive datetime",
        "end_date_time",
        "2026-11-28T11:00:00 is a naive datetime; give it a timezone (datetime(..., tzinfo=timezone.utc) "
        "or pendulum.datetime(..., tz='Europe/Paris'))",
        start_date_time=START,
        end_date_time=datetime.datetime(2026, 11, 28, 11),
    ),
    case(
        "start date only",
        "start_date_time",
        "2026-11-28 is a date without a time; give a datetime with a timezone",
        start_date_time=datetime.date(2026, 11, 28),
    ),
    case(
        "start epoch number",
        "start_date_time",
        "must be a datetime or an ISO-8601 string, got int",
        start_date_time=1764324000,
    ),
    # user_id: everything that could change the URL path, and non-ids
    *[
        case(f"user_id {label}", "user_id", f"{value!r} {NOT_A_USER}", user_id=value)
        for label, value in [
            ("with /", "adelev/../x"),
            ("..", ".."),
            ("with ?", "adelev@contoso.example?$select=id"),
            ("with #", "adelev@contoso.example#x"),
            ("with %2F", "users%2Fx"),
            ("leading space", " adelev@contoso.example"),
            ("inner space", "adele vance"),
            ("newline", "adelev@contoso.example\n"),
            ("display name", "Adele Vance"),
            ("truncated GUID", "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c0"),
        ]
    ],
    case(
        "no organizer with an app-only token",
        "user_id",
        "no organizer: app-only tokens cannot use /me/onlineMeetings/createOrGet (they sign in no user). Pass "
        "user_id (the organizer's Entra object id or UPN), set the connection extra default_user_id, or use a "
        "delegated connection (a refresh_token)",
        connection={"default_user_id": None},
    ),
    case("user_id int", "user_id", "must be a string (an Entra object id or UPN), got int", user_id=12345),
    case("user_id rendered None", "user_id", f"'None' {NONE_WORD}", user_id="None"),
    case("user_id None local part", "user_id", f"'None@contoso.example' {NONE_WORD}", user_id="None@contoso.example"),
    case("user_id empty part", "user_id", f"'adele-@contoso.example' {EMPTY_PART}", user_id="adele-@contoso.example"),
    case(
        "user_id hash outside #EXT#",
        "user_id",
        f"'jane#x#@contoso.onmicrosoft.com' {NOT_A_USER}",
        user_id="jane#x#@contoso.onmicrosoft.com",
    ),
    case(
        "attendee rendered None",
        "participants.attendees[0]",
        f"'None@contoso.example' {NONE_WORD}",
        participants={"attendees": ["None@contoso.example"]},
    ),
    # participants of the wrong shape
    case(
        "participants list",
        "participants",
        "must be a mapping like {'attendees': [{'upn': 'name@contoso.com'}]}, got list",
        participants=["alexw@contoso.example"],
    ),
    case(
        "participants string",
        "participants",
        "must be a mapping like {'attendees': [{'upn': 'name@contoso.com'}]}, got str",
        participants="alexw@contoso.example",
    ),
    case(
        "attendees string",
        "participants.attendees",
        "must be a list, got str",
        participants={"attendees": "alexw@contoso.example"},
    ),
    case(
        "attendee int",
        "participants.attendees[0]",
        "must be a mapping like {'upn': 'name@contoso.com'} or a UPN string, got int",
        participants={"attendees": [42]},
    ),
    case(
        "attendee without identity or upn",
        "participants.attendees[0]",
        "needs 'identity' ({'user': {'id': <object id>}}) or 'upn' (or both)",
        participants={"attendees": [{"name": "Alex"}]},
    ),
    case(
        "attendee empty upn",
        "participants.attendees[0].upn",
        "must be a non-empty string, got ''",
        participants={"attendees": [{"upn": ""}]},
    ),
    case(
        "unknown participants key",
        "participants",
        "unknown key(s) ['guests']; allowed: ['organizer', 'attendees', 'producers', 'contributors']",
        participants={"guests": []},
    ),
    # The organizer is a single participant, not a list: no "[0]" in the field name.
    case(
        "organizer not an id",
        "participants.organizer",
        "'nobody' is neither an object id nor a UPN",
        participants={"organizer": "nobody"},
    ),
]


@pytest.mark.parametrize(("kwargs", "connection", "field", "message"), REQUEST_CASES)
def test_bad_request_is_refused_before_anything_is_sent(make_hook, graph_emulator, kwargs, connection, field, message):
    hook = make_hook(**connection)

    with nothing_sent(graph_emulator), pytest.raises(InvalidRequestError) as caught:
        hook.create_or_get_meeting(**kwargs)
    assert caught.value.field == field
    assert str(caught.value) == message


def conn_case(id: str, field: str, message: str, **overrides: Any) -> Any:  # noqa: A002
    return pytest.param(overrides, field, f"connection field {field!r}: {message}", id=id)


CONNECTION_CASES = [
    conn_case(
        "tenant_id missing",
        "tenant_id",
        "is missing; set the extra to the directory (tenant) id of the app registration",
        tenant_id=None,
    ),
    conn_case(
        "tenant_id with a path",
        "tenant_id",
        "'contoso/../x' is not a tenant id or domain name",
        tenant_id="contoso/../x",
    ),
    conn_case(
        "client id missing", "login", "is empty; set it to the app registration's application (client) id", login=None
    ),
    conn_case(
        "no credential at all",
        "password",
        "no credential: set the client secret as the password, or the extra certificate_path, or "
        "federated_token_file (or AZURE_FEDERATED_TOKEN_FILE)",
        password=None,
    ),
    conn_case(
        "secret and certificate",
        "certificate_path",
        "is set together with a client secret (password); keep one credential: clear the password to "
        "use the certificate, or remove certificate_path to use the secret",
        certificate_path="{cert}",
    ),
    conn_case(
        "secret and federated token",
        "federated_token_file",
        "is set together with a secret or certificate; keep one credential",
        federated_token_file="{token}",
    ),
    conn_case(
        "certificate path is a directory",
        "certificate_path",
        "cannot read '{dir}': Is a directory",
        password=None,
        certificate_path="{dir}",
    ),
    conn_case(
        "federated token file missing",
        "federated_token_file",
        "cannot read '{dir}/missing-token': No such file or directory",
        password=None,
        federated_token_file="{dir}/missing-token",
    ),
    conn_case(
        "federated token file empty",
        "federated_token_file",
        "'{empty}' is empty",
        password=None,
        federated_token_file="{empty}",
    ),
    conn_case(
        "http Graph host off loopback",
        "host",
        "'http://graph.example.com' uses plain http; tokens would cross the network unencrypted. Use "
        "https (plain http is accepted only for loopback hosts)",
        host="http://graph.example.com",
    ),
    conn_case(
        "http login host off loopback",
        "authority_host",
        "'http://login.example.com' uses plain http; tokens would cross the network unencrypted. Use "
        "https (MSAL accepts only https authorities)",
        authority_host="http://login.example.com",
    ),
    conn_case(
        "unknown cloud",
        "cloud",
        "'azure-germany' is not one of ['china', 'dod', 'global', 'usgov']",
        cloud="azure-germany",
    ),
    conn_case(
        "cloud without createOrGet",
        "cloud",
        "onlineMeetings/createOrGet is not available in Graph v1.0 of the 'china' cloud",
        cloud="china",
    ),
    conn_case(
        "Graph URL with the API version",
        "host",
        "'https://graph.microsoft.com/v1.0' ends with an API version; give the root URL and set the "
        "extra 'api_version'",
        host="https://graph.microsoft.com/v1.0",
    ),
]


@pytest.mark.parametrize(("overrides", "field", "message"), CONNECTION_CASES)
def test_bad_connection_is_refused_before_anything_is_sent(
    make_hook, graph_emulator, certificate_files, tmp_path, monkeypatch, overrides, field, message
):
    monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE", raising=False)
    (tmp_path / "empty-token").write_text("")
    places = {
        "cert": certificate_files["paths"]["plain"],
        "token": str(tmp_path / "empty-token"),
        "empty": str(tmp_path / "empty-token"),
        "dir": str(tmp_path),
    }
    overrides = {k: v.format(**places) if isinstance(v, str) else v for k, v in overrides.items()}
    hook = make_hook(**overrides)

    with nothing_sent(graph_emulator), pytest.raises(ConnectionConfigError) as caught:
        hook.create_or_get_meeting("bad-connection")
    assert caught.value.field == field
    assert str(caught.value) == message.format(**places)


WRONG_SECRET = "wrong-secret-~Q7v-issue6-must-not-appear"


@pytest.mark.parametrize(
    ("overrides", "shown"),
    [
        pytest.param(
            {"password": WRONG_SECRET},
            ["Entra ID refused the token request: invalid_client: AADSTS7000215: Invalid client secret provided."],
            id="wrong secret",
        ),
        pytest.param(
            {"tenant_id": "00000000-0000-0000-0000-00000000dead"},
            [
                "Entra ID refused the token request: invalid_authority:",
                "/00000000-0000-0000-0000-00000000dead",
                "Check the extras tenant_id and authority_host.",
            ],
            id="unknown tenant",
        ),
    ],
)
def test_refused_by_entra_fails_once_without_graph_requests(make_hook, graph_emulator, hook_logs, overrides, shown):
    hook = make_hook(**overrides)

    with pytest.raises(AuthenticationError) as caught:
        hook.create_or_get_meeting("never-sent")
    text = str(caught.value)
    for fragment in shown:
        assert fragment in text
    assert caught.value.permanent
    assert WRONG_SECRET not in text + repr(caught.value) + repr(hook) + hook_logs.text
    assert graph_emulator.client_secret not in text
    stats = graph_emulator.stats()
    assert (stats["graph_requests"], stats["token_errors"] + stats["token_requests"] <= 2) == (0, True)
    assert hook_logs.messages("info") == []  # not retried


@pytest.mark.parametrize(
    ("setup", "error_type", "fragments", "requests"),
    [
        pytest.param(
            {"fault": 400},
            GraphAPIError,
            ["Microsoft Graph answered 400 UnknownError: Scripted error 400.", "(request-id "],
            1,
            id="400 Graph error body",
        ),
        pytest.param(
            {"user": "nopolicy"},
            ApplicationAccessPolicyError,
            [
                "Microsoft Graph answered 403 Forbidden: No Application Access Policy found for this app.",
                "Grant-CsApplicationAccessPolicy",
                "(request-id ",
            ],
            1,
            id="403 no access policy",
        ),
        pytest.param(
            {"user": "0b6c2a1e-4f3d-4a5b-8c9d-0000000000ff"},
            GraphAPIError,
            [
                "Microsoft Graph answered 404 NotFound:",
                "Check that user '0b6c2a1e-4f3d-4a5b-8c9d-0000000000ff' exists in the tenant",
                "(request-id ",
            ],
            1,
            id="404 unknown organizer",
        ),
        pytest.param(
            {"fault": "non_json", "times": 5},
            RetriesExhaustedError,
            [
                "gave up after 2 attempts",
                "502 HTTP502: the answer was not a Microsoft Graph error",
                "(text/html; a proxy or gateway may have answered): '<html>",
            ],
            2,
            id="proxy HTML 502, not JSON",
        ),
    ],
)
def test_graph_errors_say_what_graph_said(make_hook, graph_emulator, setup, error_type, fragments, requests):
    if "fault" in setup:
        graph_emulator.script(setup["fault"], times=setup.get("times", 1))
    user = setup.get("user")
    user_id = graph_emulator.user(user)["id"] if user == "nopolicy" else user
    hook = make_hook(max_retries=1, max_retry_wait=2)

    with pytest.raises(error_type) as caught:
        hook.create_or_get_meeting("graph-error", user_id=user_id)
    text = str(caught.value)
    for fragment in fragments:
        assert fragment in text, text
    assert graph_emulator.stats()["graph_requests"] == requests  # permanent errors are not retried
    assert graph_emulator.meetings() == []


# -- bulk -----------------------------------------------------------------------------------


def test_bulk_reports_each_bad_item_and_sends_only_the_good_ones(make_hook, graph_emulator):
    adele, alex = graph_emulator.user("adelev"), graph_emulator.user("alexw")
    items: list[tuple[Any, str | None]] = [  # (item, expected error text or None when it is sent)
        ({"external_id": "bulk-ok-1"}, None),
        ({"external_id": ""}, "meetings[1].external_id: is empty;"),
        (
            {"external_id": "bulk-naive", "start_date_time": "2026-11-28T10:00:00"},
            "meetings[2].start_date_time: '2026-11-28T10:00:00' has no timezone",
        ),
        ({"external_id": "bulk-path", "user_id": "adelev/../x"}, "meetings[3].user_id: 'adelev/../x' is neither"),
        (
            {"external_id": "bulk-participants", "participants": ["alexw@contoso.example"]},
            "meetings[4].participants: must be a mapping",
        ),
        ({"external_id": "bulk-ok-1"}, "meetings[5].external_id duplicates meetings[0] ('bulk-ok-1' for user"),
        ({"external_id": "bulk-case", "user_id": adele["id"]}, None),
        (
            {"external_id": "bulk-case", "user_id": adele["id"].upper()},
            "meetings[7].external_id duplicates meetings[6] ('bulk-case' for user",
        ),
        ({"external_id": "bulk-ok-1", "user_id": alex["id"]}, None),  # same key, other organizer: not a duplicate
        ("bulk-just-a-string", "meetings[9]: must be a mapping, got str"),
        ({"subject": "no key"}, "meetings[10].external_id: is missing"),
        ({"external_id": "bulk-typo", "subjcet": "typo"}, "meetings[11]: unknown key(s) ['subjcet']"),
        (
            {"external_id": "bulk-end", "end_date_time": "2026-11-28T10:00:00Z"},
            "meetings[12].end_date_time: '2026-11-28T10:00:00Z' was given without start_date_time",
        ),
    ]
    hook = make_hook()

    results = hook.create_or_get_meetings([item for item, _ in items])

    for (item, error), result in zip(items, results, strict=True):
        if error is None:
            assert result.ok and result.created, (item, result.error)
        else:
            assert not result.ok and result.permanent and result.attempts == 0, item
            assert str(result.error).startswith(error), (error, str(result.error))
    sent = [item for item, error in items if error is None]
    assert graph_emulator.stats()["batch_items"] == len(sent)  # duplicates and bad items were not sent
    assert sorted((m["user_id"], m["external_id"]) for m in graph_emulator.meetings()) == sorted(
        [(adele["id"], "bulk-ok-1"), (adele["id"], "bulk-case"), (alex["id"], "bulk-ok-1")]
    )


def test_bulk_list_over_the_documented_size_is_refused_whole(make_hook, graph_emulator):
    from airflow_provider_meetings.graph.batch import MAX_BULK_ITEMS

    items = [{"external_id": f"too-many-{i}"} for i in range(MAX_BULK_ITEMS + 1)]
    with nothing_sent(graph_emulator), pytest.raises(InvalidRequestError) as caught:
        make_hook().create_or_get_meetings(items)
    assert str(caught.value) == (
        "meetings: has 10,001 items; one bulk call takes at most 10,000. Split the list across tasks "
        "(e.g. by week or by organizer); nothing was sent"
    )


# -- the operators: the error shows the template, and nothing is sent ----------------------------


def test_operator_shows_the_template_that_rendered_none(make_hook, graph_emulator):
    from types import SimpleNamespace

    from airflow.sdk import DAG
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_meetings.operators.online_meetings import CreateOrGetOnlineMeetingOperator

    template = "{{ dag.dag_id }}-{{ dag_run.conf.get('event') }}"
    hook = make_hook()
    with DAG(dag_id="bad_inputs", schedule=None) as dag:
        op = CreateOrGetOnlineMeetingOperator(task_id="book", conn_id=hook.conn_id, external_id=template)
    op.render_template_fields({"dag": dag, "dag_run": SimpleNamespace(conf={})})  # a run without conf

    with nothing_sent(graph_emulator), pytest.raises(AirflowFailException) as caught:
        op.execute({"ti": None})
    assert str(caught.value) == (
        f"InvalidRequestError: external_id: 'bad_inputs-None' {NONE_WORD}; rendered from the template {template!r}"
    )
    assert graph_emulator.meetings() == []


def test_bulk_operator_names_each_item_and_the_external_id_template(make_hook, graph_emulator):
    from types import SimpleNamespace

    from airflow.sdk import DAG
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_meetings.operators.online_meetings import BulkCreateOrGetOnlineMeetingsOperator

    class TaskInstance:
        task_id, map_index = "bulk", -1

        def __init__(self) -> None:
            self.pushed: dict[str, Any] = {}

        def xcom_push(self, key: str, value: Any) -> None:
            self.pushed[key] = value

    template = "{{ dag.dag_id }}-{{ item.event_key }}"
    hook = make_hook()
    with DAG(dag_id="bad_inputs", schedule=None) as dag:
        op = BulkCreateOrGetOnlineMeetingsOperator(
            task_id="bulk",
            conn_id=hook.conn_id,
            meetings=[{"event_key": None}, {"event_key": ""}, {"event_key": "x" * 300}],
            external_id_template=template,
        )
    ti = TaskInstance()
    context = {"dag": dag, "dag_run": SimpleNamespace(conf={}), "ti": ti}
    op.render_template_fields(context)

    with nothing_sent(graph_emulator), pytest.raises(AirflowFailException) as caught:  # all permanent
        op.execute(context)
    message = str(caught.value)
    assert message.startswith("3 of 3 meeting(s) failed (the other 0 are done): ")
    shown = f"; rendered from external_id_template {template!r}"
    assert f"bad_inputs-None: meetings[0].external_id: 'bad_inputs-None' {NONE_WORD}{shown}" in message
    assert f"bad_inputs-: meetings[1].external_id: 'bad_inputs-' {EMPTY_PART}{shown}" in message
    assert "meetings[2].external_id: is 311 characters long" in message and message.count(shown) == 3
    assert [r["error"].startswith(f"meetings[{r['index']}].external_id: ") for r in ti.pushed["results"]] == [True] * 3
