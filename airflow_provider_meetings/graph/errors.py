"""Exceptions of the provider, and the parsing of Graph and Entra error bodies into them.

Every exception carries facts (HTTP status, service error code, request id) rather than a
formatted blob, so callers can tell a permanent error from a transient one with
:func:`is_permanent`. Nothing here needs Airflow or the network.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_meetings.graph.retry import TRANSIENT_STATUSES, is_transient_status

_BODY_SNIPPET_CHARS = 200
#: ``AADSTS700082:`` at the start of Entra's ``error_description``
_AADSTS_PREFIX = re.compile(r"\s*AADSTS(\d+)\b")


class ProviderError(Exception):
    """Base class of every error raised by this provider."""

    #: ``True`` when repeating the same call cannot succeed (bad input, bad credentials, 4xx).
    permanent: bool = True


class InvalidRequestError(ProviderError, ValueError):
    """A request was refused before anything was sent (bad input to any resource).

    :param field: the argument that is wrong, e.g. ``end_date_time``
    :param message: what is wrong and what to do
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class ConnectionConfigError(ProviderError, ValueError):
    """The Airflow connection is not usable as configured.

    :param field: the connection field or extra that is wrong, e.g. ``tenant_id``
    :param message: what is wrong and what to do
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"connection field {field!r}: {message}")


class AuthenticationError(ProviderError):
    """Entra ID (the token endpoint) refused or failed to issue an access token.

    :param error: OAuth error, e.g. ``invalid_client``
    :param description: Entra's ``error_description`` (starts with the AADSTS code)
    :param error_codes: Entra's numeric ``error_codes``
    :param correlation_id: Entra's correlation id, for a support request
    :param permanent: ``False`` for outages (5xx, timeouts) that a later attempt may survive
    :param status: HTTP status of the token endpoint's answer, when one arrived
    :param retry_after: seconds from the answer's ``Retry-After``, if any
    :param hint: what to do about it, appended to the message
    """

    def __init__(
        self,
        error: str,
        description: str = "",
        *,
        error_codes: list[int] | None = None,
        correlation_id: str | None = None,
        permanent: bool = True,
        status: int | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.error = error
        self.description = description
        self.error_codes = list(error_codes or [])
        self.correlation_id = correlation_id
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after
        self.hint = hint
        super().__init__(self._text())

    def _text(self) -> str:
        text = f"Entra ID refused the token request: {self.error}"
        if self.description:
            # Entra descriptions end with trace/correlation lines; the first line is the fact.
            text += f": {self.description.splitlines()[0].strip()}"
        if self.correlation_id:
            text += f" (correlation id {self.correlation_id})"
        if self.hint:
            text += f". {self.hint}"
        return text

    def __setstate__(self, state: dict[str, Any]) -> None:
        # copy and pickle rebuild an exception from its args (here the message) and then set
        # its attributes: the message is made again from the attributes.
        self.__dict__.update(state)
        self.args = (self._text(),)

    def with_hint(self, hint: str) -> AuthenticationError:
        """The same error (a copy: not its traceback or cause) with advice on what to do about it."""
        hinted = copy.copy(self)
        hinted.__setstate__({"hint": hint})
        return hinted

    @property
    def aadsts_code(self) -> str | None:
        """Entra's code of the refusal, ``AADSTSnnnn``: the first of ``error_codes``, else the
        description's prefix; ``None`` when the answer carries neither.

        Entra's error response documents ``error_codes`` ("a list of STS-specific error codes")
        and asks clients not to act on the text of ``error_description``, which starts with the
        same code (https://learn.microsoft.com/entra/identity-platform/reference-error-codes,
        *Handling error codes in your application*); an answer without ``error_codes`` (MSAL's
        own errors, a proxy's) still names the code in the text.
        """
        for code in self.error_codes[:1]:
            if isinstance(code, int) or str(code).strip().isdigit():
                return f"AADSTS{int(code)}"
        match = _AADSTS_PREFIX.match(self.description)
        return f"AADSTS{match.group(1)}" if match else None


class GraphAPIError(ProviderError):
    """Microsoft Graph answered with an error status.

    :param status: HTTP status
    :param code: Graph's ``error.code``, e.g. ``Forbidden``
    :param message: Graph's ``error.message``
    :param request_id: ``innerError.request-id`` (or the ``request-id`` header)
    :param date: ``innerError.date``
    :param retry_after: seconds from ``Retry-After``, when the answer carried one
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        date: str | None = None,
        retry_after: float | None = None,
        detail: str | None = None,
        inner_code: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        #: ``innerError.code``, where Graph puts the precise reason of some answers
        #: (e.g. ``GraphAccessToTranscriptsDisabled`` under a 403 ``Forbidden``)
        self.inner_code = inner_code
        self.message = message
        self.request_id = request_id
        self.date = date
        self.retry_after = retry_after
        # 0: no answer for a $batch item at all; worth sending again (graph/retry.py).
        self.permanent = not is_transient_status(status)
        text = f"Microsoft Graph answered {status} {code}: {message}"
        if detail:
            text += f" {detail}"
        if request_id:
            text += f" (request-id {request_id}"
            text += f", date {date})" if date else ")"
        super().__init__(text)


def answer_facts(error: GraphAPIError) -> dict[str, Any]:
    """The facts of Graph's answer in ``error``, as keyword arguments of :class:`GraphAPIError`.

    Everything but ``detail``, which the more precise class gives itself, e.g.
    ``CalendarAccessDeniedError(**answer_facts(error), detail=advice)``.

    :param error: the error the client raised for the answer
    """
    return {
        "status": error.status,
        "code": error.code,
        "message": error.message,
        "request_id": error.request_id,
        "date": error.date,
        "retry_after": error.retry_after,
        "inner_code": error.inner_code,
    }


class ApplicationAccessPolicyError(GraphAPIError):
    """403: the app has no Teams application access policy for the user the call is about."""


#: Short names of :class:`TransportError` kinds, for log lines.
TRANSPORT_ERROR_LABELS = {
    "connection": "connection failed",
    "proxy": "proxy unreachable",
    "timeout": "timed out",
    "dropped": "connection dropped",
}


class TransportError(ProviderError):
    """No HTTP answer: the connection failed, dropped mid-answer, or timed out.

    Always transient. The message names the host and what happened, never a header or body.

    :param kind: ``connection``, ``proxy``, ``timeout`` or ``dropped``
    :param url: the URL the request went to (without query)
    :param reason: the underlying library's short reason
    """

    permanent = False
    status = None
    retry_after = None

    def __init__(self, kind: str, url: str, reason: str) -> None:
        self.kind = kind
        self.url = url
        self.reason = reason
        what = {
            "connection": "could not connect to",
            "proxy": "could not reach the proxy for",
            "timeout": "timed out waiting for",
            "dropped": "lost the connection in the middle of an answer from",
        }.get(kind, "failed to reach")
        super().__init__(f"{what} {url}: {reason}")


class RetriesExhaustedError(ProviderError):
    """A transient failure persisted past the retry bound.

    :param what: the call, e.g. ``createOrGet external_id=abc``
    :param attempts: requests made, the first included
    :param waited: seconds spent waiting between attempts
    :param last_error: what the last attempt ran into
    :param asked_wait: set when the next wait was longer than the call might wait: the
        server asked (``Retry-After``) for more than the waiting budget had left, or a wait
        (``Retry-After`` or backoff) was longer than ``max_single_wait`` (a deferrable task's
        ``defer_after``); the call stopped at once instead of waiting; a caller that can wait
        longer (a deferred task, a task retry) may try again after this many seconds
    :param asked_by_server: whether ``asked_wait`` is the server's ``Retry-After`` (else the backoff)
    """

    permanent = False

    def __init__(
        self,
        what: str,
        attempts: int,
        waited: float,
        last_error: BaseException,
        *,
        asked_wait: float | None = None,
        asked_by_server: bool = True,
    ) -> None:
        self.what = what
        self.attempts = attempts
        self.waited = waited
        self.last_error = last_error
        self.asked_wait = asked_wait
        self.asked_by_server = asked_by_server
        self.status = getattr(last_error, "status", None)
        self.code = getattr(last_error, "code", None)
        reason = f"after {attempts} attempts and {waited:.1f}s of waiting"
        if asked_wait is not None and asked_by_server:
            reason += f": the server asked to wait {asked_wait:.1f}s more, beyond max_retry_wait"
        elif asked_wait is not None:
            reason += f": the next wait ({asked_wait:.1f}s of backoff) is longer than one wait may be here"
        super().__init__(f"{what} gave up {reason}; last error: {last_error}")


def is_permanent(error: BaseException) -> bool:
    """Whether repeating the call that raised ``error`` is pointless."""
    return bool(getattr(error, "permanent", False))


def is_not_found(error: BaseException | None) -> bool:
    """Whether Graph answered ``404 Not Found``: for a ``DELETE`` or a cancel, the item is
    gone already (a call retried after its answer was lost, or another run's), which is
    what the call wanted.

    A single call raises the :class:`GraphAPIError`; a ``$batch`` item carries it as its
    error (``BatchItemResult.error``; per item, its own status: https://learn.microsoft.com/graph/json-batching,
    "Response format").

    :param error: what the call raised, or a batch item's error (``None``: it succeeded)
    """
    return isinstance(error, GraphAPIError) and error.status == 404


def error_fields(error: BaseException | None) -> dict[str, Any]:
    """A bulk item's failure for its XCom dict: ``error`` (the message), ``error_status`` and
    ``error_code`` (Graph's, when it answered), ``permanent``; all ``None`` when it succeeded.

    The message is the exception's text, which carries no secret (tests/reliability check it).
    """
    if error is None:
        return {"error": None, "error_status": None, "error_code": None, "permanent": None}
    return {
        "error": str(error),
        "error_status": getattr(error, "status", None),
        "error_code": getattr(error, "code", None),
        "permanent": is_permanent(error),
    }


def describe_error(error: BaseException) -> str:
    """Short reason for a retry log line, e.g. ``429 TooManyRequests`` or ``ConnectionError``."""
    if isinstance(error, GraphAPIError):
        return f"{error.status} {error.code}"
    if isinstance(error, AuthenticationError):
        return f"{error.error} {error.description.splitlines()[0] if error.description else ''}".strip()
    if isinstance(error, TransportError):
        return TRANSPORT_ERROR_LABELS.get(error.kind, error.kind)
    return type(error).__name__


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _BODY_SNIPPET_CHARS else text[:_BODY_SNIPPET_CHARS] + "..."


def _decode_body(body: bytes | str | Mapping[str, Any] | None) -> tuple[Mapping[str, Any] | None, str]:
    if body is None:
        return None, ""
    if isinstance(body, Mapping):
        return body, ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        parsed = json.loads(text) if text.strip() else None
    except ValueError:
        return None, text
    return (parsed if isinstance(parsed, Mapping) else None), text


def graph_error_from_response(
    status: int,
    headers: Mapping[str, str] | None,
    body: bytes | str | Mapping[str, Any] | None,
    *,
    user_id: str | None = None,
    retry_after: float | None = None,
) -> GraphAPIError:
    """Turn a Graph error answer into a :class:`GraphAPIError` (or a subclass).

    Works for top-level answers and for ``$batch`` items (whose body is already a dict).
    A body that is not Graph's JSON (an HTML page from a proxy, say) keeps a short
    excerpt in the message.

    :param status: HTTP status of the answer
    :param headers: its headers (case-insensitive mapping or plain dict)
    :param body: raw or decoded body
    :param user_id: the user the call was for, named in access-policy errors
    :param retry_after: already-parsed ``Retry-After`` seconds, if any
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    parsed, text = _decode_body(body)
    error = parsed.get("error") if parsed else None
    if isinstance(error, Mapping):
        code = str(error.get("code") or f"HTTP{status}")
        message = str(error.get("message") or "").strip() or "(no message)"
        inner = error.get("innerError") or error.get("innererror") or {}
        inner = inner if isinstance(inner, Mapping) else {}
        request_id = inner.get("request-id") or headers.get("request-id")
        date = inner.get("date")
        inner_code = str(inner["code"]) if inner.get("code") else None
        detail = None
    else:
        code = f"HTTP{status}"
        message = "the answer was not a Microsoft Graph error"
        request_id = headers.get("request-id")
        date = None
        inner_code = None
        content_type = headers.get("content-type", "unknown content type")
        detail = f"({content_type}; a proxy or gateway may have answered): {_snippet(text)!r}"

    error_class = GraphAPIError
    if status == 403 and "access policy" in message.lower():
        error_class = ApplicationAccessPolicyError
        who = f"user {user_id!r}" if user_id else "this user"
        detail = (
            f"The app has no Teams application access policy for {who}. A Teams admin "
            "must grant one (New-CsApplicationAccessPolicy -AppIds <client id>, then "
            "Grant-CsApplicationAccessPolicy -Identity <user> or -Global); changes can "
            "take up to 30 minutes."
        )
    elif status == 404 and user_id:
        detail = (
            f"Check that user {user_id!r} exists in the tenant, has a Teams licence and is "
            "given by its Entra object id (some tenants answer 404 to a UPN)."
        )
    return error_class(
        status,
        code,
        message,
        request_id=request_id,
        date=date,
        retry_after=retry_after,
        detail=detail,
        inner_code=inner_code,
    )


def authentication_error_from_msal(
    result: Mapping[str, Any], *, status: int | None = None, retry_after: float | None = None
) -> AuthenticationError:
    """Turn MSAL's error dict (answers below HTTP 500) into an :class:`AuthenticationError`.

    :param result: what ``acquire_token_*`` returned
    :param status: HTTP status of the answer behind it, when known (a 429 is throttling)
    :param retry_after: its ``Retry-After`` in seconds
    """
    error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "")
    # Entra outages that MSAL reports as a dict, and throttling, are worth another attempt.
    transient = error in {"temporarily_unavailable", "server_error"} or status in TRANSIENT_STATUSES
    return AuthenticationError(
        error,
        description,
        error_codes=result.get("error_codes"),
        correlation_id=result.get("correlation_id"),
        permanent=not transient,
        status=status,
        retry_after=retry_after,
    )
