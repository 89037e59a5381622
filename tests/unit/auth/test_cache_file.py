"""The token cache file's atomic writes and its cross-process lock, and how the shared cache uses them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from airflow_provider_meetings.auth import cache_file
from airflow_provider_meetings.auth.cache_file import AtomicFile, LockTimeout, cache_lock, lock_path
from airflow_provider_meetings.auth.token_cache import LOGIN_RECORD, SharedTokenCache, find_login, remember_login
from auth.test_token_cache import Log, mode  # the token cache's own test helpers


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(cache_file.TEMPORARY_SUFFIX))


def test_a_write_replaces_the_file_with_a_new_0600_one(tmp_path):
    path = tmp_path / "cache.json"
    path.write_text("old")
    path.chmod(0o600)
    old_umask = os.umask(0)
    try:
        file = AtomicFile(str(path))
        first = file.write('{"a": {}}')
        second = file.write('{"b": {}}')
    finally:
        os.umask(old_umask)
    assert path.read_text() == '{"b": {}}' and mode(path) == 0o600
    assert first != second and file.signature() == second
    assert file.read() == (b'{"b": {}}', second)
    assert leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "cache.json"
    path.write_text("old")

    def refuse(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        AtomicFile(str(path)).write("new")
    assert path.read_text() == "old" and leftovers(tmp_path) == []


@pytest.mark.parametrize("durable", [True, False])
def test_fsync_is_the_callers_choice(tmp_path, monkeypatch, durable):
    flushed: list[int] = []
    monkeypatch.setattr(os, "fsync", flushed.append)
    file = AtomicFile(str(tmp_path / "cache.json"), fsync=durable)

    file.write("{}")

    assert len(flushed) == (1 if durable else 0) and file.read()[0] == b"{}"


def test_a_link_planted_in_the_folder_is_not_written_through(tmp_path):
    target = tmp_path / "victim.txt"
    target.write_text("precious")
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "cache.json").symlink_to(target)
    file = AtomicFile(str(folder / "cache.json"))

    with pytest.raises(OSError):
        file.read()  # O_NOFOLLOW
    file.write("{}")

    assert target.read_text() == "precious"
    assert not (folder / "cache.json").is_symlink() and mode(folder / "cache.json") == 0o600


def test_leftovers_of_killed_writers_are_removed_and_nothing_else(tmp_path):
    (tmp_path / ".cache.json.abc123.partial").write_text("half a wri")
    (tmp_path / ".other.json.abc123.partial").write_text("another cache's")
    (tmp_path / "cache.json").write_text("{}")
    assert AtomicFile(str(tmp_path / "cache.json")).remove_leftovers() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.json.abc123.partial", "cache.json"]


def test_a_missing_file_reads_empty(tmp_path):
    file = AtomicFile(str(tmp_path / "absent.json"))
    assert file.read() == (b"", None) and file.signature() is None


def test_the_lock_excludes_another_holder_then_times_out(tmp_path):
    path = str(tmp_path / "cache.json")
    with cache_lock(path):
        assert mode(Path(lock_path(path))) == 0o600
        started = time.monotonic()
        with pytest.raises(LockTimeout, match="held the lock for over 0.2 s"):
            with cache_lock(path, timeout=0.2):
                pass
        assert time.monotonic() - started >= 0.2
    with cache_lock(path, timeout=0.2):  # released
        pass
    assert os.path.exists(lock_path(path))  # never removed (see cache_lock)


HOLDER = textwrap.dedent(
    """
    import sys, time
    from airflow_provider_meetings.auth.cache_file import cache_lock

    with cache_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
    """
)


def test_a_killed_holder_releases_the_lock(tmp_path):
    path = str(tmp_path / "cache.json")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, path], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockTimeout):
            with cache_lock(path, timeout=0.1):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    finally:
        holder.kill()
        holder.wait(10)
    started = time.monotonic()
    with cache_lock(path, timeout=2):
        assert time.monotonic() - started < 1
    assert os.path.exists(lock_path(path))  # left behind, and harmless


# -- the shared cache on top of them ------------------------------------------------------------


def test_two_caches_on_one_file_keep_each_others_entries(tmp_path):
    path = str(tmp_path / "cache.json")
    first, second = SharedTokenCache(path, Log()), SharedTokenCache(path, Log())
    remember_login(first, "client", "rt-1", "one")
    remember_login(second, "client", "rt-2", "two")  # reloads under the lock: keeps "one"
    remember_login(first, "client", "rt-3", "three")  # and again: keeps "two"

    third = SharedTokenCache(path, Log())
    assert [find_login(third, "client", f"rt-{n}") for n in (1, 2, 3)] == ["one", "two", "three"]
    assert mode(Path(path)) == 0o600 and leftovers(tmp_path) == []


def test_a_corrupt_file_keeps_what_the_process_holds_and_is_rewritten_with_it(tmp_path):
    path = tmp_path / "cache.json"
    log = Log()
    cache = SharedTokenCache(str(path), log)
    remember_login(cache, "client", "rt-1", "one")
    path.write_bytes(b'{"AccessToken": {"torn')  # e.g. another program's torn write

    assert find_login(cache, "client", "rt-1") == "one"  # the tokens in memory are kept
    assert find_login(cache, "client", "rt-1") == "one"
    [warning] = log.warnings  # once per version of the file
    assert "is not a token cache (JSONDecodeError); starting it afresh" in warning
    remember_login(cache, "client", "rt-2", "two")
    stored = json.loads(path.read_text())[LOGIN_RECORD]
    assert sorted(e["home_account_id"] for e in stored.values()) == ["one", "two"]


def test_a_write_removes_a_killed_writers_temporary_file(tmp_path):
    (tmp_path / ".cache.json.killed.partial").write_text('{"half": ')
    cache = SharedTokenCache(str(tmp_path / "cache.json"), Log())
    remember_login(cache, "client", "rt", "uid")
    assert leftovers(tmp_path) == []


def test_a_lock_held_too_long_keeps_the_tokens_in_memory_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_file, "LOCK_TIMEOUT", 0.1)
    path = str(tmp_path / "cache.json")
    log = Log()
    cache = SharedTokenCache(path, log)
    with cache_lock(path):  # a hung process
        remember_login(cache, "client", "rt", "uid")
    assert find_login(cache, "client", "rt") == "uid"
    [warning] = log.warnings
    assert "cannot be used (another process held the lock for over 0.1 s)" in warning
    assert f"which process holds the lock on {path}.lockfile" in warning


def test_the_first_write_of_a_file_removes_killed_writers_leftovers_once(tmp_path):
    (tmp_path / ".cache.json.killed.partial").write_text('{"half": ')
    file = AtomicFile(str(tmp_path / "cache.json"))

    file.write("{}")
    assert leftovers(tmp_path) == []
    (tmp_path / ".cache.json.later.partial").write_text("")  # not looked for again by this object
    file.write('{"a": {}}')

    assert leftovers(tmp_path) == [".cache.json.later.partial"]
    AtomicFile(str(tmp_path / "cache.json")).write("{}")  # another process's first write
    assert leftovers(tmp_path) == []


def test_check_own_accepts_this_users_file_or_folder_only(tmp_path, monkeypatch):
    file, folder, link = tmp_path / "cache.json", tmp_path / "folder", tmp_path / "link"
    file.write_text("{}")
    folder.mkdir()
    link.symlink_to(folder)

    cache_file.check_own(os.lstat(file))
    cache_file.check_own(os.lstat(folder), directory=True)
    with pytest.raises(cache_file.NotOwn, match="not a regular file"):
        cache_file.check_own(os.lstat(folder))
    with pytest.raises(cache_file.NotOwn, match="not a directory"):
        cache_file.check_own(os.lstat(link), directory=True)
    owner = file.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    with pytest.raises(cache_file.NotOwn, match=f"another user \\(uid {owner}\\)") as refused:
        cache_file.check_own(os.lstat(file))
    assert refused.value.owner == owner


def test_check_own_without_user_ids_checks_the_kind_only(tmp_path, monkeypatch):
    (tmp_path / "cache.json").write_text("{}")
    monkeypatch.delattr(os, "geteuid")

    assert cache_file.effective_uid() is None
    cache_file.check_own(os.lstat(tmp_path / "cache.json"))
    with pytest.raises(cache_file.NotOwn, match="not a regular file"):
        cache_file.check_own(os.lstat(tmp_path))
