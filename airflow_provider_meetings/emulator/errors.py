"""Error answers shaped like Entra ID's and Microsoft Graph's."""

from __future__ import annotations

import datetime
import uuid
from typing import Any


def utc_now_iso() -> str:
    """Current UTC time the way Entra/Graph print it in error bodies."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


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
