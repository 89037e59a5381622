"""The operator that fetches what a Teams meeting left behind (attendance, transcripts,
recordings) into a folder or an object store, and announces it as Airflow assets.

Importing this module loads neither msal nor requests: the hook is imported when the
task runs, not when a DAG file is parsed.

.. seealso:: docs/artifacts.md
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_meetings.artifact_args import check_artifacts, describe_reference, meeting_reference
from airflow_provider_meetings.attendance_table import attendance_rows, rows_to_csv, rows_to_json
from airflow_provider_meetings.graph.errors import MeetingsError, is_permanent

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

#: File names of the attendance table, in the meeting's folder.
ATTENDANCE_CSV = "attendance.csv"
ATTENDANCE_JSON = "attendance.json"


def meeting_folder_name(meeting_id: str) -> str:
    """The folder of one meeting's files: a hash of its id (ids are base64 and may hold
    ``/``, ``+`` and ``=``: never a file name as they are)."""
    return "meeting-" + hashlib.sha256(meeting_id.encode("utf-8")).hexdigest()[:16]


def storage_path(destination: Any) -> Path | ObjectStoragePath:
    """``destination`` as a path: a URL (``s3://…``, ``file://…``) as an
    ``ObjectStoragePath``, other text as a local folder, a path object as given.

    :raises ValueError: an empty destination, or one that is neither text nor a path
    """
    if isinstance(destination, str):
        text = destination.strip()
        if not text:
            raise ValueError("destination must name a folder or an object storage URL, got an empty value")
        if "://" in text:
            from airflow.sdk import ObjectStoragePath

            return ObjectStoragePath(text)
        return Path(text).expanduser()
    if isinstance(destination, os.PathLike):
        return destination  # type: ignore[return-value]  # a pathlib.Path or an ObjectStoragePath
    raise ValueError(f"destination must be a folder, a URL or an ObjectStoragePath, got {destination!r}")


def write_file(path: Path | ObjectStoragePath, data: bytes) -> None:
    """Write ``data`` whole: under a temporary name moved into place on a local disk; in one
    object on an object store, discarded (not committed truncated) when the write fails
    (fsspec commits on ``close()``: GRAPH_FACTS "Writing to object storage")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(path, Path):
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)
        return
    handle = path.open("wb")
    try:
        handle.write(data)
    except BaseException:
        discard = getattr(handle, "discard", None)
        if callable(discard):
            discard()
        raise
    handle.close()


def size_of(path: str, destination: Path | ObjectStoragePath) -> int | None:
    """The size in bytes of a file written under ``destination`` (``None`` when unknown)."""
    try:
        root = str(destination).rstrip("/")
        target = destination / path[len(root) :].lstrip("/") if path.startswith(root) else Path(path)
        stat = target.stat()
        return int(stat["size"] if isinstance(stat, dict) else stat.st_size)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


class FetchTeamsMeetingArtifactsOperator(BaseOperator):
    """Fetch the requested artifacts of one meeting into ``destination``.

    In the meeting's folder (``<destination>/meeting-<hash of the meeting id>/``):
    attendance as ``attendance.csv`` and ``attendance.json`` (one row per attendee and
    per join/leave interval, every report of the meeting), transcripts as ``.vtt`` (the
    WebVTT text byte for byte), recordings as ``.mp4`` (streamed, written under a
    temporary name and moved into place when complete). File names are deterministic, so
    a rerun replaces files rather than adding more.

    The XCom (return value) holds the paths, counts and sizes; each asset of ``outlets``
    gets an event whose ``extra`` holds this run's paths, so an asset-scheduled DAG reads
    exactly what landed (``triggering_asset_events``).

    :param destination: a local folder, an object storage URL (``s3://bucket/prefix``,
        ``gs://…``, ``abfs://…`` with the provider of that store installed) or an
        ``ObjectStoragePath`` (templated)
    :param meeting_id: the online meeting's id (templated)
    :param join_url: the meeting's join URL (templated)
    :param external_id: the external id of the calendar event that holds the meeting
        (templated); a createOrGet meeting: pass its id or join URL from the creating task's XCom
    :param user_id: the organizer, Entra object id or UPN (templated); default: the
        connection's ``default_user_id`` (``/me`` with a delegated connection)
    :param artifacts: which of ``attendance``, ``transcript``, ``recording`` to fetch
    :param conn_id: the Airflow connection of the Graph app

    .. seealso:: docs/artifacts.md
    """

    template_fields: Sequence[str] = ("destination", "meeting_id", "join_url", "external_id", "user_id")
    template_ext: Sequence[str] = ()
    ui_color: ClassVar[str] = "#e8e1f5"

    def __init__(
        self,
        *,
        destination: Any,
        meeting_id: str | None = None,
        join_url: str | None = None,
        external_id: str | None = None,
        user_id: str | None = None,
        artifacts: Sequence[str] = ("attendance", "transcript", "recording"),
        conn_id: str = "msgraph_meetings_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.destination = destination
        self.meeting_id = meeting_id
        self.join_url = join_url
        self.external_id = external_id
        self.user_id = user_id
        self.artifacts = check_artifacts(artifacts)
        self.conn_id = conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        """Resolve the meeting once, fetch each requested artifact, announce the paths."""
        from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

        try:
            reference = meeting_reference(
                meeting_id=self.meeting_id, join_url=self.join_url, external_id=self.external_id, user_id=self.user_id
            )
            destination = storage_path(self.destination)
        except ValueError as err:
            raise AirflowFailException(str(err)) from err
        with OnlineMeetingsHook(conn_id=self.conn_id) as hook:
            try:
                result = self._fetch(hook, reference, destination)
            except MeetingsError as err:
                if is_permanent(err):
                    raise AirflowFailException(f"{type(err).__name__}: {err}") from err
                raise
        self._announce(context, result)
        return result

    def _fetch(
        self, hook: OnlineMeetingsHook, reference: dict[str, str], destination: Path | ObjectStoragePath
    ) -> dict[str, Any]:
        user_id, meeting_id = hook.resolve_meeting(**reference)
        self.log.info(
            "Fetching %s of %s (meeting id %s) into %s",
            list(self.artifacts),
            describe_reference(reference),
            meeting_id,
            destination,
        )
        resolved: dict[str, Any] = {"meeting_id": meeting_id}
        if user_id:
            resolved["user_id"] = user_id
        result: dict[str, Any] = {
            "meeting_id": meeting_id,
            "user_id": user_id,
            "reference": reference,
            "destination": str(destination),
            "artifacts": list(self.artifacts),
            "paths": {},
            "counts": {},
            "sizes": {},
        }
        if "attendance" in self.artifacts:
            records = hook.attendance_records(**resolved)
            rows = attendance_rows(records)
            folder = destination / meeting_folder_name(meeting_id)
            written = []
            for name, data in (
                (ATTENDANCE_CSV, rows_to_csv(rows)),
                (ATTENDANCE_JSON, rows_to_json(rows, meeting_id=meeting_id, user_id=user_id)),
            ):
                write_file(folder / name, data)
                written.append(str(folder / name))
                result["sizes"][str(folder / name)] = len(data)
            result["paths"]["attendance"] = written
            result["counts"]["attendance_records"] = len(records)
            result["counts"]["attendance_rows"] = len(rows)
            result["counts"]["attendance_reports"] = len({row["report_id"] for row in rows if row.get("report_id")})
            self.log.info("Attendance: %d record(s), %d row(s) -> %s", len(records), len(rows), written)
        for artifact, download in (("transcript", hook.download_transcripts), ("recording", hook.download_recordings)):
            if artifact not in self.artifacts:
                continue
            paths = [str(path) for path in download(destination, **resolved)]
            result["paths"][f"{artifact}s"] = paths
            result["counts"][f"{artifact}s"] = len(paths)
            for path in paths:
                result["sizes"][path] = size_of(path, destination)
            self.log.info("%s: %d file(s) -> %s", artifact.capitalize(), len(paths), paths)
        result["total_bytes"] = sum(size for size in result["sizes"].values() if size)
        return result

    def _announce(self, context: Context, result: dict[str, Any]) -> None:
        """Put this run's paths in the ``extra`` of every declared outlet asset's event."""
        from airflow.sdk import Asset

        extra = {
            "reference": result["reference"],
            "meeting_id": result["meeting_id"],
            "user_id": result["user_id"],
            "destination": result["destination"],
            "paths": result["paths"],
            "counts": result["counts"],
        }
        outlet_events = context.get("outlet_events")
        for outlet in self.outlets or ():
            if isinstance(outlet, Asset) and outlet_events is not None:
                outlet_events[outlet].extra.update(extra)
