"""One HTTP request to one reply: picks the group of routes by path and runs its handler.

``/_emulator/...`` is the control API, then the Entra ID endpoints, then Graph under
``/v1.0`` or ``/beta`` (with the configured latency); anything else is a 404. The route
table is ``routes.py``; ``server.py`` only moves bytes.
"""

from __future__ import annotations

import json
from typing import Any

from meetings_emulator.control import CONTROL_PREFIX
from meetings_emulator.graph import answer_graph
from meetings_emulator.messages import GRAPH_PATH_RE, GraphRequest, HttpRequest, Reply
from meetings_emulator.routes import CONTROL_ROUTES, ENTRA_ROUTES, resolve
from meetings_emulator.service import EmulatorService


def answer(service: EmulatorService, request: HttpRequest) -> Reply:
    """The reply to one request.

    :param service: the emulator.
    :param request: the request as it arrived.
    """
    path, method = request.path, request.method
    if path.startswith(CONTROL_PREFIX + "/"):
        return answer_control(service, method, path[len(CONTROL_PREFIX) :], request.body)
    _, handler, match = resolve(ENTRA_ROUTES, method, path)
    if handler is not None:
        return handler(service, request, match)
    match = GRAPH_PATH_RE.match(path)
    if match:
        graph_request = GraphRequest(
            method=method,
            path=match["path"],
            query=request.query,
            headers=request.headers,
            body=request.body,
            version=match["version"],
        )
        return answer_graph(service, graph_request, latency_s=max(service.latency_ms, 0.0) / 1000.0)
    return Reply(404, {"error": {"code": "NotFound", "message": f"No route for {method} {path}."}})


def answer_control(service: EmulatorService, method: str, path: str, raw_body: bytes) -> Reply:
    """Answer one control call; ``path`` is the part after ``/_emulator``."""
    try:
        body: Any = json.loads(raw_body) if raw_body.strip() else {}
    except ValueError:
        return Reply(400, {"error": "body is not JSON"})
    if not isinstance(body, dict):
        return Reply(400, {"error": "body must be a JSON object"})
    path = path.rstrip("/") or "/"
    _, handler, match = resolve(CONTROL_ROUTES, method, path)
    if handler is None:
        return Reply(404, {"error": f"no control route {method} {CONTROL_PREFIX}{path}"})
    try:
        return handler(service, body, match)
    except KeyError as error:
        return Reply(400, {"error": f"missing field {error.args[0]!r}"})
    except (TypeError, ValueError) as error:
        return Reply(400, {"error": str(error)})
