"""The opt-in token cache file (``token_cache_path``) through real MSAL against the emulator:
one token for many hooks and processes, a 0600 file, and never a failed task because of it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

NOBODY = 65534


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def delegated(emulator: Any, **extra: Any) -> dict[str, Any]:
    return {"password": None, "refresh_token": emulator.public_refresh_token, "default_user_id": None, **extra}


def test_cache_file_is_created_0600_in_a_0700_folder_and_holds_the_tokens(make_hook, tmp_path):
    cache = tmp_path / "airflow" / "token-cache.json"
    hook = make_hook(token_cache_path=str(cache))
    token = hook.get_access_token()

    assert mode(cache) == 0o600 and mode(cache.parent) == 0o700
    entries = json.loads(cache.read_text())
    assert token in [e["secret"] for e in entries["AccessToken"].values()]


def test_a_looser_existing_file_is_tightened_with_a_warning(make_hook, tmp_path, hook_logs):
    cache = tmp_path / "token-cache.json"
    cache.write_text("{}")
    cache.chmod(0o644)
    make_hook(token_cache_path=str(cache)).get_access_token()

    assert mode(cache) == 0o600
    assert any("readable by other users; its mode is now 0600" in m for m in hook_logs.messages("warning"))


@pytest.mark.parametrize("mode_name", ["app", "delegated"])
def test_the_next_hook_reuses_the_cached_access_token(make_hook, graph_emulator, tmp_path, mode_name):
    conn = {"token_cache_path": str(tmp_path / "cache.json")}
    if mode_name == "delegated":
        conn = delegated(graph_emulator, **conn)
    for n in range(3):
        assert make_hook(**conn).create_or_get_meeting(f"cached-{mode_name}-{n}").created

    assert graph_emulator.stats()["token_requests"] == 1


def test_without_the_cache_every_hook_asks_for_a_token(make_hook, graph_emulator):
    for n in range(3):
        make_hook().create_or_get_meeting(f"uncached-{n}")

    assert graph_emulator.stats()["token_requests"] == 3


def test_a_renewed_delegated_token_is_shared_too(make_hook, graph_emulator, tmp_path):
    """After a 401, hook A renews with the cached refresh token; hook B then uses A's new access token."""
    conn = delegated(graph_emulator, token_cache_path=str(tmp_path / "cache.json"))
    first = make_hook(**conn)
    first.create_or_get_meeting("renew-1")
    graph_emulator.expire_tokens()
    first.create_or_get_meeting("renew-2")  # 401, then a token from the newest refresh token
    make_hook(**conn).create_or_get_meeting("renew-3")

    stats = graph_emulator.stats()
    assert stats["token_requests"] == 2
    assert stats["by_route"]["createOrGet"] == {"201": 3, "401": 1}


def test_two_connections_with_their_own_users_share_one_cache_file(make_hook, graph_emulator, tmp_path):
    """The cache remembers which account each connection's refresh token signed in."""
    graph_emulator.reset(tokens=True)
    cache = str(tmp_path / "shared.json")
    adele = make_hook(**delegated(graph_emulator, token_cache_path=cache))
    app_only = make_hook(token_cache_path=cache)
    adele.create_or_get_meeting("shared-me")
    app_only.create_or_get_meeting("shared-app", user_id=graph_emulator.user("alexw")["id"])
    make_hook(**delegated(graph_emulator, token_cache_path=cache)).create_or_get_meeting("shared-me-2")

    owners = {m["external_id"]: m["user_id"] for m in graph_emulator.meetings()}
    assert owners == {
        "shared-me": graph_emulator.user("adelev")["id"],
        "shared-app": graph_emulator.user("alexw")["id"],
        "shared-me-2": graph_emulator.user("adelev")["id"],
    }
    assert graph_emulator.stats()["token_requests"] == 2


# -- a cache that cannot be used never fails a task -------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\x00\x9f garbage \xff", id="binary garbage"),
        pytest.param(b'{"AccessToken": {"k": ', id="torn JSON"),
        pytest.param(b"[1, 2, 3]", id="JSON of another shape"),
    ],
)
def test_a_corrupt_cache_is_started_afresh_with_a_warning(make_hook, graph_emulator, tmp_path, hook_logs, content):
    cache = tmp_path / "token-cache.json"
    cache.write_bytes(content)
    cache.chmod(0o600)

    assert make_hook(token_cache_path=str(cache)).create_or_get_meeting("after-garbage").created
    assert any("is not a token cache" in m and "starting it afresh" in m for m in hook_logs.messages("warning"))
    assert "AccessToken" in json.loads(cache.read_text())  # repaired: the next task uses it
    make_hook(token_cache_path=str(cache)).create_or_get_meeting("after-repair")
    assert graph_emulator.stats()["token_requests"] == 1


def _unusable(kind: str, path: Path) -> None:
    if kind == "directory":
        path.mkdir()
    elif kind == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root reads a mode-000 file; the other cases cover an unusable file")
        path.write_text("{}")
        path.chmod(0o000)
    elif kind == "another user's":
        if os.geteuid() != 0:
            pytest.skip("only root can give a file to another user")
        path.write_text("{}")
        path.chmod(0o600)
        os.chown(path, NOBODY, NOBODY)
    elif kind == "symbolic link":
        target = path.with_name("elsewhere.json")
        target.write_text("{}")
        path.symlink_to(target)


@pytest.mark.parametrize("kind", ["directory", "unreadable", "another user's", "symbolic link"])
@pytest.mark.parametrize("mode_name", ["app", "delegated"])
def test_an_unusable_cache_falls_back_to_memory_with_a_warning(
    make_hook, graph_emulator, tmp_path, hook_logs, kind, mode_name
):
    cache = tmp_path / "token-cache.json"
    _unusable(kind, cache)
    conn = {"token_cache_path": str(cache)}
    if mode_name == "delegated":
        conn = delegated(graph_emulator, **conn)
    hook = make_hook(**conn)

    assert hook.create_or_get_meeting(f"unusable-{kind}-1").created
    assert hook.create_or_get_meeting(f"unusable-{kind}-2").created
    warnings = [m for m in hook_logs.messages("warning") if f"Token cache {cache} cannot be used" in m]
    assert len(warnings) == 1 and "keeps its tokens in memory" in warnings[0]
    assert graph_emulator.stats()["token_requests"] == 1  # the in-memory cache still serves the hook


def test_a_lock_file_left_behind_costs_nothing(make_hook, graph_emulator, tmp_path, hook_logs):
    """A killed process leaves the lock file (msal-extensions' own lock would then block for 5 s):
    the lock is the kernel's flock, released with the process, so the file alone blocks no one."""
    cache = tmp_path / "token-cache.json"
    Path(f"{cache}.lockfile").write_text("12345 killed-task")
    started = time.monotonic()

    assert make_hook(token_cache_path=str(cache)).create_or_get_meeting("behind-a-left-lock").created
    assert time.monotonic() - started < 4
    assert not [m for m in hook_logs.messages("warning") if "cannot be used" in m]
    make_hook(token_cache_path=str(cache)).create_or_get_meeting("behind-a-left-lock-2")
    assert graph_emulator.stats()["token_requests"] == 1


# -- across processes ----------------------------------------------------------------------------

TASK = textwrap.dedent(
    """
    import sys
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    hook = OnlineMeetingsHook("meetings_task")
    print(hook.create_or_get_meeting(sys.argv[1]).created)
    """
)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode_name", ["app", "delegated"])
def test_fresh_task_processes_share_one_token(graph_emulator, tmp_path, mode_name):
    """Three task-like processes, one after the other, make one token request between them."""
    graph_emulator.reset()
    conn = {"token_cache_path": str(tmp_path / "cache.json")}
    if mode_name == "delegated":
        conn = delegated(graph_emulator, **conn)
    env = {**os.environ, **graph_emulator.environment("meetings_task", **conn)}
    for n in range(3):
        done = subprocess.run(
            [sys.executable, "-c", TASK, f"process-{mode_name}-{n}"], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().splitlines()[-1] == "True"

    assert graph_emulator.stats()["token_requests"] == 1
    assert mode(tmp_path / "cache.json") == 0o600
