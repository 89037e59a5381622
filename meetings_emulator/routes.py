"""The one route table of the emulator: method and path pattern -> handler.

Three groups, tried by ``dispatch.py`` in this order:

- :data:`CONTROL_ROUTES`: the control API, on the path after ``/_emulator``;
- :data:`ENTRA_ROUTES`: discovery, token, device code, keys, device login page;
- :data:`GRAPH_ROUTES`: Graph, on the path after the version segment (``/v1.0``, ``/beta``).

Within a group the first route whose pattern matches the path wins; a path a route knows,
asked with a method it does not serve, is Graph's 405 (or the control API's 404). A Graph
route's name is the key of its counters in ``/_emulator/stats`` and of its permissions
(:func:`~meetings_emulator.permissions.for_meeting_route`).

To serve a new Graph resource: write its handlers (``(service, request, match, token) ->
Reply``, as in ``graph_meetings.py``) and add its routes here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from meetings_emulator import control, entra, graph_artifacts, graph_events, graph_meetings, graph_users
from meetings_emulator.graph_batch import answer_batch
from meetings_emulator.messages import Reply

#: Any method (``$batch`` answers 405 itself, after its fault and before authentication).
ANY_METHOD = "*"
BATCH = "$batch"
#: The name of a Graph path no route knows (counted, then answered with Graph's 400).
UNKNOWN = "other"

Handler = Callable[..., Reply]


@dataclass(frozen=True)
class Route:
    """One path pattern and the handler of each method it serves.

    :param pattern: regular expression on the path (after the group's prefix).
    :param methods: HTTP method (or :data:`ANY_METHOD`) -> ``(route name, handler)``.
    """

    pattern: re.Pattern[str]
    methods: Mapping[str, tuple[str, Handler]]


def _exact(path: str) -> re.Pattern[str]:
    return re.compile(re.escape(path) + "$")


_ORGANIZER = graph_meetings.ORGANIZER
_MAILBOX = graph_events.MAILBOX
#: A meeting's path; its artifacts are below it (ids are one percent-encoded segment each).
_MEETING = _ORGANIZER + r"/(?P<meeting>[^/]+)"

#: Graph, on the path after the version segment.
GRAPH_ROUTES: tuple[Route, ...] = (
    Route(re.compile(r"^/\$batch/*$"), {ANY_METHOD: (BATCH, answer_batch)}),
    Route(
        re.compile(_ORGANIZER + r"/createOrGet/?$", re.IGNORECASE),
        {"POST": ("createOrGet", graph_meetings.create_or_get)},
    ),
    Route(
        re.compile(_ORGANIZER + r"/?$", re.IGNORECASE),
        {"GET": ("listMeetings", graph_meetings.list_meetings)},
    ),
    *(
        Route(re.compile(_MEETING + tail + r"/?$", re.IGNORECASE), {"GET": (name, handler)})
        for tail, name, handler in (
            ("/attendanceReports", "listAttendanceReports", graph_artifacts.list_attendance_reports),
            ("/attendanceReports/(?P<report>[^/]+)", "getAttendanceReport", graph_artifacts.get_attendance_report),
            (
                "/attendanceReports/(?P<report>[^/]+)/attendanceRecords",
                "listAttendanceRecords",
                graph_artifacts.list_attendance_records,
            ),
            ("/transcripts", "listTranscripts", graph_artifacts.list_transcripts),
            ("/transcripts/(?P<transcript>[^/]+)", "getTranscript", graph_artifacts.get_transcript),
            (
                "/transcripts/(?P<transcript>[^/]+)/content",
                "getTranscriptContent",
                graph_artifacts.get_transcript_content,
            ),
            (
                "/transcripts/(?P<transcript>[^/]+)/metadataContent",
                "getTranscriptMetadataContent",
                graph_artifacts.get_transcript_metadata,
            ),
            ("/recordings", "listRecordings", graph_artifacts.list_recordings),
            ("/recordings/(?P<recording>[^/]+)", "getRecording", graph_artifacts.get_recording),
            ("/recordings/(?P<recording>[^/]+)/content", "getRecordingContent", graph_artifacts.get_recording_content),
        )
    ),
    Route(
        re.compile(_ORGANIZER + r"/(?P<meeting>[^/]+)/?$", re.IGNORECASE),
        {
            "GET": ("getMeeting", graph_meetings.get_meeting),
            "PATCH": ("updateMeeting", graph_meetings.update_meeting),
            "DELETE": ("deleteMeeting", graph_meetings.delete_meeting),
        },
    ),
    Route(
        re.compile(_MAILBOX + r"/?$", re.IGNORECASE),
        {"GET": ("listEvents", graph_events.list_events), "POST": ("createEvent", graph_events.create_event)},
    ),
    Route(
        re.compile(_MAILBOX + r"/(?P<event>[^/]+)/cancel/?$", re.IGNORECASE),
        {"POST": ("cancelEvent", graph_events.cancel_event)},
    ),
    Route(
        re.compile(_MAILBOX + r"/(?P<event>[^/]+)/instances/?$", re.IGNORECASE),
        {"GET": ("listInstances", graph_events.list_instances)},
    ),
    Route(
        re.compile(_MAILBOX + r"/(?P<event>[^/]+)/?$", re.IGNORECASE),
        {
            "GET": ("getEvent", graph_events.get_event),
            "PATCH": ("updateEvent", graph_events.update_event),
            "DELETE": ("deleteEvent", graph_events.delete_event),
        },
    ),
    Route(re.compile(graph_events.CALENDAR, re.IGNORECASE), {"GET": ("getCalendar", graph_events.get_calendar)}),
    Route(re.compile(r"^/users/(?P<user>[^/]+)/?$", re.IGNORECASE), {"GET": ("getUser", graph_users.get_user)}),
)

#: Entra ID, on the whole path.
ENTRA_ROUTES: tuple[Route, ...] = (
    Route(
        re.compile(r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$"),
        {"GET": ("openidConfiguration", entra.openid_configuration)},
    ),
    Route(re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$"), {"POST": ("token", entra.token_endpoint)}),
    Route(
        re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/devicecode$"),
        {"POST": ("deviceCode", entra.device_authorization)},
    ),
    Route(re.compile(r"^/(?P<tenant>[^/]+)/discovery(?:/v2\.0)?/keys$"), {"GET": ("keys", entra.keys)}),
    Route(_exact("/devicelogin"), {"GET": ("deviceLogin", entra.device_login_page)}),
)

#: The control API, on the path after ``/_emulator`` (trailing slashes removed).
CONTROL_ROUTES: tuple[Route, ...] = (
    Route(_exact("/health"), {"GET": ("health", control.health)}),
    Route(_exact("/info"), {"GET": ("info", control.info)}),
    Route(_exact("/stats"), {"GET": ("stats", control.stats)}),
    Route(_exact("/meetings"), {"GET": ("meetings", control.meetings)}),
    Route(_exact("/events"), {"GET": ("events", control.events)}),
    Route(_exact("/meetings/hold"), {"POST": ("holdMeeting", control.hold_meeting)}),
    Route(_exact("/meetings/end"), {"POST": ("endMeeting", control.end_meeting)}),
    Route(_exact("/artifacts"), {"GET": ("artifacts", control.artifacts)}),
    Route(_exact("/transcript-access"), {"POST": ("transcriptAccess", control.set_transcript_access)}),
    Route(_exact("/speaker-attribution"), {"POST": ("speakerAttribution", control.set_speaker_attribution)}),
    Route(_exact("/attendance-page-size"), {"POST": ("attendancePageSize", control.set_page_size)}),
    Route(_exact("/events/respond"), {"POST": ("respondToEvent", control.respond_to_event)}),
    Route(_exact("/mailbox-concurrency"), {"POST": ("mailboxConcurrency", control.set_mailbox_concurrency)}),
    Route(
        re.compile(r"^/mailboxes/(?P<user>[^/]+)/online-meeting-providers$"),
        {"POST": ("onlineMeetingProviders", control.set_online_meeting_providers)},
    ),
    Route(_exact("/reset"), {"POST": ("reset", control.reset)}),
    Route(_exact("/latency"), {"POST": ("latency", control.set_latency)}),
    Route(_exact("/rate-limit"), {"POST": ("rateLimit", control.set_rate_limit)}),
    Route(_exact("/batch-order"), {"POST": ("batchOrder", control.set_batch_order)}),
    Route(
        re.compile(r"^/policies/(?P<user>[^/]+)/(?P<action>grant|revoke)$"),
        {"POST": ("policy", control.set_policy)},
    ),
    Route(
        _exact("/faults"),
        {
            "GET": ("faults", control.pending_faults),
            "POST": ("scriptFault", control.script_fault),
            "DELETE": ("clearFaults", control.clear_faults),
        },
    ),
    Route(
        _exact("/random-faults"),
        {
            "GET": ("randomFaults", control.random_faults),
            "POST": ("setRandomFaults", control.set_random_faults),
            "DELETE": ("clearRandomFaults", control.clear_random_faults),
        },
    ),
    Route(_exact("/tokens"), {"GET": ("tokens", control.issued_tokens)}),
    Route(_exact("/tokens/expire"), {"POST": ("expireTokens", control.expire_tokens)}),
    Route(_exact("/certificates"), {"POST": ("certificates", control.add_certificate)}),
    Route(_exact("/federated-credentials"), {"POST": ("federatedCredentials", control.add_federated_credential)}),
    Route(_exact("/app-roles"), {"POST": ("appRoles", control.set_app_roles)}),
    Route(_exact("/public-client-flows"), {"POST": ("publicClientFlows", control.set_public_client_flows)}),
    Route(_exact("/users"), {"POST": ("addUser", control.add_user)}),
    Route(_exact("/refresh-tokens"), {"GET": ("refreshTokens", control.issued_refresh_tokens)}),
    Route(_exact("/refresh-tokens/expire"), {"POST": ("expireRefreshTokens", control.expire_refresh_tokens)}),
    Route(_exact("/device-codes"), {"GET": ("deviceCodes", control.device_codes)}),
    Route(
        re.compile(r"^/device-codes/(?P<decision>approve|decline)$"),
        {"POST": ("decideDeviceCode", control.decide_device_code)},
    ),
)


def resolve(routes: tuple[Route, ...], method: str, path: str) -> tuple[str, Handler | None, re.Match[str] | None]:
    """``(route name, handler, path match)`` of a request in one group of routes.

    The handler is ``None`` for a method the matching route does not serve (its name is then
    the name of the route's first method); an unknown path is ``(UNKNOWN, None, None)``.

    :param routes: :data:`GRAPH_ROUTES`, :data:`ENTRA_ROUTES` or :data:`CONTROL_ROUTES`.
    :param method: the HTTP method.
    :param path: the path after the group's prefix.
    """
    for route in routes:
        match = route.pattern.match(path)
        if match is None:
            continue
        entry = route.methods.get(method) or route.methods.get(ANY_METHOD)
        if entry is not None:
            name, handler = entry
            return name, handler, match
        return next(iter(route.methods.values()))[0], None, match
    return UNKNOWN, None, None


def unresolved_segment(routes: tuple[Route, ...], path: str) -> str:
    """The segment of an unknown path that no route resolves: the one after its longest known prefix.

    ``/users/{id}/nothing`` is ``nothing`` (``/users/{id}`` is a route), ``/v1.0/users`` is
    ``v1.0``; ``/me`` counts as ``/users/{id}``, its alias. The text of Graph's 400 names it
    ("Resource not found for the segment '...'.", docs/emulator.md).

    :param routes: :data:`GRAPH_ROUTES`.
    :param path: a path no route matches (after the version segment).
    """
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        return path
    for depth in range(len(segments) - 1, 0, -1):
        prefix = "/" + "/".join(segments[:depth])
        candidates = (prefix, "/users/me" + prefix[3:]) if segments[0].lower() == "me" else (prefix,)
        if any(route.pattern.match(candidate) for route in routes for candidate in candidates):
            return segments[depth]
    return segments[0]
