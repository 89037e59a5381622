"""Transcripts and recordings, streamed into a destination under a temporary name.

* Transcripts: ``GET .../transcripts/{id}/content?$format=text/vtt`` (calltranscript-get):
  the WebVTT bytes as Graph sent them, byte for byte (never decoded and re-encoded). With
  speaker attribution off, Graph answers 403 ``SpeakerAttributionNotAllowed`` to
  ``text/vtt``; the content is then asked with
  ``Accept: application/vnd.microsoft.graph.transcript+text``.
* Recordings: ``GET .../recordings/{id}/content`` (callrecording-get): an MP4 stream of
  hundreds of MB, written chunk by chunk (never held in memory).

Both go through :meth:`GraphRestClient.download
<airflow_provider_meetings.graph.client.GraphRestClient.download>`: a connection dropped
mid-stream is retried under the connection's retry policy (resumed with ``Range`` when the
server allows, else started over). A file appears under its final name only when complete;
on failure the temporary file is discarded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_meetings.artifacts.destinations import Destination, FileSink, artifact_file_name, meeting_folder
from airflow_provider_meetings.artifacts.locate import ResolvedMeeting
from airflow_provider_meetings.graph.errors import GraphAPIError

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient

__all__ = ["ArtifactFile", "download_artifact"]

#: The code of a 403 to ``text/vtt`` when the tenant turned speaker attribution off.
SPEAKER_ATTRIBUTION_CODE = "SpeakerAttributionNotAllowed"
#: The transcript format without speaker attribution (calltranscript-get, "Request headers").
TRANSCRIPT_TEXT = "application/vnd.microsoft.graph.transcript+text"
VTT = "text/vtt"


@dataclass(frozen=True)
class ArtifactFile:
    """One artifact written to its destination.

    :param kind: ``transcript`` or ``recording``
    :param artifact_id: Graph's id of the transcript or recording
    :param path: where it is (a local path or a storage URL)
    :param size: bytes written
    :param content_type: the media type Graph sent
    :param created: Graph's ``createdDateTime`` of the artifact
    """

    kind: str
    artifact_id: str
    path: str
    size: int
    content_type: str
    created: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (for XCom)."""
        return asdict(self)


@dataclass(frozen=True)
class _Content:
    """The content of one transcript or recording: where Graph has it, the file it goes to.

    :param client: the Graph client
    :param destination: where the file goes
    :param meeting: the meeting
    :param kind: ``transcript`` or ``recording`` (the Graph collection without its ``s``)
    :param item: Graph's ``callTranscript`` or ``callRecording`` (``id``, ``createdDateTime``)
    :param extension: the file name's extension
    """

    client: GraphRestClient
    destination: Destination
    meeting: ResolvedMeeting
    kind: str
    item: dict[str, Any]
    extension: str

    @property
    def item_id(self) -> str:
        """Graph's id of the transcript or recording."""
        return str(self.item["id"])

    @property
    def what(self) -> str:
        """The request, for log lines and errors."""
        return f"GET {self.kind} content"

    def write(self, accept: str, query: str = "") -> tuple[str, int, str]:
        """Stream the content into its file; the file's final path, its size and Graph's media type.

        :param accept: the ``Accept`` header
        :param query: appended to the content's path, e.g. ``?$format=text/vtt``
        """
        path = f"{self.meeting.path}/{self.kind}s/{quote(self.item_id, safe='')}/content{query}"
        name = artifact_file_name(self.kind, self.item_id, self.extension)
        sink = FileSink(self.destination, meeting_folder(self.meeting.meeting_id), name)
        try:
            outcome = self.client.download(
                path, sink, headers={"Accept": accept}, what=self.what, user_id=self.meeting.user_id
            )
            final = sink.commit()
        except BaseException:
            sink.abort()
            raise
        return final, outcome.size, outcome.content_type

    def saved(self, written: tuple[str, int, str]) -> ArtifactFile:
        """The file :meth:`write` wrote, logged."""
        final, size, content_type = written
        self.client.log.info(
            "%s of meeting %s: %s (%d bytes)", self.kind.capitalize(), self.meeting.meeting_id, final, size
        )
        return ArtifactFile(self.kind, self.item_id, final, size, content_type, self.item.get("createdDateTime"))


def download_artifact(
    client: GraphRestClient, destination: Destination, meeting: ResolvedMeeting, kind: str, item: dict[str, Any]
) -> ArtifactFile:
    """One transcript's WebVTT content (byte for byte) or one recording's MP4 content (streamed
    in chunks) into ``destination``.

    :param client: the Graph client
    :param destination: where it goes
    :param meeting: the meeting
    :param kind: ``transcript`` or ``recording``
    :param item: Graph's ``callTranscript`` or ``callRecording`` (``id``, ``createdDateTime``)
    """
    if kind == "recording":
        content = _Content(client, destination, meeting, kind, item, "mp4")
        return content.saved(content.write("*/*"))
    content = _Content(client, destination, meeting, kind, item, "vtt")
    try:
        written = content.write(VTT, f"?$format={quote(VTT, safe='')}")
    except GraphAPIError as error:
        if SPEAKER_ATTRIBUTION_CODE not in (error.code, error.inner_code):
            raise
        client.log.info("%s: speaker attribution is off in this tenant; asking for %s", content.what, TRANSCRIPT_TEXT)
        written = content.write(TRANSCRIPT_TEXT)
    return content.saved(written)
