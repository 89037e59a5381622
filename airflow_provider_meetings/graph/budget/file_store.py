"""The ``file`` backend: one JSON file per budget on this machine, changed under ``flock(2)``.

The lock is the token cache's (:func:`~airflow_provider_meetings.auth.cache_file.cache_lock`
on ``<file>.lockfile``): the kernel releases it when its process ends, however it ends, so
a worker killed inside a transaction blocks no one. The file is written as the token cache
is (:class:`~airflow_provider_meetings.auth.cache_file.AtomicFile`: a new 0600 temporary file
of a random name, renamed over it; readers hold the lock too, so they never see a part), so a
symbolic link planted in the folder is neither followed nor written through. Unlike the
token cache it is not flushed to disk (``fsync=False``): after a machine crash an empty or
missing file only means a fresh start.

:func:`default_folder` is in the temporary directory that every user shares, so the store
uses it only when it is a directory of this user's (the token cache's test,
:func:`~airflow_provider_meetings.auth.cache_file.check_own`): one that another user created
first could hold their files and their lock.

The clock is ``CLOCK_MONOTONIC`` (:func:`time.monotonic`): one clock for every process of
the machine, which wall-clock changes (NTP, an administrator) do not move. It restarts at
boot, so the document carries the boot id and a document of another boot is not read.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable

from airflow_provider_meetings.auth.cache_file import (
    AtomicFile,
    LockTimeout,
    NotOwn,
    cache_lock,
    check_own,
    effective_uid,
)
from airflow_provider_meetings.graph.budget.store import StoreUnavailable, Update

#: Seconds a transaction waits for another process's: the lock is held for a read and a
#: write of a small file, so a longer wait means something is wrong (fall back).
LOCK_TIMEOUT = 0.5
_BOOT_ID = "/proc/sys/kernel/random/boot_id"


def boot_id() -> str:
    """This boot's id (Linux), or ``""`` where there is none."""
    try:
        with open(_BOOT_ID, encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def budget_file(folder: str, key: str) -> str:
    """The budget file of ``key`` in ``folder`` (a hash: tenant ids need no escaping)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return os.path.join(folder, f"rate-budget-{digest}.json")


def default_folder() -> str:
    """Where budget files go without a token cache: a private folder in the temporary directory.

    Named after the user who owns what this process creates, the user :meth:`FileStore.transact`
    requires it to belong to (no suffix where the platform has no user ids).
    """
    uid = effective_uid()
    return os.path.join(tempfile.gettempdir(), "airflow-provider-meetings" + ("" if uid is None else f"-{uid}"))


class FileStore:
    """Budgets in files of one folder (beside the token cache, or :func:`default_folder`).

    :param folder: the folder (created 0700 if missing)
    :param lock_timeout: seconds to wait for another process's transaction
    :param clock: the shared clock (``time.monotonic``; tests pass a skewed one)
    :param private: use the folder only if it is a directory (not a link) of this user's;
        ``None``: only when it is :func:`default_folder`, in the shared temporary directory
        (a folder beside the token cache is the deployment's choice, e.g. a volume that root
        owns and a group may write to)
    """

    kind = "file"

    def __init__(
        self,
        folder: str,
        *,
        lock_timeout: float = LOCK_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        private: bool | None = None,
    ) -> None:
        self.folder = folder
        self.lock_timeout = lock_timeout
        self.clock = clock
        self.private = os.path.abspath(folder) == os.path.abspath(default_folder()) if private is None else private
        self._boot = boot_id()
        self._files: dict[str, AtomicFile] = {}  # one per budget file: its first write sweeps leftovers

    def describe(self) -> str:
        """The folder of the budget files."""
        return f"files in {self.folder}"

    def transact(self, key: str, update: Update) -> None:
        """Read, update and replace the budget file of ``key`` under its lock.

        :param key: the budget's name (:func:`budget_file` hashes it)
        :param update: the change, from the current state (``None``: none yet) and the clock
        :raises StoreUnavailable: the folder or the file cannot be used, or the lock is held too long
        """
        path = budget_file(self.folder, key)
        file = self._files.get(path)
        if file is None:
            file = self._files[path] = AtomicFile(path, fsync=False)
        try:
            self._prepare_folder()
            with cache_lock(path, timeout=self.lock_timeout):
                new = update(self._read(file), self.clock())
                new["boot"] = self._boot
                file.write(json.dumps(new))
        except LockTimeout as error:
            raise StoreUnavailable(f"{path}: {error}") from None
        except OSError as error:
            raise StoreUnavailable(f"{path}: {error.strerror or error}") from None

    def _prepare_folder(self) -> None:
        """Create the folder (0700) if missing; when :attr:`private`, refuse one that is not this user's."""
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        if not self.private:
            return
        try:
            check_own(os.lstat(self.folder), directory=True)
        except NotOwn as error:
            consequence = ", who could change or block the budget" if error.owner is not None else ""
            raise StoreUnavailable(
                f"{self.folder}: {error}{consequence}; remove it, or set token_cache_path to keep the budget "
                "beside the token cache"
            ) from None

    def _read(self, file: AtomicFile) -> dict | None:
        """The budget of this boot in ``file``; ``None`` when there is none, or none readable.

        A symbolic link in its place is not followed: it reads as no budget, and the write replaces it.
        """
        try:
            content, _ = file.read()
            state = json.loads(content) if content else None
        except ValueError:  # not JSON, or not UTF-8
            return None
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a link (EMLINK: the BSDs)
                return None
            raise
        if isinstance(state, dict) and state.get("boot") == self._boot:
            return state
        return None

    def close(self) -> None:
        """Nothing to release: every transaction opens and closes its files."""
