"""Error answers shaped like Entra ID's and Microsoft Graph's."""

from __future__ import annotations

import datetime
import uuid
from typing import Any


def utc_now_iso() -> str:
    """Current UTC time the way Entra/Graph print it in error bodies."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


#: Entra's token and error answers are not to be cached (RFC 6749, 5.1: "Cache-Control: no-store").
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


class EntraError(Exception):
    """An OAuth2 error answer of the token endpoint.

    :param status: HTTP status (400 or 401).
    :param error: OAuth2 ``error`` code, e.g. ``invalid_client``.
    :param code: the AADSTS number, e.g. 7000215.
    :param description: text after ``AADSTSnnnn: ``.
    """

    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(f"AADSTS{code}: {description}")
        self.status = status
        self.error = error
        self.code = code
        self.description = description

    @property
    def headers(self) -> dict[str, str]:
        """The headers Entra sends with this error (:data:`NO_STORE`)."""
        return dict(NO_STORE)

    def body(self, correlation_id: str | None = None) -> dict[str, Any]:
        """The JSON body Entra sends for this error."""
        trace_id = str(uuid.uuid4())
        correlation_id = correlation_id or str(uuid.uuid4())
        timestamp = utc_now_iso() + "Z"
        return {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.code}: {self.description} Trace ID: {trace_id} "
                f"Correlation ID: {correlation_id} Timestamp: {timestamp.replace('T', ' ')}"
            ),
            "error_codes": [self.code],
            "timestamp": timestamp.replace("T", " "),
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }


def missing_parameter(parameter: str) -> EntraError:
    """AADSTS900144: the form lacks a parameter the request needs."""
    return EntraError(
        400, "invalid_request", 900144, f"The request body must contain the following parameter: '{parameter}'."
    )


def credential_required() -> EntraError:
    """AADSTS7000218: a confidential client (or a flow that needs one) presented no client credential."""
    return EntraError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    )


def tenant_not_found(tenant: str, error: str = "invalid_tenant") -> EntraError:
    """AADSTS90002, Entra's answer for a tenant it does not know.

    The token endpoint sends it as ``invalid_request``, the discovery endpoints as
    ``invalid_tenant``.
    """
    return EntraError(
        400,
        error,
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
        "and are signing into the correct cloud.",
    )


class GraphError(Exception):
    """A Microsoft Graph error answer.

    :param status: HTTP status.
    :param code: Graph error ``code``, e.g. ``Forbidden``.
    :param message: human-readable message.
    :param headers: extra response headers (``Retry-After``, ``WWW-Authenticate``).
    """

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self, request_id: str, client_request_id: str) -> dict[str, Any]:
        """The JSON body Graph sends for this error."""
        return graph_error_body(self.code, self.message, request_id, client_request_id)


def graph_error_body(code: str, message: str, request_id: str, client_request_id: str) -> dict[str, Any]:
    """``{"error": {"code", "message", "innerError": {...}}}`` as Graph returns it."""
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": utc_now_iso(),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }


def bad_request(message: str) -> GraphError:
    """A 400 ``BadRequest``."""
    return GraphError(400, "BadRequest", message)


class EmptyPayload(GraphError):
    """400 for a request body that is empty or not the JSON object the operation takes."""

    def __init__(self) -> None:
        super().__init__(400, "BadRequest", "Empty Payload. JSON content expected.")


#: Graph's ``WWW-Authenticate`` challenge on a 401: ``Bearer realm="", authorization_uri="..."``
#: and the Graph app's ``client_id``. The claims-challenge page's header table makes
#: ``authorization_uri`` required, against the common endpoint when the realm is empty
#: (https://learn.microsoft.com/entra/identity-platform/claims-challenge, "Claims challenge
#: header format"); MSAL reads it from Graph's 401
#: (https://learn.microsoft.com/entra/msal/dotnet/advanced/extract-authentication-parameters).
BEARER_CHALLENGE = (
    'Bearer realm="", authorization_uri="{authority}/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)
#: The 401 texts of Graph's token check (docs/emulator.md, "Graph" error table).
TOKEN_EMPTY = "Access token is empty."
TOKEN_NOT_VALIDATED = "Access token validation failure."
TOKEN_EXPIRED = "Access token has expired or is not yet valid."
TOKEN_AUDIENCE = "Access token validation failure. Invalid audience."


class InvalidAuthenticationToken(GraphError):
    """401 ``InvalidAuthenticationToken`` with Graph's ``WWW-Authenticate`` challenge.

    :param message: the text, e.g. :data:`TOKEN_EXPIRED`.
    :param authority: the emulator's base URL (its ``/common/oauth2/authorize`` is the challenge's ``authorization_uri``).
    """

    def __init__(self, message: str, authority: str) -> None:
        challenge = BEARER_CHALLENGE.format(authority=authority.rstrip("/"))
        super().__init__(401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": challenge})


class TooManyRequests(GraphError):
    """429 ``TooManyRequests``: the rate limit or a scripted 429.

    The body follows the "Sample response" of https://learn.microsoft.com/graph/throttling
    ("Whenever the throttling threshold is exceeded, Microsoft Graph responds with a response
    similar to this one"): ``message`` "Please retry again later." and an ``innerError`` with
    ``code`` "429", ``status`` "429" and ``message`` "Please retry after" beside ``date`` and
    ``request-id``. ``client-request-id`` is added as in every Graph error (json-batching's
    example bodies carry it).

    :param retry_after: the ``Retry-After`` value as sent (``None``: no header).
    """

    def __init__(self, retry_after: str | None) -> None:
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        super().__init__(429, "TooManyRequests", "Please retry again later.", headers)

    def body(self, request_id: str, client_request_id: str) -> dict[str, Any]:
        body = super().body(request_id, client_request_id)
        body["error"]["innerError"].update({"code": "429", "message": "Please retry after", "status": "429"})
        return body


# Named Graph errors (one class per answer, as moto names its services' errors). Where the
# wording comes from and what is assumed is listed in docs/emulator.md ("Graph messages").

#: OData's rule for an object property its type does not define (Graph's answer as users
#: report it, e.g. microsoftgraph/msgraph-sdk-python#440).
PROPERTY_NOT_DEFINED = (
    "The property '{name}' does not exist on type 'microsoft.graph.{type}'. Make sure to only use "
    "property names that are defined by the type or mark the type as open type."
)
#: ODataLib's rule for an unknown parameter of an action such as createOrGet.
PARAMETER_NOT_DEFINED = (
    "The parameter '{name}' in the request payload is not a valid parameter for the operation '{operation}'."
)


class PropertyNotDefined(GraphError):
    """400: a body property that the type (in this API version) does not define.

    :param name: the property.
    :param type_name: the Graph type, e.g. ``meetingParticipants``.
    """

    def __init__(self, name: str, type_name: str) -> None:
        super().__init__(400, "BadRequest", PROPERTY_NOT_DEFINED.format(name=name, type=type_name))


class ParameterNotDefined(GraphError):
    """400: a top-level property of an action body (``createOrGet``) that the action does not take.

    :param name: the parameter.
    :param operation: the action, e.g. ``createOrGet``.
    """

    def __init__(self, name: str, operation: str) -> None:
        super().__init__(400, "BadRequest", PARAMETER_NOT_DEFINED.format(name=name, operation=operation))


#: Message of the 403 for a token without the permission (also Graph's for a delegated token on
#: another user's meetings). Graph documents 403 as "Access is denied to the requested resource.
#: The user might not have enough permission" (https://learn.microsoft.com/graph/errors) but not
#: this text: confirmed from reported answers for ``GET /users``, assumed elsewhere
#: (docs/emulator.md).
INSUFFICIENT_PRIVILEGES = "Insufficient privileges to complete the operation."
#: The text of a 404 for a user id (or UPN) Graph does not find.
RESOURCE_NOT_FOUND = "Resource '{key}' does not exist or one of its queried reference-property objects are not present."


class Forbidden(GraphError):
    """403 ``Forbidden`` of Teams' routes (onlineMeetings, artifacts).

    :param message: the reason (default :data:`INSUFFICIENT_PRIVILEGES`).
    """

    def __init__(self, message: str = INSUFFICIENT_PRIVILEGES) -> None:
        super().__init__(403, "Forbidden", message)


class InsufficientPrivileges(GraphError):
    """403 of directory reads (``GET /users/...``) without the permission, e.g. ``User.Read.All``."""

    def __init__(self) -> None:
        super().__init__(403, "Authorization_RequestDenied", INSUFFICIENT_PRIVILEGES)


class CalendarAccessDenied(GraphError):
    """403 of Outlook's routes (calendar events): no ``Calendars.*`` permission, or another user's calendar.

    Outlook's code and text as users report them (the event pages document neither): an
    assumption, docs/emulator.md.
    """

    def __init__(self) -> None:
        super().__init__(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")


class DirectoryObjectNotFound(GraphError):
    """404 of directory reads for an unknown user (id or UPN).

    :param key: the id or UPN from the URL.
    """

    def __init__(self, key: str) -> None:
        super().__init__(404, "Request_ResourceNotFound", RESOURCE_NOT_FOUND.format(key=key))


class UserNotFound(GraphError):
    """404 ``NotFound`` of the onlineMeetings routes for a ``{userId}`` that is no user's object id.

    :param key: the id (or UPN) from the URL.
    """

    def __init__(self, key: str) -> None:
        super().__init__(404, "NotFound", RESOURCE_NOT_FOUND.format(key=key))


class MeetingNotFound(GraphError):
    """404 for an onlineMeeting id the organizer does not have."""

    def __init__(self) -> None:
        super().__init__(404, "NotFound", "The requested resource does not exist.")


class MethodNotAllowed(GraphError):
    """405 for a known path with a method it does not serve.

    Code and text of the one 405 Graph documents, request 4 of the example batch response in
    https://learn.microsoft.com/graph/json-batching: ``Request_BadRequest`` "Specified HTTP
    method is not allowed for the request target." That example is a directory route
    (``/users/...``); that Teams' and Outlook's routes answer alike is an assumption
    (docs/emulator.md).

    :param method: the HTTP method (not part of the documented text).
    """

    def __init__(self, method: str) -> None:
        super().__init__(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
        self.method = method


class FailedDependency(GraphError):
    """424 of a ``$batch`` item whose ``dependsOn`` names an item that failed.

    https://learn.microsoft.com/graph/json-batching, "Sequencing requests with the dependsOn
    property": "If an individual request fails, any request that depends on that request fails
    with status code 424 (Failed Dependency)." The code and the text are assumptions
    (docs/emulator.md).

    :param dependency: the id of the failed item it depends on.
    """

    def __init__(self, dependency: str) -> None:
        super().__init__(424, "FailedDependency", f"The request depends on request '{dependency}', which failed.")


class InnerCodeError(GraphError):
    """A Graph error whose ``innerError`` carries its own ``code`` (the transcript 403s).

    :param inner_code: ``innerError.code``, e.g. ``GraphAccessToTranscriptsDisabled``.
    """

    def __init__(self, status: int, code: str, message: str, inner_code: str) -> None:
        super().__init__(status, code, message)
        self.inner_code = inner_code

    def body(self, request_id: str, client_request_id: str) -> dict[str, Any]:
        body = super().body(request_id, client_request_id)
        body["error"]["innerError"]["code"] = self.inner_code
        return body


class TranscriptAccessDisabled(InnerCodeError):
    """403 while the tenant's "Microsoft Graph access" to transcripts is off.

    https://learn.microsoft.com/microsoftteams/meeting-transcript-api-access: access is off by
    default, "regardless of app-level permissions"; GRAPH_FACTS.md ("Refinements"): ``403``
    with ``innerError.code`` ``GraphAccessToTranscriptsDisabled``. The message is an
    assumption (docs/emulator.md).
    """

    def __init__(self) -> None:
        super().__init__(
            403,
            "Forbidden",
            "Microsoft Graph access to meeting transcripts is disabled for this tenant.",
            "GraphAccessToTranscriptsDisabled",
        )


class SpeakerAttributionNotAllowed(InnerCodeError):
    """403 for ``text/vtt`` while the tenant's speaker attribution is off.

    https://learn.microsoft.com/graph/api/calltranscript-get ("tenant admin controls"):
    "requesting the attributed format (text/vtt) returns 403 Forbidden with the inner error
    code SpeakerAttributionNotAllowed". The message is an assumption.
    """

    def __init__(self) -> None:
        super().__init__(
            403,
            "Forbidden",
            "Speaker attribution is not allowed for transcripts in this tenant; "
            "request application/vnd.microsoft.graph.transcript+text.",
            "SpeakerAttributionNotAllowed",
        )


class NotCalendarBacked(GraphError):
    """Transcripts and recordings of a meeting that belongs to no calendar event.

    calltranscript-get: "This API doesn't support meetings created using the create
    onlineMeeting API that are not associated with an event on the user's calendar". The
    text is what users report (microsoftgraph/microsoft-graph-docs-contrib#9103, #8869);
    the status 412 is an assumption from the code ``PreconditionFailed`` (docs/emulator.md).
    """

    def __init__(self) -> None:
        super().__init__(
            412,
            "PreconditionFailed",
            "No iCalUid found for the meeting. This API is supported only for calendar backed OnlineMeeting.",
        )


class ArtifactNotFound(MeetingNotFound):
    """404 for a report, transcript or recording id the meeting does not have (the same answer)."""
