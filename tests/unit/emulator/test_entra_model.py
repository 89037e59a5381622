"""Pure parts of the emulated Entra ID: user specs, CLI options, refresh tokens, device codes, permissions."""

from __future__ import annotations

import time

import pytest

from meetings_emulator.__main__ import build_parser
from meetings_emulator.client_credentials import Credential
from meetings_emulator.config import EmulatorConfig, SeedUser
from meetings_emulator.device_codes import DeviceCodeStore
from meetings_emulator.directory import UserTable
from meetings_emulator.errors import EntraError, GraphError
from meetings_emulator.permissions import CREATE_OR_GET, READ_MEETING, for_meeting_route, require
from meetings_emulator.refresh_tokens import RefreshTokenStore
from meetings_emulator.tokens import AccessToken

DANA = "6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            f"{DANA},dana@contoso.example,Dana Scully",
            SeedUser(DANA, "dana@contoso.example", "Dana Scully"),
            id="plain",
        ),
        pytest.param(
            f'{DANA}, dana@contoso.example, "Scully, Dana", policy=no',
            SeedUser(DANA, "dana@contoso.example", "Scully, Dana", has_policy=False),
            id="quoted-name-no-policy",
        ),
        pytest.param(
            f"{DANA},dana@contoso.example,Dana,policy=yes",
            SeedUser(DANA, "dana@contoso.example", "Dana"),
            id="policy-yes",
        ),
    ],
)
def test_user_spec(spec: str, expected: SeedUser) -> None:
    assert SeedUser.parse(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param("u1,dana@contoso.example,Dana", "not an Entra object id", id="id-not-guid"),
        pytest.param(f"{DANA},dana,Dana", "name@domain", id="upn-without-domain"),
        pytest.param(f"{DANA},dana@contoso.example,", "display name", id="empty-name"),
        pytest.param(f"{DANA},dana@contoso.example", "expected ID,UPN,Display Name", id="too-few"),
        pytest.param(f"{DANA},dana@contoso.example,Dana,policy=maybe", "policy=yes or policy=no", id="bad-policy"),
    ],
)
def test_user_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SeedUser.parse(spec)


def test_cli_options() -> None:
    args = build_parser().parse_args(
        ["--app-role", "A", "--app-role", "B", "--user", f"{DANA},dana@contoso.example,Dana,policy=no"]
    )
    assert args.app_roles == ["A", "B"]
    assert args.user == [SeedUser(DANA, "dana@contoso.example", "Dana", has_policy=False)]
    assert build_parser().parse_args(["--no-app-roles"]).no_app_roles is True


def test_cli_rejects_roles_and_no_roles(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--app-role", "A", "--no-app-roles"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_cli_bad_user_names_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--user", "u1,x@y,X"])
    assert "not an Entra object id" in capsys.readouterr().err


def test_config_rejects_a_graph_resource_that_is_not_https() -> None:
    with pytest.raises(ValueError, match="https URL"):
        EmulatorConfig(graph_resource="graph.microsoft.com")


def test_user_table_grows_and_refuses_conflicts() -> None:
    adele = EmulatorConfig().users[0]
    table = UserTable([adele])
    dana = SeedUser(DANA, "dana@contoso.example", "Dana")
    assert table.add(dana) is True
    assert table.add(dana) is False  # the same user again: nothing to do
    assert table.find("DANA@contoso.example") == dana and table.find(DANA.upper()) == dana
    with pytest.raises(ValueError, match="already belongs to user"):
        table.add(SeedUser(DANA, "other@contoso.example", "Other"))
    with pytest.raises(ValueError, match="already belongs to user"):
        table.add(SeedUser("7f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", adele.user_principal_name, "Twin"))
    assert table.added() == [dana]
    table.drop_added()
    assert list(table) == [adele] and table.find("dana@contoso.example") is None


def test_refresh_token_binding_rotation_and_expiry() -> None:
    store = RefreshTokenStore(lifetime=60)
    store.seed("public", "u", public=True)
    store.seed("confidential", "u", public=False)
    with pytest.raises(EntraError) as error:
        store.redeem("public", Credential.SECRET)
    assert error.value.code == 700025
    with pytest.raises(EntraError) as error:
        store.redeem("confidential", Credential.NONE)
    assert error.value.code == 7000218
    assert store.redeem("public", Credential.NONE).user_id == "u"
    minted = store.mint("u", public=True)
    assert store.minted() == [minted]
    assert store.expire_all() == 3
    with pytest.raises(EntraError) as error:
        store.redeem(minted, Credential.NONE)
    assert (error.value.status, error.value.error, error.value.code) == (400, "invalid_grant", 700082)
    assert "was inactive for 0.00:00:0" in error.value.description
    store.reset(forget_minted=True)
    assert store.minted() == []
    assert store.redeem("public", Credential.NONE).expires_at > time.time()


def test_device_code_life_cycle() -> None:
    store = DeviceCodeStore(lifetime=60, interval=1)
    code = store.start(["openid"])
    assert len(code.user_code) == 9 and code.user_code.isupper()
    with pytest.raises(EntraError) as error:
        store.poll(code.device_code)
    assert (error.value.error, error.value.code) == ("authorization_pending", 70016)
    store.decide(code.user_code.lower(), "u", approve=True)
    assert store.poll(code.device_code).user_id == "u"
    with pytest.raises(EntraError) as error:
        store.poll(code.device_code)  # consumed
    assert error.value.error == "bad_verification_code"
    declined = store.start(["openid"])
    store.decide(None, None, approve=False)
    with pytest.raises(EntraError) as error:
        store.poll(declined.device_code)
    assert error.value.error == "authorization_declined"
    with pytest.raises(ValueError, match="0 device codes are pending"):
        store.decide(None, "u", approve=True)
    expired = store.start(["openid"])
    expired.expires_at = time.time() - 1
    with pytest.raises(EntraError) as error:
        store.poll(expired.device_code)
    assert (error.value.error, error.value.code) == ("expired_token", 70019)
    with pytest.raises(KeyError):
        store.decide("NOSUCHCODE", "u", approve=True)


@pytest.mark.parametrize(
    ("route", "method", "expected"),
    [
        ("createOrGet", "POST", CREATE_OR_GET),
        ("getMeeting", "GET", READ_MEETING),
        ("listMeetings", "GET", READ_MEETING),
    ],
)
def test_permissions_per_route(route: str, method: str, expected: object) -> None:
    assert for_meeting_route(route, method) == expected


def test_require_checks_roles_of_app_tokens_and_scp_of_delegated_ones() -> None:
    app = AccessToken("t", "c", None, 0, roles=frozenset({"OnlineMeetings.Read.All"}))
    require(app, READ_MEETING)
    with pytest.raises(GraphError, match="Insufficient privileges"):
        require(app, CREATE_OR_GET)
    delegated = AccessToken("t", "c", "u", 0, roles=frozenset({"OnlineMeetings.ReadWrite.All"}))
    with pytest.raises(GraphError, match="Insufficient privileges"):
        require(delegated, CREATE_OR_GET)  # a delegated token is judged by its scp, not roles
    require(AccessToken("t", "c", "u", 0, scopes=frozenset({"onlinemeetings.readwrite"})), CREATE_OR_GET)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        pytest.param({"refresh_token_lifetime": -1}, "must not be negative", id="negative-lifetime"),
        pytest.param({"device_code_interval": 0}, "at least 1 second", id="zero-interval"),
    ],
)
def test_config_rejects_bad_lifetimes(option: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(**option)
    assert EmulatorConfig(token_lifetime=0).token_lifetime == 0  # tokens expired when issued: allowed
