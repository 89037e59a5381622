"""MSAL's token cache: in memory (one task), or a file shared by the task processes of one machine.

Airflow runs each task in a fresh process, so MSAL's in-memory cache serves one task only.
With the connection extra ``token_cache_path`` the cache is a file: every change is made
under a cross-process lock on the newest content of the file, which is then replaced
atomically (:mod:`~airflow_provider_meetings.auth.cache_file`: a temporary file renamed over
it, and a ``flock`` that the kernel releases when its process is killed; msal-extensions'
``PersistedTokenCache`` rewrites the file in place and its lock file outlives a killed
process). So app-only access tokens are reused by the next tasks, and in delegated mode the
newest rotated refresh token is what the next task redeems.

The file holds tokens: it is created 0600 (a looser existing file is tightened, with a
warning; one owned by another user is not used). A cache that cannot be used (unreadable,
lock not obtained) never fails a task: the task warns and keeps its tokens in memory, as
without the extra. A file that is not a token cache is logged and replaced, at the next
write, by the tokens this process holds.

Delegated mode also needs to know which account of the cache a connection's refresh token
signed in: :func:`find_login` and :func:`remember_login` keep that, per refresh token
fingerprint (SHA-256, never the token), as one more credential type of MSAL's cache
(``key_makers`` is MSAL's extension point for that, msal/token_cache.py ``modify``).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from typing import Any

import msal
from msal_extensions import LockError

from airflow_provider_meetings.auth.cache_file import (
    NO_FOLLOW,
    AtomicFile,
    LockTimeout,
    NotOwn,
    Signature,
    cache_lock,
    check_own,
    lock_path,
)

#: The credential type under which the cache remembers a connection's refresh token's account.
LOGIN_RECORD = "AirflowProviderMeetingsLogin"
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


class TokenCacheUnusable(Exception):
    """The cache file cannot be used (the reason is safe to log: it names no token)."""


def fingerprint(refresh_token: str) -> str:
    """A stable, non-reversible name for a refresh token (SHA-256, hex)."""
    return hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()


def _add_login_records(cache: msal.TokenCache) -> None:
    cache.key_makers[LOGIN_RECORD] = lambda client_id=None, fingerprint=None, **_: f"{client_id}-{fingerprint}".lower()


def find_login(cache: msal.TokenCache, client_id: str, refresh_token: str) -> str | None:
    """The ``home_account_id`` that this refresh token signed in, if the cache knows it."""
    query = {"client_id": client_id, "fingerprint": fingerprint(refresh_token)}
    for entry in cache.search(LOGIN_RECORD, query=query):
        return entry.get("home_account_id")
    return None


def remember_login(cache: msal.TokenCache, client_id: str, refresh_token: str, home_account_id: str) -> None:
    """Remember which account this refresh token signed in (its newest successor is in the cache)."""
    entry = {"client_id": client_id, "fingerprint": fingerprint(refresh_token)}
    cache.modify(LOGIN_RECORD, entry, {"home_account_id": home_account_id, "recorded_at": str(int(time.time()))})


def _describe(error: BaseException) -> str:
    """An error's reason without file content: ``strerror`` for OS errors, the type otherwise."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if isinstance(error, (TokenCacheUnusable, LockTimeout, LockError)):
        return str(error)
    return type(error).__name__


def prepare_private_file(path: str) -> bool:
    """Make sure ``path`` is a regular file of ours with mode 0600; create it (and its folder) if absent.

    msal-extensions creates the file 0600 but keeps the mode of an existing file and
    creates folders with the default mode (msal_extensions/persistence.py ``_open``,
    ``_mkdir_p``).

    :return: whether an existing file's looser mode was tightened
    :raises TokenCacheUnusable: when it is not a file, belongs to another user, or cannot
        be opened for reading and writing
    """
    directory = os.path.dirname(path)
    try:
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, mode=DIRECTORY_MODE, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | NO_FOLLOW, FILE_MODE)
    except OSError as err:
        raise TokenCacheUnusable(f"cannot open it for reading and writing ({_describe(err)})") from None
    try:
        info = os.fstat(descriptor)
        try:
            check_own(info)
        except NotOwn as err:
            raise TokenCacheUnusable(f"{err}, who can read its tokens" if err.owner is not None else str(err)) from None
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(descriptor, FILE_MODE)
            return True
        return False
    finally:
        os.close(descriptor)


class SharedTokenCache(msal.SerializableTokenCache):
    """MSAL's token cache kept in a file shared by processes, which degrades to memory instead of failing.

    Every change (MSAL's ``modify``) happens under the cross-process lock: the file is read
    again, the change is applied to that content and the whole is written back atomically
    (:mod:`~airflow_provider_meetings.auth.cache_file`), so no other process's entries are
    lost. Searches read the file without the lock when it has changed: an atomically
    replaced file is always whole.

    :param path: the cache file (absolute)
    :param log: where warnings go (the hook's logger)
    """

    def __init__(self, path: str, log: Any) -> None:
        self.path = path
        self.lock_path = lock_path(path)
        self._log = log
        self._in_memory = False
        if prepare_private_file(path):
            log.warning("Token cache %s was readable by other users; its mode is now 0600 (it holds tokens)", path)
        super().__init__()
        self._file = AtomicFile(path)
        self._signature: Signature | None = None  # of the version last read or written
        self._loaded = False
        self._refused: Signature | None = None  # the version last found not to be a token cache
        _add_login_records(self)

    def deserialize(self, state: str | None) -> None:
        """Load the file's content; anything but MSAL's shape is refused and the content in memory kept.

        :raises ValueError: when ``state`` is not JSON or not MSAL's shape
        """
        cache = json.loads(state) if state else {}
        if not isinstance(cache, dict) or not all(isinstance(v, dict) for v in cache.values()):
            raise ValueError("not an MSAL token cache")
        with self._lock:
            self._cache = cache
            self.has_state_changed = False

    def _reload(self, *, always: bool) -> None:
        """Read the file if it changed since this process last read or wrote it (or ``always``).

        A file that is not a token cache is logged once and the tokens in memory are kept;
        the next write replaces it with them.
        """
        if not always and self._loaded and self._file.signature() == self._signature:
            return
        content, signature = self._file.read()
        try:
            self.deserialize(content.decode("utf-8"))
        except ValueError as err:  # not JSON, not UTF-8, or not MSAL's shape
            if signature != self._refused:
                self._refused = signature
                self._log.warning(
                    "Token cache %s is not a token cache (%s); starting it afresh: this task writes "
                    "its own tokens there (a new token is requested if it has none)",
                    self.path,
                    _describe(err),
                )
        self._signature = signature
        self._loaded = True

    def search(self, credential_type: str, **kwargs: Any) -> Any:
        if not self._in_memory:
            try:
                with self._lock:
                    self._reload(always=False)
            except Exception as err:  # never fail a task for its cache
                self._give_up(err)
        return super().search(credential_type, **kwargs)

    def modify(self, credential_type: str, old_entry: dict[str, Any], new_key_value_pairs: Any = None) -> None:
        if not self._in_memory:
            try:
                with self._lock, cache_lock(self.path):
                    self._reload(always=True)  # under the lock: the other processes' newest entries
                    super().modify(credential_type, old_entry, new_key_value_pairs)
                    self._signature = self._file.write(self.serialize())
                return
            except Exception as err:  # never fail a task for its cache
                self._give_up(err)
        super().modify(credential_type, old_entry, new_key_value_pairs)

    def _give_up(self, error: BaseException) -> None:
        """Keep tokens in memory from now on (the file cannot be read, written or locked)."""
        self._in_memory = True
        _warn_unusable(self._log, self.path, error)


def _warn_unusable(log: Any, path: str, error: BaseException) -> None:
    """The one warning of a cache file that cannot be used (at the start or later): tokens stay in memory."""
    log.warning(
        "Token cache %s cannot be used (%s); this task keeps its tokens in memory and asks Entra ID "
        "for new ones. Check the file's owner and mode (0600) and that its folder is writable%s",
        path,
        _describe(error),
        f", and which process holds the lock on {lock_path(path)} (a hung one: a killed one releases it)"
        if isinstance(error, (LockTimeout, LockError))
        else "",
    )


def open_token_cache(path: str | None, log: Any) -> msal.SerializableTokenCache:
    """The token cache for one hook: the shared file at ``path``, or MSAL's in-memory cache.

    :param path: the connection's ``token_cache_path``, or ``None``
    :param log: where warnings go
    """
    cache: msal.SerializableTokenCache
    if path is None:
        cache = msal.SerializableTokenCache()
    else:
        try:
            cache = SharedTokenCache(path, log)
        except Exception as err:  # never fail a task for its cache
            _warn_unusable(log, path, err)
            cache = msal.SerializableTokenCache()
    _add_login_records(cache)
    return cache
