"""The ``file`` backend: one JSON file per budget on this machine, changed under ``flock(2)``.

The lock is the token cache's (:func:`~airflow_provider_meetings.auth.cache_file.cache_lock`
on ``<file>.lockfile``): the kernel releases it when its process ends, however it ends, so
a worker killed inside a transaction blocks no one. The file is replaced by a rename
(readers hold the lock too, so they never see a part). Unlike the token cache it is not
flushed to disk: after a machine crash an empty or missing file only means a fresh start.

The clock is ``CLOCK_MONOTONIC`` (:func:`time.monotonic`): one clock for every process of
the machine, which wall-clock changes (NTP, an administrator) do not move. It restarts at
boot, so the document carries the boot id and a document of another boot is not read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable

from airflow_provider_meetings.auth.cache_file import LockTimeout, cache_lock
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
    """Where budget files go without a token cache: a private folder in the temporary directory."""
    return os.path.join(tempfile.gettempdir(), f"airflow-provider-meetings-{os.getuid()}")


class FileStore:
    """Budgets in files of one folder (beside the token cache, or :func:`default_folder`).

    :param folder: the folder (created 0700 if missing)
    :param lock_timeout: seconds to wait for another process's transaction
    :param clock: the shared clock (``time.monotonic``; tests pass a skewed one)
    """

    kind = "file"

    def __init__(
        self,
        folder: str,
        *,
        lock_timeout: float = LOCK_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.lock_timeout = lock_timeout
        self.clock = clock
        self._boot = boot_id()

    def describe(self) -> str:
        """The folder of the budget files."""
        return f"files in {self.folder}"

    def transact(self, key: str, update: Update) -> None:
        """Read, update and replace the budget file of ``key`` under its lock."""
        path = budget_file(self.folder, key)
        try:
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            with cache_lock(path, timeout=self.lock_timeout):
                state = self._read(path)
                new = update(state, self.clock())
                new["boot"] = self._boot
                temporary = f"{path}.partial"  # one writer at a time: the lock is held
                descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    json.dump(new, handle)
                os.replace(temporary, path)
        except LockTimeout as error:
            raise StoreUnavailable(f"{path}: {error}") from None
        except OSError as error:
            raise StoreUnavailable(f"{path}: {error.strerror or error}") from None

    def _read(self, path: str) -> dict | None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            with open(path, encoding="utf-8") as handle:
                state = json.load(handle)
            if isinstance(state, dict) and state.get("boot") == self._boot:
                return state
        return None

    def close(self) -> None:
        """Nothing to release: every transaction opens and closes its files."""
