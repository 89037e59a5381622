"""The reply a scripted fault stands for, on the token endpoint or on Graph.

``faults.py`` decides which fault hits which request; this module says what the client then
receives (``slow`` is no reply: the caller sleeps).
"""

from __future__ import annotations

import html
import http

from meetings_emulator.errors import EntraError, GraphError
from meetings_emulator.faults import ScriptedFault
from meetings_emulator.messages import Reply

#: Graph's code and message for each status a scripted fault may answer with.
_GRAPH_CODES = {
    401: ("InvalidAuthenticationToken", "Access token has expired or is not yet valid."),
    429: ("TooManyRequests", "Too many requests."),
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


def fault_reply(fault: ScriptedFault, graph: bool, ids: tuple[str, str] = ("", "")) -> Reply:
    """The answer a scripted fault stands for (``slow`` is handled by the caller).

    :param fault: the fault taken for this request.
    :param graph: a Graph error body (``True``) or an Entra ID one (``False``).
    :param ids: ``(request-id, client-request-id)`` for a Graph error body.
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
    code, message = _GRAPH_CODES.get(status, ("UnknownError", f"Scripted error {status}."))
    if graph:
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="", error="invalid_token"'
        return Reply(status, GraphError(status, code, message).body(*ids), headers)
    error = "temporarily_unavailable" if status >= 500 or status == 429 else "invalid_request"
    return Reply(status, EntraError(status, error, 50196 if status == 429 else 90033, message).body(), headers)
