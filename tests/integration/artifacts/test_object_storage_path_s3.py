"""Artifacts into S3 the way a DAG names it: an ``s3://`` URL or ``airflow.sdk.ObjectStoragePath``
with an Airflow AWS connection, through the amazon provider's file system (``airflow.providers.
amazon.aws.fs.s3``: the connection's credentials and ``endpoint_url``) and s3fs, against moto's
S3 server on localhost.

The other S3 tests hand the provider a ``universal_pathlib`` path with s3fs options; these go
through Airflow's object storage as users do (docs/artifacts.md, "Destinations").
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

import pytest
from held_meeting_testlib import held_event_meeting, megan_bowen

from airflow_provider_meetings.operators.meeting_artifacts import FetchTeamsMeetingArtifactsOperator
from meetings_emulator.config import MEGAN_ID, ORGANIZER_ID

pytestmark = pytest.mark.integration

pytest.importorskip("airflow.providers.amazon.aws.fs.s3")
boto3 = pytest.importorskip("boto3")

BUCKET = "lecture-artifacts"
AWS_CONN = "aws_artifacts_store"
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Megan Bowen>Grüß Gott, Zoë — 你好</v>\n"
RECORDING_SIZE = 6 * 1024 * 1024 + 321  # over s3fs's 5 MiB block: a multipart upload


@pytest.fixture(scope="module")
def s3_endpoint(moto_s3: Any) -> str:
    s3_client(moto_s3.endpoint).create_bucket(Bucket=BUCKET)
    return moto_s3.endpoint


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def aws_connection(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An Airflow AWS connection to moto's S3, as a DAG's deployment would define it."""
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{AWS_CONN.upper()}",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
            }
        ),
    )
    return AWS_CONN


def objects(endpoint: str, prefix: str) -> dict[str, bytes]:
    client = s3_client(endpoint)
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def held_lecture(hook: Any, graph_emulator: Any, name: str) -> tuple[str, dict[str, Any]]:
    start = datetime.datetime(2030, 9, 2, 8, 0, tzinfo=datetime.timezone.utc)
    attendee = megan_bowen("Attendee", "2030-09-02T08:01:00Z", "2030-09-02T08:41:00Z")
    return held_event_meeting(
        hook, graph_emulator, name, start, attendees=[attendee], transcript=VTT, recording_size=RECORDING_SIZE
    )


def test_an_s3_url_naming_an_aws_connection(make_hook, graph_emulator, s3_endpoint, aws_connection) -> None:
    """``s3://<conn_id>@bucket/prefix``: Airflow's ObjectStoragePath reads the AWS connection."""
    hook = make_hook(default_user_id=ORGANIZER_ID)
    join_url, held = held_lecture(hook, graph_emulator, "s3-url-lecture")

    transcripts = hook.download_transcripts(f"s3://{aws_connection}@{BUCKET}/by-url", join_url=join_url)
    recordings = hook.download_recordings(f"s3://{aws_connection}@{BUCKET}/by-url", join_url=join_url)

    stored = objects(s3_endpoint, "by-url/")
    assert len(transcripts) == 1 and len(recordings) == 1
    keys = {path.split(f"{BUCKET}/", 1)[1] for path in transcripts + recordings}
    assert keys == set(stored)  # under their final names, nothing temporary left
    (transcript_key,) = [k for k in stored if k.endswith(".vtt")]
    (recording_key,) = [k for k in stored if k.endswith(".mp4")]
    assert stored[transcript_key] == VTT.encode("utf-8")
    assert len(stored[recording_key]) == RECORDING_SIZE
    assert hashlib.sha256(stored[recording_key]).hexdigest() == held["recordingSha256"]

    again = hook.download_transcripts(f"s3://{aws_connection}@{BUCKET}/by-url", join_url=join_url)

    assert again == transcripts and set(objects(s3_endpoint, "by-url/")) == set(stored)  # replaced, not added


def test_the_operator_with_an_object_storage_path(make_hook, graph_emulator, s3_endpoint, aws_connection) -> None:
    from airflow.sdk import ObjectStoragePath

    hook = make_hook(default_user_id=ORGANIZER_ID)
    join_url, held = held_lecture(hook, graph_emulator, "s3-path-lecture")
    operator = FetchTeamsMeetingArtifactsOperator(
        task_id="store",
        conn_id=hook.conn_id,
        join_url=join_url,
        destination=ObjectStoragePath(f"s3://{BUCKET}/lectures", conn_id=aws_connection),
    )

    result = operator.execute({})

    stored = objects(s3_endpoint, "lectures/")
    assert sorted(key.rsplit("/", 1)[-1].split("-")[0] for key in stored) == [
        "attendance.csv",
        "attendance.json",
        "recording",
        "transcript",
    ]
    paths = [p for group in result["paths"].values() for p in group]
    assert {p.split(f"{BUCKET}/", 1)[1]: result["sizes"][p] for p in paths} == {
        key: len(data) for key, data in stored.items()
    }
    (recording,) = [data for key, data in stored.items() if key.endswith(".mp4")]
    assert hashlib.sha256(recording).hexdigest() == held["recordingSha256"]
    (table,) = [data for key, data in stored.items() if key.endswith(".csv")]
    assert MEGAN_ID in table.decode("utf-8") and ",2400" in table.decode("utf-8")
