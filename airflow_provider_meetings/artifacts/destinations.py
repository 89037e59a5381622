"""Where artifacts are written: a local folder, or any storage Airflow's object storage reaches.

* A local folder: a ``str`` without a URL scheme or a ``pathlib.Path``. Files are written
  under a temporary name in the same folder and moved into place with ``os.replace``
  (atomic on one file system).
* An object-storage path: anything with fsspec's ``fs`` and ``path`` and ``/`` (Airflow's
  ``airflow.sdk.ObjectStoragePath``, a ``universal_pathlib`` path). A URL string (``s3://``,
  ``gs://``, ``abfs://``, ``file://``) is turned into one by the caller's ``url_to_path``
  (the hook passes ``ObjectStoragePath``: this layer does not import Airflow). fsspec's
  file ``close()`` commits what was written, a truncated object included, so a failed write
  calls ``discard()`` where the file has it (S3, GCS, Azure) and removes the temporary file
  otherwise; the final name is reached with ``fs.mv`` (a rename on local disks, copy plus
  delete on object stores).

File names are deterministic, from the meeting id and the artifact id, hashed (Graph's ids
are base64 with ``/``, ``+`` and ``=``, never usable raw as names): a rerun replaces a file
rather than adding one beside it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from airflow_provider_meetings.graph.errors import InvalidRequestError

__all__ = [
    "Destination",
    "FileSink",
    "LocalFolder",
    "ObjectStore",
    "artifact_file_name",
    "meeting_folder",
    "resolve_destination",
]

#: Hex digits of SHA-256 kept in a file name (64 bits: no two artifacts of a tenant collide in practice).
KEY_LENGTH = 16
PARTIAL_SUFFIX = ".partial"


def id_key(value: str) -> str:
    """A short, stable, file-name-safe key of a Graph id."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def meeting_folder(meeting_id: str) -> str:
    """The folder of one meeting's files, e.g. ``meeting-3f2a...``."""
    return f"meeting-{id_key(meeting_id)}"


def artifact_file_name(kind: str, artifact_id: str, extension: str) -> str:
    """The file name of one artifact, e.g. ``transcript-9c1e....vtt`` or ``recording-....mp4``."""
    return f"{kind}-{id_key(artifact_id)}.{extension}"


def temporary_name(name: str) -> str:
    """A hidden name beside ``name`` that no complete file ever has."""
    return f".{name}.{uuid.uuid4().hex[:12]}{PARTIAL_SUFFIX}"


class Destination:
    """Where files go: :meth:`open_temporary` one, then :meth:`commit` or :meth:`discard` it.

    :param root: the folder or storage path the files go below (it has ``/``)
    """

    def __init__(self, root: Any) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"

    def final(self, folder: str, name: str) -> str:
        """The path a complete file gets (returned to the caller)."""
        return str(self.root / folder / name)

    def open_temporary(self, folder: str, name: str) -> tuple[BinaryIO, Any]:
        """A writable file under a temporary name, and a handle to commit or discard it."""
        raise NotImplementedError

    def commit(self, file: BinaryIO, handle: Any, folder: str, name: str) -> str:
        """Close the file and move it to its final name; returns :meth:`final`."""
        raise NotImplementedError

    def discard(self, file: BinaryIO, handle: Any) -> None:
        """Drop the file: nothing of it stays (never under its final name)."""
        raise NotImplementedError

    def write_file(self, folder: str, name: str, data: bytes) -> str:
        """Write ``data`` as one file: under a temporary name, then moved into place (on
        failure nothing stays, and no truncated object is committed on an object store).

        :param folder: the folder below the root, e.g. the meeting's
        :param name: the file's final name
        :param data: the whole content
        :return: :meth:`final`
        """
        sink = FileSink(self, folder, name)
        try:
            sink.write(data)
        except BaseException:
            sink.abort()
            raise
        return sink.commit()


class FileSink:
    """One file of a destination, written in chunks: a
    :class:`~airflow_provider_meetings.graph.download.DownloadSink` for a download, and what
    :meth:`Destination.write_file` writes a whole file with.

    The temporary file is opened on the first chunk (an error answer leaves nothing),
    dropped and reopened when the server starts over, moved into place by :meth:`commit`
    and discarded by :meth:`abort`.
    """

    def __init__(self, destination: Destination, folder: str, name: str) -> None:
        self.destination = destination
        self.folder = folder
        self.name = name
        self.written = 0
        self._file: BinaryIO | None = None
        self._handle: Any = None

    def write(self, data: bytes) -> None:
        """Keep the next chunk."""
        if self._file is None:
            self._file, self._handle = self.destination.open_temporary(self.folder, self.name)
        self._file.write(data)
        self.written += len(data)

    def restart(self) -> None:
        """Forget everything written: the server sends the whole body again."""
        self.abort()
        self.written = 0

    def commit(self) -> str:
        """Move the complete file into place (an empty body makes an empty file)."""
        if self._file is None:
            self._file, self._handle = self.destination.open_temporary(self.folder, self.name)
        file, self._file = self._file, None
        try:
            return self.destination.commit(file, self._handle, self.folder, self.name)
        except BaseException:
            # The move failed (a folder in the way; an object store's copy): the temporary
            # file goes too, as for any failure (on S3 a hidden full copy would stay).
            self.destination.discard(file, self._handle)
            raise

    def abort(self) -> None:
        """Drop the temporary file, if any."""
        if self._file is not None:
            file, self._file = self._file, None
            self.destination.discard(file, self._handle)


class LocalFolder(Destination):
    """A folder on this machine (made if missing).

    :param root: the folder
    """

    root: Path

    def open_temporary(self, folder: str, name: str) -> tuple[BinaryIO, Any]:
        parent = self.root / folder
        parent.mkdir(parents=True, exist_ok=True)
        temporary = parent / temporary_name(name)
        return open(temporary, "wb"), temporary  # noqa: SIM115 (committed or discarded by the caller)

    def commit(self, file: BinaryIO, handle: Any, folder: str, name: str) -> str:
        file.close()
        final = self.root / folder / name
        os.replace(handle, final)
        return str(final)

    def discard(self, file: BinaryIO, handle: Any) -> None:
        try:
            file.close()
        finally:
            Path(handle).unlink(missing_ok=True)


class ObjectStore(Destination):
    """An fsspec-backed path (``airflow.sdk.ObjectStoragePath``).

    :param root: the path; it has ``fs`` (the fsspec file system), ``path`` and ``/``
    """

    def open_temporary(self, folder: str, name: str) -> tuple[BinaryIO, Any]:
        fs = self.root.fs
        parent = self.root / folder
        fs.makedirs(parent.path, exist_ok=True)  # a no-op on object stores, needed on local disks
        temporary = (parent / temporary_name(name)).path
        return fs.open(temporary, "wb"), temporary

    def commit(self, file: BinaryIO, handle: Any, folder: str, name: str) -> str:
        file.close()
        final = self.root / folder / name
        # A rename on a local disk; copy plus delete on object stores (fsspec's default mv).
        self.root.fs.mv(handle, final.path)
        return str(final)

    def discard(self, file: BinaryIO, handle: Any) -> None:
        fs = self.root.fs
        try:
            if not _discarded(file):
                file.close()  # a local file: closed, then removed below
        finally:
            if fs.exists(handle):
                fs.rm(handle)


def _discarded(file: Any) -> bool:
    """Whether fsspec's ``discard()`` threw the file's bytes away (S3, GCS, Azure: the upload is
    aborted, nothing is committed); ``False`` where the file cannot (a local file opened with
    autocommit raises): then it is closed and removed instead."""
    discard = getattr(file, "discard", None)
    if not callable(discard) or getattr(file, "closed", False):
        return False
    try:
        discard()
    except Exception:
        return False
    # fsspec's file would flush the rest of its buffer on close() or when collected: it is done.
    try:
        file.closed = True  # type: ignore[misc]
    except AttributeError:
        pass
    return True


def resolve_destination(value: Any, *, url_to_path: Callable[[str], Any] | None = None) -> Destination:
    """The :class:`Destination` for what the caller gave, checked before any request.

    :param value: a local folder (``str`` or ``pathlib.Path``), an object-storage path, or a URL string
    :param url_to_path: turns a URL string into an object-storage path (the hook passes
        ``airflow.sdk.ObjectStoragePath``)
    :raises InvalidRequestError: an empty, unknown or unusable destination
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InvalidRequestError(
                "destination", "is empty: give a folder, an ObjectStoragePath or a URL such as s3://bucket/prefix"
            )
        if "://" in text:
            if url_to_path is None:
                raise InvalidRequestError(
                    "destination", f"{text!r} is a URL: pass an ObjectStoragePath (or use the hook, which converts it)"
                )
            try:
                return ObjectStore(url_to_path(text))
            except Exception as error:  # the storage's own error (unknown scheme, missing provider)
                raise InvalidRequestError(
                    "destination",
                    f"{text!r} is not a storage Airflow's object storage can reach ({type(error).__name__}: {error}); "
                    "install the provider of that storage (e.g. apache-airflow-providers-amazon for s3://)",
                ) from error
        value = Path(text)
    if isinstance(value, os.PathLike) and not (hasattr(value, "fs") and hasattr(value, "path")):
        path = Path(value).expanduser()
        if not path.is_absolute():
            # Tasks do not share a working directory (as for token_cache_path); a relative
            # path is also what a template rendering "None" or "['/data']" gives.
            raise InvalidRequestError(
                "destination",
                f"{str(value)!r} is a relative path: give an absolute folder (e.g. /data/meetings), an "
                "ObjectStoragePath or a URL such as s3://bucket/prefix",
            )
        if path.exists() and not path.is_dir():
            raise InvalidRequestError("destination", f"{str(path)!r} exists and is not a folder")
        return LocalFolder(path)
    if hasattr(value, "fs") and hasattr(value, "path") and hasattr(value, "__truediv__"):
        return ObjectStore(value)
    raise InvalidRequestError(
        "destination",
        f"must be a folder (str or pathlib.Path), an airflow.sdk.ObjectStoragePath or a URL string, "
        f"got {type(value).__name__}",
    )
