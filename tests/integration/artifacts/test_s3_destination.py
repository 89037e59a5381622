"""Artifacts written to S3 (moto's S3 in server mode on localhost, s3fs): the object-store path.

fsspec's ``close()`` on S3 commits what was written, a truncated object included; a failed
download must ``discard()`` (abort the multipart upload) so that no object appears, and the
final name is reached by copy plus delete (``fs.mv``). The destination is a
``universal_pathlib`` path, the class ``airflow.sdk.ObjectStoragePath`` is built on (Airflow
reaches ``s3://`` through the amazon provider, not installed here).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from held_meeting_testlib import held_event_meeting

from airflow_provider_meetings.graph.errors import RetriesExhaustedError
from meetings_emulator.config import ORGANIZER_ID

pytestmark = pytest.mark.integration

s3fs = pytest.importorskip("s3fs")
upath = pytest.importorskip("upath")

BUCKET = "meeting-artifacts"
RECORDING_SIZE = 12 * 1024 * 1024 + 777  # over s3fs's 5 MiB block: a multipart upload
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v Zoë>Grüß Gott</v>\n"


@pytest.fixture(scope="module")
def s3_options(moto_s3: Any) -> dict[str, Any]:
    # S3's smallest part (s3fs's default is 50 MiB): the recordings here span several parts.
    return moto_s3.s3fs_bucket(BUCKET, default_block_size=5 * 1024 * 1024)


@pytest.fixture
def store(s3_options: dict[str, Any]) -> Iterator[Any]:
    fs = s3fs.S3FileSystem(**s3_options, skip_instance_cache=True)
    yield fs
    for key in fs.find(BUCKET):
        fs.rm(key)


def meeting(hook: Any, graph_emulator: Any, **held: Any) -> tuple[str, dict[str, Any]]:
    start = datetime.datetime(2030, 3, 5, 9, 0, tzinfo=datetime.timezone.utc)
    return held_event_meeting(hook, graph_emulator, "s3-lecture", start, attendees=[], **held)


def test_recording_and_transcript_land_in_s3(make_hook, graph_emulator, s3_options, store) -> None:
    hook = make_hook(default_user_id=ORGANIZER_ID)
    join_url, held = meeting(hook, graph_emulator, transcript=VTT, recording_size=RECORDING_SIZE)
    destination = upath.UPath(f"s3://{BUCKET}/teams", **s3_options)

    [mp4] = hook.download_recordings(destination, join_url=join_url)
    [vtt] = hook.download_transcripts(destination, join_url=join_url)
    [again] = hook.download_recordings(destination, join_url=join_url)  # a rerun replaces

    assert mp4 == again and mp4.startswith(f"s3://{BUCKET}/teams/meeting-") and mp4.endswith(".mp4")
    keys = store.find(BUCKET)
    assert sorted(key.rsplit(".", 1)[-1] for key in keys) == ["mp4", "vtt"]  # no temporary object left
    assert hashlib.sha256(store.cat_file(mp4)).hexdigest() == held["recordingSha256"]
    assert store.cat_file(vtt) == VTT.encode("utf-8")


def test_a_failed_download_leaves_no_object(make_hook, graph_emulator, s3_options, store) -> None:
    hook = make_hook(default_user_id=ORGANIZER_ID, max_retries=2, max_retry_wait=5)
    join_url, _ = meeting(hook, graph_emulator, recording_size=RECORDING_SIZE)
    # Each attempt keeps two whole 1 MiB chunks, then the connection drops: after three attempts
    # 6 MiB were written, s3fs's first 5 MiB part uploaded, when the retries run out.
    graph_emulator.script(
        {"kind": "drop_mid_stream", "after_bytes": 2_500_000}, match="recordings/.*/content", times=10
    )

    with pytest.raises(RetriesExhaustedError):
        hook.download_recordings(upath.UPath(f"s3://{BUCKET}/teams", **s3_options), join_url=join_url)

    assert store.find(BUCKET) == []
    assert graph_emulator.stats()["by_route"]["getRecordingContent"]["206"] == 2  # resumed twice
    uploads = store.call_s3("list_multipart_uploads", Bucket=BUCKET).get("Uploads", [])
    assert uploads == []  # the multipart upload was aborted, not completed
    assert store.call_s3("list_object_versions", Bucket=BUCKET).get("Versions", []) == []
