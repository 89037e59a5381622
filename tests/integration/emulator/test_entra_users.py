"""Users' own organizers: adding users to the emulated tenant (CLI, control endpoint, state file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulator_testlib import app_token, create_or_get, make_session

pytestmark = pytest.mark.integration

DANA = "6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
FOX = "7a1d2b3c-4d5e-4f6a-9b0c-1d2e3f4a5b6c"


def create(emu: Any, user: str, external_id: str = "standup") -> Any:
    return create_or_get(emu, app_token(emu), external_id, user)


def test_added_user_organizes_meetings(emu: Any) -> None:
    added = emu.add_user(DANA, "dana@contoso.example", "Dana Scully")
    assert added == {
        "id": DANA,
        "userPrincipalName": "dana@contoso.example",
        "displayName": "Dana Scully",
        "hasPolicy": True,
    }
    response = create(emu, DANA)
    assert response.status_code == 201, response.text
    organizer = response.json()["participants"]["organizer"]
    assert organizer["identity"]["user"]["id"] == DANA
    assert emu.user("dana")["displayName"] == "Dana Scully"


def test_added_user_without_policy(emu: Any) -> None:
    emu.add_user(FOX, "fox@contoso.example", "Fox Mulder", has_policy=False)
    response = create(emu, FOX)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "No Application Access Policy found for this app."
    emu.grant_policy("fox@contoso.example")
    assert create(emu, FOX).status_code == 201


def test_reset_keeps_added_users_unless_asked(emu: Any) -> None:
    emu.add_user(FOX, "fox@contoso.example", "Fox Mulder", has_policy=False)
    emu.grant_policy(FOX)
    emu.reset()
    assert emu.user(FOX)["hasPolicy"] is False  # back to the policy it was added with
    emu.reset(users=True)
    with pytest.raises(KeyError):
        emu.user(FOX)
    assert create(emu, FOX).status_code == 404


def test_adding_the_same_user_twice_is_harmless_but_conflicts_are_refused(emu: Any) -> None:
    emu.add_user(DANA, "dana@contoso.example", "Dana Scully")
    emu.add_user(DANA, "dana@contoso.example", "Dana Scully")
    session = make_session(emu.ca_path)
    taken_upn = {"id": FOX, "userPrincipalName": "adelev@contoso.example", "displayName": "Twin"}
    response = session.post(f"{emu.url}/_emulator/users", json=taken_upn, timeout=10)
    assert response.status_code == 400
    assert "'adelev@contoso.example' already belongs to user" in response.json()["error"]
    not_a_guid = {"id": "dana", "userPrincipalName": "dana2@contoso.example", "displayName": "Dana"}
    response = session.post(f"{emu.url}/_emulator/users", json=not_a_guid, timeout=10)
    assert response.status_code == 400
    assert "not an Entra object id" in response.json()["error"]
    response = session.post(f"{emu.url}/_emulator/users", json={"id": FOX}, timeout=10)
    assert response.status_code == 400


def test_cli_users_and_remote_control_survive_a_restart(tmp_path: Path) -> None:
    from meetings_emulator import start_emulator_process

    state = tmp_path / "state.json"
    cli_user = [
        "--user",
        f'{DANA},dana@contoso.example,"Scully, Dana",policy=no',
        "--user",
        "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01,adelev@contoso.example,Adele Vance",  # the seeded one again: fine
    ]
    with start_emulator_process(state_file=str(state), ca_file=str(tmp_path / "ca.pem"), extra_args=cli_user) as emu:
        assert emu.user(DANA) == {
            "id": DANA,
            "userPrincipalName": "dana@contoso.example",
            "displayName": "Scully, Dana",
            "hasPolicy": False,
        }
        assert create(emu, DANA).status_code == 403
        emu.add_user(FOX, "fox@contoso.example", "Fox Mulder")
        assert create(emu, FOX).status_code == 201
        emu.revoke_policy(FOX)
    with start_emulator_process(state_file=str(state), ca_file=str(tmp_path / "ca2.pem")) as emu:
        # Users added at run time and their policy changes come back from the state file.
        assert emu.user("fox")["hasPolicy"] is False
        with pytest.raises(KeyError):
            emu.user(DANA)  # a --user of the previous run is configuration, not state
        emu.grant_policy(FOX)
        assert create(emu, FOX).status_code == 200  # the meeting survived too


def test_cli_refuses_a_conflicting_user(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "meetings_emulator",
            "--port",
            "0",
            "--user",
            f"{DANA},adelev@contoso.example,Not Adele",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "'adelev@contoso.example' already belongs to user" in done.stderr
