"""MeetingArtifactsApi on a MockTransport: a small in-memory Graph of one meeting's artifacts."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from mock_graph_testlib import app_settings, mock_client

from airflow_provider_meetings.artifacts.api import MeetingArtifactsApi
from airflow_provider_meetings.artifacts.destinations import LocalFolder, ObjectStore, resolve_destination
from airflow_provider_meetings.artifacts.errors import (
    ArtifactPermissionError,
    MeetingNotFoundError,
    StandaloneMeetingError,
    TranscriptAccessDisabledError,
)
from airflow_provider_meetings.artifacts.locate import join_url_filter_path, prepare_meeting_ref
from airflow_provider_meetings.artifacts.status import check_artifact_kinds
from airflow_provider_meetings.graph.answer import HttpAnswer, StreamedAnswer
from airflow_provider_meetings.graph.errors import InvalidRequestError, TransportError
from airflow_provider_meetings.graph.mock_transport import (
    MockRequest,
    MockTransport,
    graph_error_answer,
    json_answer,
)

USER = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
MEETING = "MSoxMjM0/NTY3+ODk=:x"  # base64-like, with / + = and :
JOIN_URL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%22Tid%22%7d'x"
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Zoë Ünal>Grüß Gott, 你好 👋</v>\n".encode()
RECORDING = bytes(range(256)) * 300


def settings(**extra):
    return app_settings(default_user_id=USER, **extra)


class FakeGraph:
    """One meeting: reports with paged records, a transcript and a recording; switches for refusals."""

    def __init__(self) -> None:
        self.reports = {
            "rep/1+=": {"meetingStartDateTime": "2026-03-02T09:00:00Z", "meetingEndDateTime": "2026-03-02T10:00:00Z"}
        }
        self.records = {"rep/1+=": [{"id": f"p{i}", "role": "Attendee"} for i in range(5)]}
        self.page_size = 2
        self.transcripts = {"tr/1=": VTT}
        self.recordings = {"rec+1=": RECORDING}
        self.denied: set[str] = set()
        self.standalone = False
        self.transcripts_disabled = False
        self.speaker_attribution = True
        self.drop_recording_once_after: int | None = None
        self.honour_range = True

    def __call__(self, request: MockRequest):
        url = urlsplit(request.url)
        parts = [unquote(p) for p in url.path.removeprefix("/v1.0/").split("/")]
        query = parse_qs(url.query)
        assert parts[:2] == ["users", USER], parts
        if parts[2:] == ["onlineMeetings"]:
            assert query["$filter"] == [f"JoinWebUrl eq '{JOIN_URL.replace(chr(39), chr(39) * 2)}'"]
            if "lookup" in self.denied:
                return graph_error_answer(403, "Forbidden")
            return json_answer(200, {"value": [{"id": MEETING}]})
        assert parts[3] == MEETING, parts
        rest = parts[4:]
        if rest[0] == "attendanceReports":
            if "attendance" in self.denied:
                return graph_error_answer(403, "Forbidden", "Application does not have permission")
            if len(rest) == 1:
                return json_answer(200, {"value": [{"id": k, **v} for k, v in self.reports.items()]})
            records = self.records[rest[1]]
            skip = int(query.get("$skip", ["0"])[0])
            page = {"value": records[skip : skip + self.page_size]}
            if skip + self.page_size < len(records):
                page["@odata.nextLink"] = f"https://graph.microsoft.com{url.path}?$skip={skip + self.page_size}"
            return json_answer(200, page)
        kind = rest[0]
        if kind in ("transcripts", "recordings"):
            if kind.rstrip("s") in self.denied:
                return graph_error_answer(403, "Forbidden")
            if self.standalone:
                return graph_error_answer(412, "PreconditionFailed", "No iCalUid found")
            if kind == "transcripts" and self.transcripts_disabled:
                body = {
                    "error": {
                        "code": "Forbidden",
                        "message": "x",
                        "innerError": {"code": "GraphAccessToTranscriptsDisabled"},
                    }
                }
                return json_answer(403, body)
            store = self.transcripts if kind == "transcripts" else self.recordings
            if len(rest) == 1:
                return json_answer(
                    200, {"value": [{"id": k, "createdDateTime": "2026-03-02T10:01:00Z"} for k in store]}
                )
            content = store[rest[1]]
            if kind == "transcripts":
                if query.get("$format") == ["text/vtt"] and not self.speaker_attribution:
                    return graph_error_answer(403, "SpeakerAttributionNotAllowed")
                return HttpAnswer(200, {"Content-Type": request.headers["Accept"]}, content)
            return self.stream_recording(request, content)
        raise AssertionError(request.url)

    def stream_recording(self, request: MockRequest, content: bytes):
        start = 0
        asked = request.headers.get("Range")
        headers = {"Content-Type": "video/mp4"}
        status = 200
        if asked and self.honour_range:
            start, status = int(asked[6:-1]), 206
            headers["Content-Range"] = f"bytes {start}-{len(content) - 1}/{len(content)}"
        headers["Content-Length"] = str(len(content) - start)
        drop, self.drop_recording_once_after = self.drop_recording_once_after, None

        def chunks():
            body = content[start:]
            if drop is not None:
                yield body[:drop]
                raise TransportError("dropped", request.url, "Connection broken: IncompleteRead")
            yield from (body[i : i + 4096] for i in range(0, len(body), 4096))

        return StreamedAnswer(status, headers, chunks(), request.url)


@pytest.fixture
def graph() -> FakeGraph:
    return FakeGraph()


def make_api(graph: FakeGraph, **extra) -> tuple[MeetingArtifactsApi, MockTransport]:
    transport = MockTransport(graph)
    return MeetingArtifactsApi(mock_client(transport, settings(**extra)), delegated=False), transport


def ref(**named):
    return prepare_meeting_ref(settings(), **(named or {"meeting_id": MEETING}))


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# -- naming the meeting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "named",
    [{}, {"meeting_id": MEETING, "join_url": JOIN_URL}, {"meeting_id": "m", "external_id": "e"}],
    ids=["none", "two", "id-and-external-id"],
)
def test_exactly_one_name_of_the_meeting(named) -> None:
    with pytest.raises(InvalidRequestError, match="exactly one of meeting_id, join_url or external_id"):
        prepare_meeting_ref(settings(), **named)


@pytest.mark.parametrize(
    ("named", "field"),
    [
        ({"meeting_id": ""}, "meeting"),  # empty: not given (docs/artifacts.md, "Naming the meeting")
        ({"meeting_id": 5}, "meeting_id"),
        ({"join_url": "teams.microsoft.com/l/x"}, "join_url"),
        ({"external_id": "class-None"}, "external_id"),
    ],
)
def test_bad_names_are_refused_before_any_request(named, field) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        prepare_meeting_ref(settings(), **named)
    assert caught.value.field == field


def test_app_only_without_organizer_is_refused() -> None:
    base = settings()
    no_default = base.__class__(**{**base.__dict__, "default_user_id": None})
    with pytest.raises(InvalidRequestError, match="app-only tokens cannot use /me"):
        prepare_meeting_ref(no_default, meeting_id=MEETING)


def test_join_url_filter_doubles_quotes_and_encodes_once_more() -> None:
    path = join_url_filter_path(USER, "https://t/x%3a'y")
    assert path == f"users/{USER}/onlineMeetings?$filter=JoinWebUrl%20eq%20'https%3A%2F%2Ft%2Fx%253a''y'"


def test_meeting_id_is_one_encoded_path_segment(graph) -> None:
    api, transport = make_api(graph)
    api.attendance_records(ref())
    assert (
        f"/onlineMeetings/{MEETING.replace('/', '%2F').replace('+', '%2B').replace('=', '%3D').replace(':', '%3A')}/"
        in transport.requests[0].url
    )


def test_join_url_is_resolved_with_the_filter(graph) -> None:
    api, transport = make_api(graph)
    assert api.resolve(ref(join_url=JOIN_URL)).meeting_id == MEETING
    assert len(transport.requests) == 1


def test_join_url_lookup_denied_names_the_permission(graph) -> None:
    graph.denied.add("lookup")
    api, _ = make_api(graph)
    with pytest.raises(ArtifactPermissionError, match=r"OnlineMeetings\.Read\.All") as caught:
        api.resolve(ref(join_url=JOIN_URL))
    assert caught.value.permanent


def test_an_unknown_join_url_says_so(graph) -> None:
    api, _ = make_api(graph)
    api.client.transport.handler = lambda r: json_answer(200, {"value": []})
    with pytest.raises(MeetingNotFoundError, match="no online meeting"):
        api.resolve(ref(join_url=JOIN_URL))


def test_external_id_of_no_calendar_event_points_to_the_xcom(graph) -> None:
    api, _ = make_api(graph)
    api.client.transport.handler = lambda r: json_answer(200, {"value": []})
    with pytest.raises(MeetingNotFoundError, match="creating task's XCom"):
        api.resolve(ref(external_id="interview-42"))


# -- attendance ------------------------------------------------------------------------------


def test_attendance_records_across_pages_with_their_report(graph) -> None:
    api, transport = make_api(graph)
    records = api.attendance_records(ref())
    assert [r["id"] for r in records] == [f"p{i}" for i in range(5)]
    assert {r["reportId"] for r in records} == {"rep/1+="}
    assert records[0]["meetingStartDateTime"] == "2026-03-02T09:00:00Z"
    assert len(transport.requests) == 1 + 3  # reports, then three pages of records


def test_attendance_before_the_meeting_is_empty(graph) -> None:
    graph.reports, graph.records = {}, {}
    api, _ = make_api(graph)
    assert api.attendance_records(ref()) == []


def test_attendance_denied_names_the_permission(graph) -> None:
    graph.denied.add("attendance")
    api, transport = make_api(graph)
    with pytest.raises(ArtifactPermissionError, match=r"OnlineMeetingArtifact\.Read\.All") as caught:
        api.attendance_records(ref())
    assert caught.value.permission == "OnlineMeetingArtifact.Read.All" and len(transport.requests) == 1


# -- downloads -------------------------------------------------------------------------------


def test_transcript_is_written_byte_for_byte(graph, tmp_path) -> None:
    api, transport = make_api(graph)
    [written] = api.download("transcript", ref(), LocalFolder(tmp_path))
    assert Path(written.path).read_bytes() == VTT and written.size == len(VTT)
    assert "$format=text%2Fvtt" in transport.requests[-1].url
    name = Path(written.path)
    assert name.parent.parent == tmp_path and name.suffix == ".vtt"
    assert name.parent.name.startswith("meeting-") and "/" not in name.name and "=" not in name.name


def test_transcript_without_speaker_attribution_asks_for_the_text_format(graph, tmp_path) -> None:
    graph.speaker_attribution = False
    api, transport = make_api(graph)
    [written] = api.download("transcript", ref(), LocalFolder(tmp_path))
    assert Path(written.path).read_bytes() == VTT
    assert transport.requests[-1].headers["Accept"] == "application/vnd.microsoft.graph.transcript+text"
    assert len(files_under(tmp_path)) == 1


def test_transcript_access_disabled_is_permanent_and_names_the_setting(graph, tmp_path) -> None:
    graph.transcripts_disabled = True
    api, transport = make_api(graph)
    with pytest.raises(
        TranscriptAccessDisabledError, match="Meetings > Meeting settings > Transcript API access"
    ) as caught:
        api.download("transcript", ref(), LocalFolder(tmp_path))
    assert caught.value.permanent and len(transport.requests) == 1


@pytest.mark.parametrize("kind", ["transcript", "recording"])
def test_standalone_meeting_explains_the_calendar_event(graph, tmp_path, kind) -> None:
    graph.standalone = True
    api, transport = make_api(graph)
    with pytest.raises(StandaloneMeetingError, match=r"calendar event.*docs/events\.md") as caught:
        api.download(kind, ref(), LocalFolder(tmp_path))
    assert caught.value.permanent and len(transport.requests) == 1


@pytest.mark.parametrize(
    ("kind", "permission"),
    [("transcript", "OnlineMeetingTranscript.Read.All"), ("recording", "OnlineMeetingRecording.Read.All")],
)
def test_download_denied_names_the_permission(graph, tmp_path, kind, permission) -> None:
    graph.denied.add(kind)
    api, _ = make_api(graph)
    with pytest.raises(ArtifactPermissionError, match=permission.replace(".", r"\.")):
        api.download(kind, ref(), LocalFolder(tmp_path))


def test_recording_is_streamed_and_a_rerun_replaces_it(graph, tmp_path) -> None:
    api, _ = make_api(graph)
    [first] = api.download("recording", ref(), LocalFolder(tmp_path))
    [again] = api.download("recording", ref(), LocalFolder(tmp_path))
    assert first.path == again.path and len(files_under(tmp_path)) == 1
    assert hashlib.sha256(Path(again.path).read_bytes()).hexdigest() == hashlib.sha256(RECORDING).hexdigest()


@pytest.mark.parametrize("honour_range", [True, False], ids=["resumed", "restarted"])
def test_a_drop_mid_stream_is_retried_to_the_same_bytes(graph, tmp_path, honour_range) -> None:
    graph.drop_recording_once_after, graph.honour_range = 10_000, honour_range
    api, transport = make_api(graph)
    [written] = api.download("recording", ref(), LocalFolder(tmp_path))
    assert Path(written.path).read_bytes() == RECORDING and len(files_under(tmp_path)) == 1
    assert transport.requests[-1].headers["Range"] == "bytes=10000-"


def test_final_failure_leaves_no_file(graph, tmp_path) -> None:
    api, _ = make_api(graph)
    original = graph.stream_recording

    def always_drop(request, content):
        graph.drop_recording_once_after = 5000
        return original(request, content)

    graph.stream_recording = always_drop
    with pytest.raises(Exception, match="gave up"):
        api.download("recording", ref(), LocalFolder(tmp_path))
    assert files_under(tmp_path) == []


def test_object_storage_path_destination(graph, tmp_path) -> None:
    from airflow.sdk import ObjectStoragePath

    api, _ = make_api(graph)
    root = ObjectStoragePath(f"file://{tmp_path}/store")
    [written] = api.download("recording", ref(), resolve_destination(root))
    assert written.path.startswith("file://") and written.path.endswith(".mp4")
    assert len(files_under(tmp_path)) == 1
    assert (tmp_path / "store" / Path(written.path).parent.name / Path(written.path).name).read_bytes() == RECORDING


def test_object_storage_failure_discards(graph, tmp_path) -> None:
    from airflow.sdk import ObjectStoragePath

    api, _ = make_api(graph)
    graph.stream_recording = lambda request, content: StreamedAnswer(
        200, {"Content-Length": "99999"}, iter([b"x" * 10]), request.url
    )
    with pytest.raises(Exception, match="gave up"):
        api.download("recording", ref(), resolve_destination(ObjectStoragePath(f"file://{tmp_path}/s")))
    assert files_under(tmp_path) == []


# -- destinations and status -----------------------------------------------------------------


def test_destinations(tmp_path) -> None:
    assert isinstance(resolve_destination(str(tmp_path)), LocalFolder)
    assert isinstance(resolve_destination(tmp_path), LocalFolder)
    assert isinstance(
        resolve_destination(
            "s3://b/p", url_to_path=lambda u: type("P", (), {"fs": 1, "path": "b/p", "__truediv__": None})()
        ),
        ObjectStore,
    )


@pytest.mark.parametrize(
    "value", ["", "   ", 42, None, "s3://bucket/x"], ids=["empty", "blank", "int", "none", "url-without-factory"]
)
def test_bad_destinations(value) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        resolve_destination(value)
    assert caught.value.field == "destination"


@pytest.mark.parametrize("value", ["None", "['/data/meetings']", "out/meetings", Path("out")])
def test_relative_destinations_are_refused(value) -> None:
    # What a template rendering None or a list as text gives; tasks share no working directory.
    with pytest.raises(InvalidRequestError, match="is a relative path: give an absolute folder"):
        resolve_destination(value)
    assert isinstance(resolve_destination("~/meetings"), LocalFolder)  # the home folder is absolute


def test_a_failed_move_into_place_leaves_no_temporary_file(tmp_path) -> None:
    # commit() forgot the file before the move, so the caller's abort() found nothing to drop.
    (tmp_path / "m" / "attendance.csv").mkdir(parents=True)  # in the way of the final name
    with pytest.raises(OSError):
        LocalFolder(tmp_path).write_file("m", "attendance.csv", b"a,b\n")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["attendance.csv"]


def test_a_file_is_no_folder(tmp_path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(InvalidRequestError, match="not a folder"):
        resolve_destination(tmp_path / "f")


def test_status_counts_and_readiness(graph) -> None:
    api, _ = make_api(graph)
    status = api.status(ref(), check_artifact_kinds(("attendance", "transcript", "recording")))
    assert status == {
        "meeting_id": MEETING,
        "ended": True,
        "attendance": 1,
        "transcript": 1,
        "recording": 1,
        "ready": True,
    }
    graph.reports, graph.transcripts, graph.recordings = {}, {}, {}
    status = api.status(ref(), ("attendance", "transcript"))
    assert status["ended"] is False and status["ready"] is False and status["recording"] == 0


@pytest.mark.parametrize("kinds", [(), ("video",), "slides"])
def test_unknown_artifact_kinds(kinds) -> None:
    with pytest.raises(InvalidRequestError, match="artifacts"):
        check_artifact_kinds(kinds)
