"""The control endpoint ``/_emulator/...``: JSON in, JSON out, no authentication.

It is for tests on the same machine; it is never slowed down or faulted.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from meetings_emulator.entra import handle_entra_control
from meetings_emulator.service import EmulatorService, Reply

CONTROL_PREFIX = "/_emulator"
_POLICY_RE = re.compile(r"^/policies/(?P<user>[^/]+)/(?P<action>grant|revoke)$")


def handle_control(service: EmulatorService, method: str, path: str, raw_body: bytes) -> Reply:
    """Answer one control call; ``path`` is the part after ``/_emulator``."""
    try:
        body: Any = json.loads(raw_body) if raw_body.strip() else {}
    except ValueError:
        return Reply(400, {"error": "body is not JSON"})
    if not isinstance(body, dict):
        return Reply(400, {"error": "body must be a JSON object"})
    try:
        return _dispatch(service, method, path.rstrip("/") or "/", body)
    except KeyError as error:
        return Reply(400, {"error": f"missing field {error.args[0]!r}"})
    except (TypeError, ValueError) as error:
        return Reply(400, {"error": str(error)})


def _dispatch(service: EmulatorService, method: str, path: str, body: dict[str, Any]) -> Reply:
    entra_reply = handle_entra_control(service.entra, method, path, body)
    if entra_reply is not None:
        return entra_reply
    if method == "GET":
        if path == "/health":
            return Reply(200, {"status": "ok"})
        if path == "/info":
            return Reply(200, service.info())
        if path == "/stats":
            return Reply(200, service.stats_json())
        if path == "/meetings":
            return Reply(200, {"meetings": service.list_meetings()})
        if path == "/faults":
            return Reply(200, {"faults": service.pending_faults()})
        if path == "/random-faults":
            return Reply(200, {"random_faults": service.random_faults()})
        if path == "/tokens":
            return Reply(200, {"tokens": service.issued_tokens()})
    elif method == "DELETE" and path == "/faults":
        service.clear_faults()
        return Reply(200, {"faults": []})
    elif method == "DELETE" and path == "/random-faults":
        service.clear_faults()
        return Reply(200, {"random_faults": None})
    elif method == "POST":
        if path == "/reset":
            service.reset(tokens=bool(body.get("tokens", False)), users=bool(body.get("users", False)))
            return Reply(200, {"reset": True})
        if path == "/latency":
            service.set_latency(float(body["ms"]))
            return Reply(200, {"latency_ms": service.latency_ms})
        if path == "/rate-limit":
            per_second = body.get("per_second")
            retry_after = body["retry_after"] if "retry_after" in body else "keep"
            service.set_rate_limit(None if per_second is None else float(per_second), retry_after)
            return Reply(200, {"rate_limit": per_second, "retry_after": service.rate_limit_retry_after})
        if path == "/faults":
            if "fault" not in body:
                raise ValueError("expected {'fault': ..., 'times'?, 'when'?, 'target'?, 'match'?}")
            options = {k: v for k, v in body.items() if k != "fault"}
            fault = service.script(body["fault"], **options)
            return Reply(200, {"queued": fault.to_json()})
        if path == "/random-faults":
            options = {k: body[k] for k in ("seed", "target", "match") if k in body}
            return Reply(200, {"random_faults": service.set_random_faults(body["rate"], body["faults"], **options)})
        if path == "/batch-order":
            service.set_batch_order(str(body["order"]))
            return Reply(200, {"order": service.batch_order})
        if path == "/tokens/expire":
            return Reply(200, {"expired": service.expire_tokens()})
        match = _POLICY_RE.match(path)
        if match:
            try:
                return Reply(200, service.set_policy(unquote(match["user"]), match["action"] == "grant"))
            except KeyError:
                return Reply(404, {"error": f"unknown user {match['user']!r}"})
        if path == "/certificates":
            return Reply(200, service.add_certificate(str(body["pem"])))
        if path == "/federated-credentials":
            service.add_federated_credential(body)
            return Reply(200, {"registered": True})
    return Reply(404, {"error": f"no control route {method} {CONTROL_PREFIX}{path}"})
