"""The control API ``/_emulator/...``: thin handlers over :class:`~meetings_emulator.service.EmulatorService`.

JSON in, JSON out, no authentication: it is for tests on the same machine, and it is never
slowed down or faulted. Each handler takes ``(service, body, match)``: the request's JSON
object and the path match of its route in ``routes.py`` (path after :data:`CONTROL_PREFIX`).
A ``KeyError`` a handler lets out is a missing field (400), a ``ValueError`` or
``TypeError`` a bad one (400); ``dispatch.py`` maps them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from meetings_emulator.messages import Reply
from meetings_emulator.service import KEEP, EmulatorService

CONTROL_PREFIX = "/_emulator"

Body = dict[str, Any]


# -- state and counters -------------------------------------------------------------------


def health(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /health``."""
    return Reply(200, {"status": "ok"})


def info(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /info``: URL, tenant, client, users."""
    return Reply(200, service.info())


def stats(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /stats``: counters and current settings."""
    return Reply(200, service.stats_json())


def meetings(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /meetings``: every stored meeting."""
    return Reply(200, {"meetings": service.list_meetings()})


def events(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /events``: every stored calendar event, cancelled and deleted ones too."""
    return Reply(200, {"events": service.list_events()})


def hold_meeting(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /meetings/hold`` ``{"meeting", "attendees", "start"?, "end"?, "ended"?, "transcript"?, "recording_size"?}``."""
    try:
        return Reply(200, service.hold_meeting(body))
    except KeyError as error:
        if not (error.args and str(error.args[0]).startswith("meeting ")):
            raise  # a missing field: 400
        return Reply(404, {"error": f"no stored {error.args[0]}"})


def end_meeting(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /meetings/end`` ``{"meeting"}``: end its sessions still in progress."""
    key = str(body["meeting"])
    try:
        return Reply(200, {"sessions": service.end_meeting(key)})
    except KeyError as error:
        return Reply(404, {"error": f"no stored {error.args[0]}"})


def artifacts(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /artifacts``: every held session."""
    return Reply(200, {"sessions": service.list_artifacts()})


def set_transcript_access(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /transcript-access`` ``{"enabled": true | false}``."""
    return Reply(200, service.set_transcript_settings(access=body["enabled"]))


def set_speaker_attribution(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /speaker-attribution`` ``{"enabled": true | false}``."""
    return Reply(200, service.set_transcript_settings(attribution=body["enabled"]))


def set_page_size(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /attendance-page-size`` ``{"n": 2}``."""
    return Reply(200, {"page_size": service.set_page_size(body["n"])})


def respond_to_event(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /events/respond`` ``{"event_id", "address", "response"}``: an attendee answers the
    invitation (``accepted``, ``tentativelyAccepted``, ``declined``...), as their Outlook would."""
    event_id, address, response = str(body["event_id"]), str(body["address"]), str(body["response"])
    try:
        return Reply(200, {"attendees": service.respond_to_event(event_id, address, response)})
    except KeyError as error:
        return Reply(404, {"error": str(error)})


def reset(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /reset`` with optional ``tokens`` and ``users`` flags."""
    service.reset(tokens=bool(body.get("tokens", False)), users=bool(body.get("users", False)))
    return Reply(200, {"reset": True})


# -- Graph behaviour ------------------------------------------------------------------------


def set_latency(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /latency`` ``{"ms": ...}``."""
    service.set_latency(float(body["ms"]))
    return Reply(200, {"latency_ms": service.latency_ms})


def set_rate_limit(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /rate-limit`` ``{"per_second": ..., "retry_after"?: ...}``."""
    per_second = body.get("per_second")
    retry_after = body.get("retry_after", KEEP)
    service.set_rate_limit(None if per_second is None else float(per_second), retry_after)
    return Reply(200, {"rate_limit": per_second, "retry_after": service.rate_limit_retry_after})


def set_mailbox_concurrency(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /mailbox-concurrency`` ``{"limit": 4 | null, "retry_after"?: seconds | null}``."""
    limit = body["limit"]
    service.set_mailbox_concurrency(limit, body.get("retry_after", KEEP))
    return Reply(200, {"limit": service.mailboxes.limit, "retry_after": service.mailboxes.retry_after})


def set_online_meeting_providers(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /mailboxes/{user}/online-meeting-providers`` ``{"providers": ["teamsForBusiness"] | []}``."""
    try:
        return Reply(200, service.set_online_meeting_providers(unquote(match["user"]), body["providers"]))
    except KeyError as error:
        if error.args and error.args[0] == "providers":
            raise
        return Reply(404, {"error": f"unknown user {match['user']!r}"})


def set_batch_order(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /batch-order`` ``{"order": "inorder" | "reverse" | "shuffle"}``."""
    service.set_batch_order(str(body["order"]))
    return Reply(200, {"order": service.batch_order})


def set_policy(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /policies/{user}/grant`` or ``.../revoke``: a user's application access policy."""
    try:
        return Reply(200, service.set_policy(unquote(match["user"]), match["action"] == "grant"))
    except KeyError:
        return Reply(404, {"error": f"unknown user {match['user']!r}"})


# -- faults ---------------------------------------------------------------------------------


def pending_faults(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /faults``: the queued scripted faults."""
    return Reply(200, {"faults": service.pending_faults()})


def script_fault(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /faults`` ``{"fault": ..., "times"?, "when"?, "target"?, "match"?}``."""
    if "fault" not in body:
        raise ValueError("expected {'fault': ..., 'times'?, 'when'?, 'target'?, 'match'?}")
    options = {k: v for k, v in body.items() if k != "fault"}
    fault = service.script(body["fault"], **options)
    return Reply(200, {"queued": fault.to_json()})


def clear_faults(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``DELETE /faults``: drop the queue and stop random faults."""
    service.clear_faults()
    return Reply(200, {"faults": []})


def random_faults(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /random-faults``: the random faults in force."""
    return Reply(200, {"random_faults": service.random_faults()})


def set_random_faults(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /random-faults`` ``{"rate": ..., "faults": [...], "seed"?, "target"?, "match"?}``."""
    options = {k: body[k] for k in ("seed", "target", "match") if k in body}
    return Reply(200, {"random_faults": service.set_random_faults(body["rate"], body["faults"], **options)})


def clear_random_faults(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``DELETE /random-faults``: stop random faults (and drop the queue)."""
    service.clear_faults()
    return Reply(200, {"random_faults": None})


# -- Entra ID -------------------------------------------------------------------------------


def issued_tokens(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /tokens``: every access token issued."""
    return Reply(200, {"tokens": service.issued_tokens()})


def expire_tokens(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /tokens/expire``."""
    return Reply(200, {"expired": service.expire_tokens()})


def add_certificate(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /certificates`` ``{"pem": ...}``."""
    return Reply(200, service.add_certificate(str(body["pem"])))


def add_federated_credential(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /federated-credentials`` ``{"issuer", "subject", "audience"?, "public_key_pem"?}``."""
    service.add_federated_credential(body)
    return Reply(200, {"registered": True})


def set_app_roles(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /app-roles`` ``{"roles": [...]}``."""
    return Reply(200, {"app_roles": service.set_app_roles(body["roles"])})


def set_public_client_flows(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /public-client-flows`` ``{"enabled": true | false}``."""
    return Reply(200, {"allow_public_client": service.set_public_client_flows(body["enabled"])})


def add_user(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /users`` ``{"id", "userPrincipalName", "displayName", "hasPolicy"?}``."""
    return Reply(200, service.add_user(body))


def issued_refresh_tokens(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /refresh-tokens``: refresh tokens handed out so far."""
    return Reply(200, {"refresh_tokens": service.issued_refresh_tokens()})


def expire_refresh_tokens(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /refresh-tokens/expire``."""
    return Reply(200, {"expired": service.expire_refresh_tokens()})


def device_codes(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``GET /device-codes``: the pending device codes."""
    return Reply(200, {"device_codes": service.device_codes()})


def decide_device_code(service: EmulatorService, body: Body, match: re.Match[str]) -> Reply:
    """``POST /device-codes/approve`` ``{"user", "user_code"?}`` or ``.../decline`` ``{"user_code"?}``."""
    try:
        decided = service.decide_device_code(
            match["decision"] == "approve", user=body.get("user"), user_code=body.get("user_code")
        )
    except KeyError as error:
        return Reply(404, {"error": f"no pending device code or user {error.args[0]!r}"})
    return Reply(200, decided)
