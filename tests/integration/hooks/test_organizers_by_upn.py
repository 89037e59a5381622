"""Organizers given by UPN: looked up once to their object id, through real MSAL and HTTPS
against the emulator (which answers createOrGet with a UPN in the path with 404, as users
report for real Graph, and serves ``GET /users/{upn}`` only to tokens with ``User.Read.All``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from airflow_provider_meetings.meetings.bulk import DuplicateMeetingError
from airflow_provider_meetings.meetings.organizers import (
    OrganizerLookupDeniedError,
    OrganizerLookupError,
    OrganizerNotFoundError,
    lookup_request,
)

pytestmark = pytest.mark.integration

ADELE_UPN = "adelev@contoso.example"
ALEX_UPN = "alexw@contoso.example"
MEGAN_UPN = "meganb@contoso.example"
GHOST_UPN = "ghost@contoso.example"
#: What the app holds without the permission that reads users.
ROLES_WITHOUT_USER_READ = ["OnlineMeetings.ReadWrite.All"]


class Wire:
    """Every Graph request a hook sends (method, path and query below the version root, JSON
    body, headers); the requests still go out, unchanged."""

    def __init__(self, hook: Any) -> None:
        self.calls: list[tuple[str, str, Any, dict[str, str]]] = []
        transport = hook.client.transport
        original = transport.send

        def send(method: str, url: str, *, headers: Any = None, json: Any = None) -> Any:
            parts = urlsplit(url)
            path = parts.path.split("/", 2)[2] + (f"?{parts.query}" if parts.query else "")
            self.calls.append((method, path, json, dict(headers or {})))
            return original(method, url, headers=headers, json=json)

        transport.send = send

    def lookups(self) -> list[tuple[str, str, Any, dict[str, str]]]:
        """Single lookups (``GET users/...``)."""
        return [call for call in self.calls if call[0] == "GET" and call[1].startswith("users/")]

    def batch_items(self) -> list[dict[str, Any]]:
        """Every item of every ``$batch`` sent."""
        return [item for method, path, body, _ in self.calls if path == "$batch" for item in body["requests"]]


def lookup_counts(emu: Any) -> dict[str, int]:
    return emu.stats()["by_route"].get("getUser", {})


@pytest.fixture
def emu(graph_emulator: Any) -> Iterator[Any]:
    yield graph_emulator
    graph_emulator.reset()  # app roles back to the seeded ones


# -- single calls -------------------------------------------------------------------------------


def test_single_call_looks_the_upn_up_once_per_hook(make_hook, emu):
    adele = emu.user("adelev")["id"]
    hook = make_hook()
    wire = Wire(hook)

    first = hook.create_or_get_meeting("upn-standup-1", user_id=ADELE_UPN)
    second = hook.create_or_get_meeting("upn-standup-2", user_id="AdeleV@Contoso.Example")  # UPNs ignore case

    assert (first.user_id, first.given_user_id) == (adele, ADELE_UPN)
    assert (second.user_id, second.given_user_id) == (adele, "AdeleV@Contoso.Example")
    assert first.created and second.created
    assert [(m["user_id"], m["external_id"]) for m in emu.meetings()] == [
        (adele, "upn-standup-1"),
        (adele, "upn-standup-2"),
    ]
    # One lookup for both calls; createOrGet went to the object id.
    assert lookup_counts(emu) == {"200": 1}
    assert [(method, path) for method, path, _, _ in wire.calls] == [
        ("GET", "users/adelev%40contoso.example?$select=id"),
        ("POST", f"users/{adele}/onlineMeetings/createOrGet"),
        ("POST", f"users/{adele}/onlineMeetings/createOrGet"),
    ]
    method, path, body, headers = wire.calls[0]
    expected = lookup_request(ADELE_UPN)  # the request tests/contract checks against Graph's user model
    assert (method, path, body) == (expected.method, expected.path, None)
    assert "Content-Type" not in headers  # a GET carries no body
    assert hook.organizers.lookups == 1


def test_the_default_organizer_may_be_a_upn(make_hook, emu):
    megan = emu.user("meganb")["id"]
    hook = make_hook(default_user_id=MEGAN_UPN)

    result = hook.create_or_get_meeting("upn-default-organizer")

    assert (result.user_id, result.given_user_id) == (megan, MEGAN_UPN)
    assert [m["user_id"] for m in emu.meetings()] == [megan]
    assert lookup_counts(emu) == {"200": 1}


def test_an_object_id_is_not_looked_up(make_hook, emu):
    alex = emu.user("alexw")["id"]
    result = make_hook().create_or_get_meeting("by-object-id", user_id=alex)

    assert (result.user_id, result.given_user_id) == (alex, alex)
    assert lookup_counts(emu) == {}


def test_user_added_at_run_time_is_found_by_upn(make_hook, emu):
    # What a user does to test a DAG with its own organizers (docs/emulator.md).
    emu.reset(users=True)
    user = emu.add_user("6f0c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c99", "pat@contoso.example", "Pat Example")
    try:
        result = make_hook().create_or_get_meeting("own-organizer", user_id="pat@contoso.example")
    finally:
        emu.reset(users=True)
    assert result.user_id == user["id"] and result.created


def test_403_on_the_lookup_says_which_permission_to_grant(make_hook, emu):
    emu.set_app_roles(ROLES_WITHOUT_USER_READ)  # the permission was never granted (or lacks consent)
    hook = make_hook()

    with pytest.raises(OrganizerLookupDeniedError) as caught:
        hook.create_or_get_meeting("denied-1", user_id=ALEX_UPN)

    error = caught.value
    assert str(error) == (
        "organizer 'alexw@contoso.example' is a user principal name and the app may not look up its "
        "object id: Microsoft Graph answered 403 Authorization_RequestDenied to GET "
        "/users/alexw@contoso.example. To fix, grant the app the Microsoft Graph application "
        "permission User.Read.All with admin consent (Entra ID > App registrations > the app > API "
        "permissions), or give organizers by their Entra object id, which needs no lookup "
        f"(request-id {error.request_id})"
    )
    assert error.request_id and error.permanent
    assert (error.status, error.code, error.upn) == (403, "Authorization_RequestDenied", ALEX_UPN)
    assert lookup_counts(emu) == {"403": 1}  # no retry of a permanent answer
    assert "createOrGet" not in emu.stats()["by_route"] and emu.meetings() == []
    # Object ids still work without the permission.
    assert hook.create_or_get_meeting("denied-2", user_id=emu.user("alexw")["id"]).created


def test_404_on_the_lookup_names_the_upn(make_hook, emu):
    hook = make_hook()

    with pytest.raises(OrganizerNotFoundError) as caught:
        hook.create_or_get_meeting("ghost-1", user_id=GHOST_UPN)

    error = caught.value
    assert str(error) == (
        "organizer 'ghost@contoso.example' does not exist in the tenant: Microsoft Graph answered 404 "
        "Request_ResourceNotFound to GET /users/ghost@contoso.example (no user has this user principal "
        f"name). Check the spelling, or give the organizer's Entra object id (request-id {error.request_id})"
    )
    assert error.permanent and (error.status, error.code) == (404, "Request_ResourceNotFound")
    assert "createOrGet" not in emu.stats()["by_route"]
    # A failure is not remembered: the next call asks again (the user may exist by then).
    with pytest.raises(OrganizerNotFoundError):
        hook.create_or_get_meeting("ghost-2", user_id=GHOST_UPN)
    assert lookup_counts(emu) == {"404": 2}


def test_transient_lookup_failures_are_retried_like_any_call(make_hook, emu):
    emu.script({"status": 503, "retry_after": "0"}, match=r"^GET /users/", times=2)
    result = make_hook().create_or_get_meeting("flaky-lookup", user_id=ALEX_UPN)

    assert result.user_id == emu.user("alexw")["id"]
    assert lookup_counts(emu) == {"503": 2, "200": 1}


def test_delegated_mode_uses_me_without_a_lookup(make_hook, emu):
    hook = make_hook(refresh_token=emu.refresh_token, default_user_id=None)

    result = hook.create_or_get_meeting("delegated-me")

    assert (result.user_id, result.given_user_id) == (None, None)
    assert lookup_counts(emu) == {}


def test_delegated_mode_looks_up_the_signed_in_users_own_upn(make_hook, emu):
    # A delegated token may read its own user with User.Read (the Get user page).
    hook = make_hook(refresh_token=emu.refresh_token, default_user_id=None)

    result = hook.create_or_get_meeting("delegated-own-upn", user_id=ADELE_UPN)

    assert result.user_id == emu.user("adelev")["id"] and result.created
    assert lookup_counts(emu) == {"200": 1}


def test_delegated_mode_looks_up_another_user_with_only_user_readbasic_all(make_hook):
    # https://learn.microsoft.com/graph/api/user-get#permissions: delegated User.ReadBasic.All
    # (least privileged) reads another user's id; User.Read.All is not needed.
    from airflow_provider_meetings.graph.errors import GraphAPIError
    from meetings_emulator import run_emulator

    with run_emulator(delegated_scopes=("OnlineMeetings.ReadWrite", "User.ReadBasic.All")) as emulator:
        hook = make_hook(emulator, refresh_token=emulator.refresh_token, default_user_id=None)
        wire = Wire(hook)

        # The lookup succeeds; createOrGet then goes to the object id, where a delegated token
        # acting for another user gets Graph's 403 (not a lookup error).
        with pytest.raises(GraphAPIError) as caught:
            hook.create_or_get_meeting("delegated-other-upn", user_id=ALEX_UPN)
        assert not isinstance(caught.value, OrganizerLookupError) and caught.value.status == 403
        assert lookup_counts(emulator) == {"200": 1}
        alex_id = emulator.user("alexw")["id"]
        assert [path for method, path, _, _ in wire.calls if method == "POST"] == [
            f"users/{alex_id}/onlineMeetings/createOrGet"
        ]


def test_delegated_mode_without_user_read_permission_advises_user_readbasic_all(make_hook):
    from meetings_emulator import run_emulator

    with run_emulator(delegated_scopes=("OnlineMeetings.ReadWrite",)) as emulator:
        hook = make_hook(emulator, refresh_token=emulator.refresh_token, default_user_id=None)

        with pytest.raises(OrganizerLookupDeniedError) as caught:
            hook.create_or_get_meeting("delegated-denied", user_id=ALEX_UPN)
        assert "delegated permission User.ReadBasic.All" in str(caught.value)
        assert "User.Read.All" not in str(caught.value)


# -- bulk calls ---------------------------------------------------------------------------------


def test_bulk_looks_up_each_distinct_upn_once_in_one_batch(make_hook, emu):
    adele, alex, megan = (emu.user(name)["id"] for name in ("adelev", "alexw", "meganb"))
    hook = make_hook()
    wire = Wire(hook)
    items = [
        {"external_id": "bulk-upn-0", "user_id": ADELE_UPN},
        {"external_id": "bulk-upn-1", "user_id": ALEX_UPN},
        {"external_id": "bulk-upn-2", "user_id": "ALEXW@contoso.example"},  # the same UPN
        {"external_id": "bulk-upn-3", "user_id": MEGAN_UPN},
        {"external_id": "bulk-upn-4", "user_id": megan},  # an object id: no lookup
        {"external_id": "bulk-upn-5"},  # the connection's default organizer (an object id)
    ]

    results = hook.create_or_get_meetings(items)

    assert all(r.ok and r.created for r in results)
    assert [(r.user_id, r.given_user_id) for r in results] == [
        (adele, ADELE_UPN),
        (alex, ALEX_UPN),
        (alex, "ALEXW@contoso.example"),
        (megan, MEGAN_UPN),
        (megan, megan),
        (adele, adele),
    ]
    assert sorted((m["user_id"], m["external_id"]) for m in emu.meetings()) == sorted(
        (r.user_id, r.external_id) for r in results
    )
    # Three distinct UPNs, one $batch of lookups, then one $batch of createOrGet.
    assert lookup_counts(emu) == {"200": 3}
    assert [path for _, path, _, _ in wire.calls] == ["$batch", "$batch"]
    lookups = wire.calls[0][2]["requests"]
    assert lookups == [
        {"id": str(i), "method": "GET", "url": "/" + lookup_request(upn).path}
        for i, upn in enumerate([ADELE_UPN, ALEX_UPN, MEGAN_UPN])
    ]  # no body, no headers: the contract tests check these against Graph's user model
    assert {item["url"].split("/")[2] for item in wire.batch_items()[3:]} == {adele, alex, megan}
    xcom = json.loads(json.dumps([r.to_dict() for r in results]))
    assert xcom[0]["user_id"] == adele and xcom[0]["given_user_id"] == ADELE_UPN

    # A second call of the same hook looks nothing up.
    again = hook.create_or_get_meetings(items)
    assert all(r.ok and r.created is False for r in again)
    assert lookup_counts(emu) == {"200": 3}
    assert hook.organizers.lookups == 3


def test_bulk_single_lookups_share_the_hooks_cache(make_hook, emu):
    hook = make_hook()
    hook.create_or_get_meeting("cache-single", user_id=ALEX_UPN)
    results = hook.create_or_get_meetings([{"external_id": "cache-bulk", "user_id": ALEX_UPN}])

    assert results[0].ok and results[0].user_id == emu.user("alexw")["id"]
    assert lookup_counts(emu) == {"200": 1}
    assert emu.stats()["batches"] == 1  # only the createOrGet batch


@pytest.mark.parametrize("upn_first", [True, False], ids=["upn-then-id", "id-then-upn"])
def test_bulk_upn_and_object_id_are_one_organizer(make_hook, emu, upn_first):
    alex = emu.user("alexw")["id"]
    organizers = [ALEX_UPN, alex] if upn_first else [alex, ALEX_UPN]
    items = [{"external_id": "dup-organizer", "user_id": user_id} for user_id in organizers]

    results = make_hook().create_or_get_meetings(items)

    assert results[0].ok and not results[1].ok
    assert isinstance(results[1].error, DuplicateMeetingError)
    assert str(results[1].error) == (
        f"meetings[1].external_id duplicates meetings[0] ('dup-organizer' for user '{alex}'); it was sent once"
    )
    assert [(r.user_id, r.given_user_id) for r in results] == [(alex, organizers[0]), (alex, organizers[1])]
    assert [m["external_id"] for m in emu.meetings()] == ["dup-organizer"]
    assert emu.stats()["by_route"]["createOrGet"] == {"201": 1}


def test_bulk_items_whose_upn_is_unknown_fail_and_are_not_sent(make_hook, emu):
    alex = emu.user("alexw")["id"]
    items = [
        {"external_id": "mixed-0", "user_id": GHOST_UPN},
        {"external_id": "mixed-1", "user_id": ALEX_UPN},
        {"external_id": "mixed-2", "user_id": "Ghost@contoso.example"},
        {"external_id": "mixed-3", "user_id": "bad/organizer"},  # invalid: refused before anything
    ]

    results = make_hook().create_or_get_meetings(items)

    assert [r.ok for r in results] == [False, True, False, False]
    for index in (0, 2):
        error = results[index].error
        assert isinstance(error, OrganizerNotFoundError)
        assert str(error).startswith(
            "organizer 'ghost@contoso.example' does not exist in the tenant: Microsoft Graph answered 404 "
            "Request_ResourceNotFound to GET /users/ghost@contoso.example"
        )
        assert results[index].attempts == 0
    assert [(r.user_id, r.given_user_id) for r in results] == [
        (None, GHOST_UPN),
        (alex, ALEX_UPN),
        (None, "Ghost@contoso.example"),
        (None, "bad/organizer"),
    ]
    failed = results[0].to_dict()
    assert failed["user_id"] is None and failed["given_user_id"] == GHOST_UPN
    assert (failed["error_status"], failed["error_code"], failed["permanent"]) == (
        404,
        "Request_ResourceNotFound",
        True,
    )
    assert lookup_counts(emu) == {"404": 1, "200": 1}  # two spellings of the ghost, one lookup
    assert [m["external_id"] for m in emu.meetings()] == ["mixed-1"]
    assert emu.stats()["by_route"]["createOrGet"] == {"201": 1}


def test_bulk_without_user_read_fails_only_the_upn_items(make_hook, emu):
    emu.set_app_roles(ROLES_WITHOUT_USER_READ)
    megan = emu.user("meganb")["id"]
    items = [
        {"external_id": "no-read-0", "user_id": ALEX_UPN},
        {"external_id": "no-read-1", "user_id": megan},
        {"external_id": "no-read-2", "user_id": MEGAN_UPN},
    ]

    results = make_hook().create_or_get_meetings(items)

    assert [r.ok for r in results] == [False, True, False]
    denied = results[0].error
    assert isinstance(denied, OrganizerLookupDeniedError) and denied.permanent and results[0].permanent
    assert "application permission User.Read.All with admin consent" in str(denied)
    assert "or give organizers by their Entra object id" in str(denied)
    assert isinstance(results[2].error, OrganizerLookupDeniedError) and results[2].error.upn == MEGAN_UPN
    assert lookup_counts(emu) == {"403": 2}
    assert [m["user_id"] for m in emu.meetings()] == [megan]


def test_bulk_lookups_that_stay_throttled_fail_their_items_as_transient(make_hook, emu):
    emu.script({"status": 503, "retry_after": "0"}, match=r"^GET /users/", times=100)
    results = make_hook(max_retries=1).create_or_get_meetings(
        [{"external_id": "throttled-0", "user_id": ALEX_UPN}, {"external_id": "throttled-1"}]
    )

    assert [r.ok for r in results] == [False, True]
    error = results[0].error
    assert isinstance(error, OrganizerLookupError) and not error.permanent and not results[0].permanent
    assert error.status == 503
    assert str(error).startswith("organizer 'alexw@contoso.example' (a user principal name) could not be resolved")
    assert lookup_counts(emu) == {"503": 2}


# -- guest (B2B) organizers -------------------------------------------------------------------

GUEST_UPN = "jane_example.org#EXT#@contoso.onmicrosoft.com"
GUEST_ID = "6f0c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c98"


def test_a_guest_upn_is_sent_percent_encoded_and_found(make_hook, emu):
    # A guest's UPN carries "#EXT#"; a raw "#" would end the URL path, so it goes out as %23.
    emu.reset(users=True)
    emu.add_user(GUEST_ID, GUEST_UPN, "Jane Guest")
    try:
        hook = make_hook()
        wire = Wire(hook)
        result = hook.create_or_get_meeting("guest-organizer", user_id=GUEST_UPN)
        meetings, lookups = emu.meetings(), lookup_counts(emu)
    finally:
        emu.reset(users=True)

    assert (result.user_id, result.given_user_id) == (GUEST_ID, GUEST_UPN) and result.created
    assert [(m["user_id"], m["external_id"]) for m in meetings] == [(GUEST_ID, "guest-organizer")]
    assert [(method, path) for method, path, _, _ in wire.calls] == [
        ("GET", "users/jane_example.org%23EXT%23%40contoso.onmicrosoft.com?$select=id"),
        ("POST", f"users/{GUEST_ID}/onlineMeetings/createOrGet"),
    ]
    assert lookups == {"200": 1}  # the emulator decoded %23 and found the guest


def test_a_guest_upn_in_bulk_is_looked_up_in_a_batch(make_hook, emu):
    emu.reset(users=True)
    emu.add_user(GUEST_ID, GUEST_UPN, "Jane Guest")
    try:
        hook = make_hook()
        wire = Wire(hook)
        results = hook.create_or_get_meetings([{"external_id": "guest-bulk", "user_id": GUEST_UPN}])
        meetings = emu.meetings()
    finally:
        emu.reset(users=True)

    assert [(r.ok, r.user_id, r.given_user_id) for r in results] == [(True, GUEST_ID, GUEST_UPN)]
    assert [(m["user_id"], m["external_id"]) for m in meetings] == [(GUEST_ID, "guest-bulk")]
    urls = [item["url"] for item in wire.batch_items()]
    assert "/users/jane_example.org%23EXT%23%40contoso.onmicrosoft.com?$select=id" in urls, urls
    assert all("#" not in url for url in urls)
