"""The reply a scripted fault stands for, on the token endpoint or on Graph.

``faults.py`` decides which fault hits which request; this module says what the client then
receives (``slow`` is no reply: the caller sleeps).
"""

from __future__ import annotations

import html
import http
from collections.abc import Callable

from meetings_emulator.errors import TOKEN_EXPIRED, EntraError, GraphError, InvalidAuthenticationToken, TooManyRequests
from meetings_emulator.faults import ScriptedFault
from meetings_emulator.messages import Reply

#: Graph's code and message for each 5xx a scripted fault may answer with (401 and 429 are the
#: named errors the token check and the rate limit raise).
_GRAPH_CODES = {
    500: ("InternalServerError", "An internal server error occurred."),
    502: ("BadGateway", "Bad gateway."),
    503: ("ServiceNotAvailable", "The service is temporarily unavailable. Retry later."),
    504: ("GatewayTimeout", "The gateway timed out."),
}


def proxy_html(status: int) -> str:
    """The HTML page a proxy, gateway or captive portal answers with (nginx's layout)."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    title = html.escape(f"{status} {phrase}")
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    )


def _graph_error(status: int, retry_after: str | None, authority: str) -> GraphError:
    """The Graph error a scripted status stands for: a 401 is the token check's expired-token
    answer and a 429 the rate limit's, each the same named error; others by :data:`_GRAPH_CODES`."""
    if status == 401:
        return InvalidAuthenticationToken(TOKEN_EXPIRED, authority)
    if status == 429:
        return TooManyRequests(retry_after)
    code, message = _GRAPH_CODES.get(status, ("UnknownError", f"Scripted error {status}."))
    return GraphError(status, code, message)


def strike(
    fault: ScriptedFault | None,
    when: str,
    sleep: Callable[[float], None],
    *,
    graph: bool,
    ids: tuple[str, str] = ("", ""),
    authority: str = "",
) -> Reply | None:
    """The reply of ``fault`` if it strikes at ``when`` (``before`` or ``after`` the request is
    processed), else ``None``: a ``slow`` fault sleeps and answers nothing, a ``drop_mid_stream``
    one is applied by the caller to the answer it cuts. The one place a scripted fault strikes,
    on Graph and on the token endpoint; the other parameters are :func:`fault_reply`'s.
    """
    if fault is None or fault.when != when or fault.kind == "drop_mid_stream":
        return None
    if fault.kind == "slow":
        sleep(fault.seconds)
        return None
    return fault_reply(fault, graph, ids, authority)


def fault_reply(fault: ScriptedFault, graph: bool, ids: tuple[str, str] = ("", ""), authority: str = "") -> Reply:
    """The answer a scripted fault stands for (``slow`` is handled by the caller).

    :param fault: the fault taken for this request.
    :param graph: a Graph error body (``True``) or an Entra ID one (``False``).
    :param ids: ``(request-id, client-request-id)``: Graph echoes both; Entra's ``correlation_id``
        is the ``client-request-id`` (a new one when it is empty).
    :param authority: the emulator's base URL, for the ``WWW-Authenticate`` challenge of a Graph 401.
    """
    if fault.kind == "drop":
        return Reply(0, drop=True)
    if fault.kind == "non_json":
        # A proxy, gateway or captive portal answering in HTML: below 500 MSAL tries to read
        # the token answer as JSON and fails; a Graph client sees a non-JSON error body.
        status = int(fault.status or 502)
        headers = {"Content-Type": "text/html"}
        if status == 407:
            headers["Proxy-Authenticate"] = 'Basic realm="proxy"'
        if fault.retry_after is not None:
            headers["Retry-After"] = fault.retry_after
        return Reply(status, proxy_html(status), headers)
    status = int(fault.status or 503)
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = fault.retry_after
    error = _graph_error(status, fault.retry_after, authority)
    if graph:
        return Reply(status, error.body(*ids), {**headers, **error.headers})
    kind = "temporarily_unavailable" if status >= 500 or status == 429 else "invalid_request"
    entra = EntraError(status, kind, 50196 if status == 429 else 90033, error.message)
    return Reply(status, entra.body(ids[1] or None), {**headers, **entra.headers})
