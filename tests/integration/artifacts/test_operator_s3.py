"""The fetch operator with an S3 destination (moto's S3 server, s3fs, a ``universal_pathlib``
path as ``ObjectStoragePath`` is one): attendance, transcript and recording land under
their final keys, the XCom's sizes are the objects' sizes, and no temporary object stays."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
from typing import Any

import pytest
from held_meeting_testlib import held_event_meeting, megan_bowen

from airflow_provider_meetings.operators.meeting_artifacts import FetchTeamsMeetingArtifactsOperator
from meetings_emulator.config import MEGAN_ID, ORGANIZER_ID

pytestmark = pytest.mark.integration

s3fs = pytest.importorskip("s3fs")
upath = pytest.importorskip("upath")

BUCKET = "interview-artifacts"
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v Megan Bowen>Willkommen, Zoë</v>\n"
RECORDING_SIZE = 1024 * 1024 + 99


@pytest.fixture(scope="module")
def s3_options(moto_s3: Any) -> dict[str, Any]:
    return moto_s3.s3fs_bucket(BUCKET)


def test_the_operator_stores_every_artifact_in_s3(make_hook, graph_emulator, s3_options) -> None:
    hook = make_hook(default_user_id=ORGANIZER_ID)
    start = datetime.datetime(2030, 6, 3, 9, 0, tzinfo=datetime.timezone.utc)
    join_url, held = held_event_meeting(
        hook,
        graph_emulator,
        "s3-interview",
        start,
        subject="Interview",
        attendees=[megan_bowen("Presenter", "2030-06-03T09:00:00Z", "2030-06-03T09:30:00Z")],
        transcript=VTT,
        recording_size=RECORDING_SIZE,
    )
    operator = FetchTeamsMeetingArtifactsOperator(
        task_id="store",
        conn_id=hook.conn_id,
        join_url=join_url,
        destination=upath.UPath(f"s3://{BUCKET}/interviews", **s3_options),
    )

    result = operator.execute({})

    store = s3fs.S3FileSystem(**s3_options, skip_instance_cache=True)
    keys = sorted(store.find(BUCKET))
    assert [key.rsplit("/", 1)[-1].split("-")[0] for key in keys] == [
        "attendance.csv",
        "attendance.json",
        "recording",
        "transcript",
    ]  # under their final names: no temporary object left
    paths = [p for group in result["paths"].values() for p in group]
    assert sorted(p.removeprefix("s3://") for p in paths) == keys
    assert {p: store.size(p) for p in paths} == result["sizes"]
    rows = list(csv.DictReader(io.StringIO(store.cat_file(result["paths"]["attendance"][0]).decode("utf-8"))))
    assert [(r["identity_id"], r["interval_seconds"]) for r in rows] == [(MEGAN_ID, "1800")]
    assert store.cat_file(result["paths"]["transcripts"][0]) == VTT.encode("utf-8")
    assert hashlib.sha256(store.cat_file(result["paths"]["recordings"][0])).hexdigest() == held["recordingSha256"]
