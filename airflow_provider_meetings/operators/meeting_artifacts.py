"""The operator that fetches what a Teams meeting left behind (attendance, transcripts,
recordings) into a folder or an object store, and announces it as Airflow assets.

Importing this module loads neither msal nor requests: the hook is imported when the
task runs, not when a DAG file is parsed.

.. seealso:: docs/artifacts.md
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_meetings.artifact_args import SESSION_KEYS, describe_reference
from airflow_provider_meetings.attendance_table import attendance_rows, report_ids, rows_to_csv, rows_to_json
from airflow_provider_meetings.operators.base import MeetingArtifactsTask
from airflow_provider_meetings.operators.task_outcome import fail_permanent_errors

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

#: File names of the attendance table, in the meeting's folder.
ATTENDANCE_CSV = "attendance.csv"
ATTENDANCE_JSON = "attendance.json"


class FetchTeamsMeetingArtifactsOperator(MeetingArtifactsTask):
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
    :param artifacts: which of ``attendance``, ``transcript``, ``recording`` to fetch (default: all)

    The meeting is named by ``meeting_id``, ``join_url`` or ``external_id`` (with ``user_id``
    and ``conn_id``), the keywords of :class:`~airflow_provider_meetings.operators.base.MeetingArtifactsTask`.

    .. seealso:: docs/artifacts.md
    """

    template_fields: Sequence[str] = ("destination", *MeetingArtifactsTask.template_fields)
    ui_color: ClassVar[str] = "#e8e1f5"

    def __init__(self, *, destination: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.destination = destination

    def execute(self, context: Context) -> dict[str, Any]:
        """Resolve the meeting once, fetch each requested artifact, announce the paths."""
        reference = self._reference()
        with self.hook as hook, fail_permanent_errors():
            result = self._fetch(hook, reference)
        self._announce(context, result)
        return result

    def _fetch(self, hook: OnlineMeetingsHook, reference: dict[str, str]) -> dict[str, Any]:
        from airflow_provider_meetings.artifacts.destinations import meeting_folder

        destination = hook.artifact_destination(self.destination)  # checked before any request
        user_id, meeting_id = hook.resolve_meeting(**reference)
        self.log.info(
            "Fetching %s of %s (meeting id %s) into %s",
            list(self.artifacts),
            describe_reference(reference),
            meeting_id,
            destination,
        )
        # Named by id from here on: the join URL or the event is looked up once.
        window = {key: reference[key] for key in SESSION_KEYS if key in reference}
        ref = hook.meeting_ref(user_id=user_id, meeting_id=meeting_id, **window)
        result: dict[str, Any] = {
            "meeting_id": meeting_id,
            "user_id": user_id,
            "reference": reference,
            "destination": str(getattr(destination, "root", destination)),
            "artifacts": list(self.artifacts),
            "paths": {},
            "counts": {},
            "sizes": {},
            "files": [],
        }
        if "attendance" in self.artifacts:
            # The reports too, not only their records: a session whose report has no records
            # still ended, and counts as the sensor counts it (artifacts/status.py).
            reports, records = hook.artifacts.attendance(ref)
            rows = attendance_rows(records)
            folder = meeting_folder(meeting_id)
            written = []
            for name, data in (
                (ATTENDANCE_CSV, rows_to_csv(rows)),
                (ATTENDANCE_JSON, rows_to_json(rows, meeting_id=meeting_id, user_id=user_id, reports=reports)),
            ):
                path = destination.write_file(folder, name, data)
                written.append(path)
                result["sizes"][path] = len(data)
            result["paths"]["attendance"] = written
            result["counts"]["attendance_records"] = len(records)
            result["counts"]["attendance_rows"] = len(rows)
            result["counts"]["attendance_reports"] = len(report_ids(rows, reports))
            self.log.info(
                "Attendance: %d report(s), %d record(s), %d row(s) -> %s",
                result["counts"]["attendance_reports"],
                len(records),
                len(rows),
                written,
            )
        for kind in ("transcript", "recording"):
            if kind not in self.artifacts:
                continue
            files = hook.artifacts.download(kind, ref, destination)
            result["paths"][f"{kind}s"] = [file.path for file in files]
            result["counts"][f"{kind}s"] = len(files)
            result["sizes"].update({file.path: file.size for file in files})
            result["files"] += [file.to_dict() for file in files]
            self.log.info("%s: %d file(s), %d bytes", kind.capitalize(), len(files), sum(f.size for f in files))
        result["total_bytes"] = sum(result["sizes"].values())
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
