"""The token cache file's rules that need no network: its mode, refusals, and login records."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from airflow_provider_meetings.auth.token_cache import (
    TokenCacheUnusable,
    find_login,
    fingerprint,
    open_token_cache,
    prepare_private_file,
    remember_login,
)


class Log:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str, *args: object) -> None:
        self.warnings.append(message % args)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_0600_in_a_new_0700_folder(tmp_path):
    path = tmp_path / "new" / "cache.json"
    old_umask = os.umask(0o022)
    try:
        assert prepare_private_file(str(path)) is False
    finally:
        os.umask(old_umask)
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)


def test_a_looser_file_is_tightened(tmp_path):
    path = tmp_path / "cache.json"
    path.write_text("{}")
    path.chmod(0o664)
    assert prepare_private_file(str(path)) is True
    assert mode(path) == 0o600 and path.read_text() == "{}"


@pytest.mark.parametrize("kind", ["directory", "symbolic link"])
def test_what_is_not_a_private_file_is_refused(tmp_path, kind):
    path = tmp_path / "cache.json"
    if kind == "directory":
        path.mkdir()
    else:
        (tmp_path / "target.json").write_text("{}")
        path.symlink_to(tmp_path / "target.json")
    with pytest.raises(TokenCacheUnusable):
        prepare_private_file(str(path))


def test_a_file_of_another_user_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "cache.json"
    path.write_text("{}")
    owner = path.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    with pytest.raises(TokenCacheUnusable, match=f"belongs to another user \\(uid {owner}\\), who can read its tokens"):
        prepare_private_file(str(path))


def test_login_records_survive_the_file_and_name_no_token(tmp_path):
    path = str(tmp_path / "cache.json")
    refresh_token = "0.AR-the-refresh-token-itself"
    first = open_token_cache(path, Log())
    assert find_login(first, "client", refresh_token) is None
    remember_login(first, "client", refresh_token, "uid.utid")

    second = open_token_cache(path, Log())  # another process
    assert find_login(second, "client", refresh_token) == "uid.utid"
    assert find_login(second, "other-client", refresh_token) is None
    assert find_login(second, "client", "0.AR-another-token") is None
    text = Path(path).read_text()
    assert refresh_token not in text and fingerprint(refresh_token) in text
    assert json.loads(text)  # still MSAL's JSON


def test_in_memory_cache_keeps_login_records_too():
    cache = open_token_cache(None, Log())
    remember_login(cache, "client", "rt", "uid.utid")
    assert find_login(cache, "client", "rt") == "uid.utid"


def test_an_unusable_path_gives_a_memory_cache_and_a_warning(tmp_path):
    log = Log()
    (tmp_path / "cache.json").mkdir()
    cache = open_token_cache(str(tmp_path / "cache.json"), log)
    remember_login(cache, "client", "rt", "uid.utid")
    assert find_login(cache, "client", "rt") == "uid.utid"
    [warning] = log.warnings
    assert "cannot be used" in warning and "keeps its tokens in memory" in warning


def test_a_cache_unusable_from_the_start_gives_the_same_advice_as_one_that_fails_later(tmp_path, monkeypatch):
    (tmp_path / "cache.json").mkdir()
    at_start = Log()
    open_token_cache(str(tmp_path / "cache.json"), at_start)
    later = Log()
    cache = open_token_cache(str(tmp_path / "later.json"), later)

    def refuse(*args: object, **kwargs: object) -> None:
        raise TokenCacheUnusable("it is not a regular file")

    monkeypatch.setattr(cache, "_reload", refuse)
    remember_login(cache, "client", "rt", "uid")

    [first], [second] = at_start.warnings, later.warnings
    assert first.split("); ", 1)[1] == second.split("); ", 1)[1]  # the same text after the reason
    assert "Check the file's owner and mode (0600) and that its folder is writable" in first
