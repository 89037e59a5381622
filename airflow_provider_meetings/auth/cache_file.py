"""The token cache's file: replaced atomically, and changed under a lock that a killed process releases.

msal-extensions (1.3) is not enough for task processes that may be killed at any moment (an
Airflow timeout, the OOM killer): its ``FilePersistence.save`` rewrites the file in place
(``O_TRUNC``, msal_extensions/persistence.py ``_open``), so a concurrent reader can see part
of it and a writer killed mid-write leaves a torn file; and its ``CrossPlatLock`` is a file
created exclusively and removed afterwards (msal_extensions/filelock.py), which a killed
process leaves behind, so every later writer waits 5 s and gives up.

Here instead:

* :class:`AtomicFile` writes a temporary file in the same folder (``mkstemp``: a new name,
  mode 0600, so a symbolic link planted in the folder is never followed), flushes it to disk
  and ``os.replace()``\\ s the cache file with it. ``rename(2)`` is atomic within a file
  system, so a reader sees the old content or the new one, never a part; a writer killed
  before the rename leaves only its temporary file, which the first write of the next
  :class:`AtomicFile` on that path removes (once: under the lock, nobody else writes then). The
  rate budget's files (:mod:`~airflow_provider_meetings.graph.budget.file_store`) are written
  the same way, without the flush.
* :func:`cache_lock` is ``flock(2)`` on the lock file: the kernel releases it when the process
  that holds it ends, however it ends (SIGKILL included). The lock file itself stays, empty;
  its presence means nothing. Where ``fcntl`` is missing (Windows, where Airflow does not
  run) it falls back to msal-extensions' ``CrossPlatLock``.
* :func:`check_own` is the one test of "is this path mine": the token cache file and the rate
  budget's folder in the shared temporary directory are used only when they are what they
  should be (not a symbolic link) and belong to this process's user.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator

from msal_extensions import CrossPlatLock

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: How long a writer waits for another one before it keeps its tokens in memory (as msal-extensions).
LOCK_TIMEOUT = 5.0
#: The temporary files of a write are ``.<cache file name>.<random><TEMPORARY_SUFFIX>`` in its folder.
TEMPORARY_SUFFIX = ".partial"
_POLL = 0.01
#: Flags of every ``open`` of a cache path: never through a symbolic link, never inherited.
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)

#: What identifies one version of the file: inode, size, modification and change times (ns).
#: Every write makes a new inode, so this changes with every write, even within the file
#: system's timestamp granularity (msal-extensions compares the mtime with ``time.time()``,
#: which a coarse file-system clock can trail).
Signature = tuple[int, int, int, int]


class LockTimeout(Exception):
    """Another process held the cache's lock for longer than :data:`LOCK_TIMEOUT`."""


class NotOwn(Exception):
    """A path that is not this user's own file or folder (the reason is safe to log).

    :param reason: what it is instead
    :param owner: the other user's id, when that is the reason
    """

    def __init__(self, reason: str, owner: int | None = None) -> None:
        super().__init__(reason)
        self.owner = owner


def effective_uid() -> int | None:
    """The user id that owns the files this process creates; ``None`` where the platform has none."""
    return os.geteuid() if hasattr(os, "geteuid") else None


def check_own(info: os.stat_result, *, directory: bool = False) -> None:
    """Refuse what is not a regular file (or, with ``directory``, a folder) of this process's user.

    :param info: ``os.lstat`` of the path, or ``os.fstat`` of it opened with :data:`NO_FOLLOW`
        (either way a symbolic link is seen as a link, not as its target)
    :param directory: the path must be a folder rather than a regular file
    :raises NotOwn: when it is something else, or belongs to another user (checked only where
        the platform has user ids: :func:`effective_uid`)
    """
    if directory and not stat.S_ISDIR(info.st_mode):
        raise NotOwn("it is not a directory (a symbolic link?)")
    if not directory and not stat.S_ISREG(info.st_mode):
        raise NotOwn("it is not a regular file")
    uid = effective_uid()
    if uid is not None and info.st_uid != uid:
        raise NotOwn(f"it belongs to another user (uid {info.st_uid})", owner=info.st_uid)


def lock_path(path: str) -> str:
    """The lock file of the cache file ``path`` (msal-extensions' name for it)."""
    return f"{path}.lockfile"


def _signature(info: os.stat_result) -> Signature:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@contextlib.contextmanager
def cache_lock(path: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the cross-process lock of the cache file ``path`` (its :func:`lock_path`).

    :param path: the cache file
    :param timeout: seconds to wait for another holder (default :data:`LOCK_TIMEOUT`)
    :raises LockTimeout: when another process holds it for longer than ``timeout``
    :raises OSError: when the lock file cannot be opened (created 0600)
    """
    if fcntl is None:  # pragma: no cover - Windows
        with CrossPlatLock(lock_path(path)):
            yield
        return
    descriptor = os.open(lock_path(path), os.O_RDWR | os.O_CREAT | NO_FOLLOW, 0o600)
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"another process held the lock for over {timeout:g} s") from None
                time.sleep(_POLL)
        # The lock file is never removed: removing it would let a process lock the removed
        # file while another locks a new one (flock locks an inode, not a name).
        yield
    finally:
        os.close(descriptor)  # releases the lock


class AtomicFile:
    """A private text file that is replaced whole, never rewritten in place.

    Write only under :func:`cache_lock`: the first :meth:`write` of each object first removes
    the temporary files of writers killed before their rename (:meth:`remove_leftovers`),
    which is safe only while no one else writes. Read at any time. Keep one object per file
    for as long as the process uses it, so that this happens once.
    Nothing here follows a symbolic link planted in the folder: the temporary file is a new
    name (``mkstemp``: ``O_EXCL``), the rename replaces a link rather than its target, and
    :meth:`read` opens with ``O_NOFOLLOW``.

    :param path: the file (its folder must exist and be writable)
    :param fsync: flush each write to disk before the rename (the token cache does); a file
        whose loss after a machine crash only means a fresh start (the rate budget's) may skip it
    """

    def __init__(self, path: str, *, fsync: bool = True) -> None:
        self.path = path
        self.folder = os.path.dirname(path) or "."
        self.fsync = fsync
        self._prefix = f".{os.path.basename(path)}."
        self._swept = False  # the leftovers of killed writers are removed (first write)

    def signature(self) -> Signature | None:
        """The current version's :data:`Signature`, ``None`` without a file."""
        try:
            return _signature(os.stat(self.path))
        except FileNotFoundError:
            return None

    def read(self) -> tuple[bytes, Signature | None]:
        """The content (empty without a file) and the signature of exactly that version.

        :raises OSError: ``ELOOP`` when the file is a symbolic link (it is not followed)
        """
        try:
            descriptor = os.open(self.path, os.O_RDONLY | NO_FOLLOW)
        except FileNotFoundError:
            return b"", None
        with os.fdopen(descriptor, "rb") as handle:
            signature = _signature(os.fstat(handle.fileno()))
            return handle.read(), signature

    def write(self, text: str) -> Signature | None:
        """Replace the file with ``text``: a new 0600 temporary file, flushed to disk (unless
        ``fsync`` is off), renamed over it; the temporary file is removed if anything fails.
        The first write of this object removes killed writers' leftovers first.

        :param text: the new content (written as UTF-8)
        :return: the new version's signature
        """
        if not self._swept:
            self.remove_leftovers()
            self._swept = True
        descriptor, temporary = tempfile.mkstemp(prefix=self._prefix, suffix=TEMPORARY_SUFFIX, dir=self.folder)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(text.encode("utf-8"))
                handle.flush()
                # Without it a machine crash after the rename can leave an empty file on
                # file systems that do not order data before the rename (XFS; ext4 does).
                if self.fsync:
                    os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return self.signature()

    def remove_leftovers(self) -> int:
        """Remove temporary files of writers killed before their rename; call under the lock
        (the first :meth:`write` does).

        :return: how many were removed
        """
        removed = 0
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if entry.name.startswith(self._prefix) and entry.name.endswith(TEMPORARY_SUFFIX):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
        return removed
