"""The generated recording: same bytes from any offset, hashed without being kept."""

from __future__ import annotations

import hashlib

import pytest

from meetings_emulator.artifacts import artifact_id, metadata_content, unattributed
from meetings_emulator.faults import parse_fault
from meetings_emulator.recording_stream import BLOCK_SIZE, FTYP, GeneratedStream

SIZE = 3 * BLOCK_SIZE + 1234


def test_chunks_are_blocks_and_the_sha256_is_of_their_bytes() -> None:
    stream = GeneratedStream(seed=7, size=SIZE)
    chunks = list(stream.chunks())
    assert [len(c) for c in chunks] == [BLOCK_SIZE] * 3 + [1234]
    whole = b"".join(chunks)
    assert whole.startswith(FTYP)
    assert stream.sha256() == hashlib.sha256(whole).hexdigest()
    assert GeneratedStream(seed=7, size=SIZE).sha256() == stream.sha256()  # deterministic
    assert GeneratedStream(seed=8, size=SIZE).sha256() != stream.sha256()
    assert chunks[1] != chunks[2]  # each block is its own rotation


@pytest.mark.parametrize(
    ("start", "end"), [(0, 10), (5, BLOCK_SIZE + 7), (BLOCK_SIZE, SIZE), (SIZE - 1, None), (100, 100)]
)
def test_any_range_is_the_same_slice_of_the_whole(start: int, end: int | None) -> None:
    stream = GeneratedStream(seed=3, size=SIZE)
    whole = b"".join(stream.chunks())
    assert b"".join(stream.chunks(start, end)) == whole[start:end]
    assert all(len(c) <= BLOCK_SIZE for c in stream.chunks(start, end))


def test_empty_and_negative_sizes() -> None:
    assert list(GeneratedStream(seed=1, size=0).chunks()) == []
    assert GeneratedStream(seed=1, size=0).sha256() == hashlib.sha256(b"").hexdigest()
    with pytest.raises(ValueError):
        GeneratedStream(seed=1, size=-1)


def test_artifact_ids_hold_the_characters_that_need_encoding() -> None:
    ids = {artifact_id() for _ in range(20)}
    assert len(ids) == 20
    assert all({"+", "/", "="} <= set(i) and len(i) == 28 for i in ids)


def test_drop_mid_stream_fault_needs_its_byte_count() -> None:
    fault = parse_fault({"kind": "drop_mid_stream", "after_bytes": 10}, match="content")
    assert (fault.kind, fault.after_bytes, fault.match) == ("drop_mid_stream", 10, "content")
    for bad in ({"kind": "drop_mid_stream"}, {"kind": "drop_mid_stream", "after_bytes": -1}):
        with pytest.raises(ValueError):
            parse_fault(bad)
    with pytest.raises(ValueError):
        parse_fault({"kind": "drop_mid_stream", "after_bytes": 1}, target="token")


def test_unattributed_text_and_metadata_of_a_vtt() -> None:
    vtt = "WEBVTT\n\n00:00:01.500 --> 00:00:03.000\n<v Zoë>Grüße</v>\n".encode()
    assert unattributed(vtt) == "WEBVTT\n\n00:00:01.500 --> 00:00:03.000\nGrüße\n".encode()
    lines = metadata_content(vtt, session_start=0).decode().splitlines()
    assert lines[:3] == ["WEBVTT", "", "00:00:01.500 --> 00:00:03.000"]
    assert '"speakerName": "Zoë"' in lines[3] and '"startDateTime": "1970-01-01T00:00:01.5000000Z"' in lines[3]
