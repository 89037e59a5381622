""":class:`EmulatorClient`: control an emulator running in another process over HTTPS."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

from meetings_emulator.handle import EmulatorHandle


class EmulatorError(RuntimeError):
    """The control endpoint refused a call.

    :param status: HTTP status.
    :param message: the endpoint's ``error`` text.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class EmulatorClient(EmulatorHandle):
    """Talks to ``/_emulator/...`` of a running emulator (stdlib only, no proxies).

    :param url: the emulator's base URL, e.g. ``https://127.0.0.1:8443``.
    :param ca_path: the emulator's CA PEM file.
    :param timeout: seconds per control call.
    """

    def __init__(self, url: str, ca_path: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.ca_path = ca_path
        self.timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_path)
        # No proxy: the emulator is local and environment proxies would only get in the way.
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self._context)
        )
        self._info: dict[str, Any] | None = None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_emulator{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                message = json.loads(error.read()).get("error", "")
            except ValueError:
                message = str(error)
            raise EmulatorError(error.code, message) from None

    def health(self) -> bool:
        """Whether the emulator answers."""
        try:
            return self._call("GET", "/health").get("status") == "ok"
        except OSError:
            return False

    def info(self) -> dict[str, Any]:
        # Identity never changes while the emulator runs: fetch it once.
        if self._info is None:
            self._info = self._call("GET", "/info")
        return self._info

    @property
    def users(self) -> list[dict[str, Any]]:
        """Seeded users with their current policy state (fetched on each access)."""
        return self._call("GET", "/info")["users"]

    def set_latency(self, ms: float) -> None:
        self._call("POST", "/latency", {"ms": ms})

    def set_rate_limit(self, per_second: float | None, retry_after: float | None | str = "keep") -> None:
        body: dict[str, Any] = {"per_second": per_second}
        if retry_after != "keep":
            body["retry_after"] = retry_after
        self._call("POST", "/rate-limit", body)

    def script(self, fault: Any, **options: Any) -> dict[str, Any]:
        return self._call("POST", "/faults", {"fault": fault, **options})["queued"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_random_faults(self, rate: float, faults: list[Any], **options: Any) -> dict[str, Any]:
        return self._call("POST", "/random-faults", {"rate": rate, "faults": faults, **options})["random_faults"]

    def pending_faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")["faults"]

    def set_batch_order(self, order: str) -> None:
        self._call("POST", "/batch-order", {"order": order})

    def issued_tokens(self) -> list[str]:
        return self._call("GET", "/tokens")["tokens"]

    def expire_tokens(self) -> int:
        return self._call("POST", "/tokens/expire", {})["expired"]

    def grant_policy(self, user: str) -> None:
        self._call("POST", f"/policies/{quote(user, safe='')}/grant", {})

    def revoke_policy(self, user: str) -> None:
        self._call("POST", f"/policies/{quote(user, safe='')}/revoke", {})

    def meetings(self) -> list[dict[str, Any]]:
        return self._call("GET", "/meetings")["meetings"]

    def events(self) -> list[dict[str, Any]]:
        return self._call("GET", "/events")["events"]

    def respond_to_event(self, event_id: str, address: str, response: str) -> list[dict[str, Any]]:
        """An attendee answers an event's invitation; returns the event's attendees."""
        body = {"event_id": event_id, "address": address, "response": response}
        return self._call("POST", "/events/respond", body)["attendees"]

    def set_mailbox_concurrency(self, limit: int | None, retry_after: float | None | str = "keep") -> None:
        body: dict[str, Any] = {"limit": limit}
        if retry_after != "keep":
            body["retry_after"] = retry_after
        self._call("POST", "/mailbox-concurrency", body)

    def set_online_meeting_providers(self, user: str, providers: list[str]) -> dict[str, Any]:
        path = f"/mailboxes/{quote(user, safe='')}/online-meeting-providers"
        return self._call("POST", path, {"providers": list(providers)})

    def _hold_meeting(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/meetings/hold", body)

    def end_meeting(self, meeting: str) -> list[dict[str, Any]]:
        return self._call("POST", "/meetings/end", {"meeting": meeting})["sessions"]

    def set_transcript_access(self, enabled: bool) -> None:
        self._call("POST", "/transcript-access", {"enabled": enabled})

    def set_speaker_attribution(self, enabled: bool) -> None:
        self._call("POST", "/speaker-attribution", {"enabled": enabled})

    def set_page_size(self, n: int) -> None:
        self._call("POST", "/attendance-page-size", {"n": n})

    def artifacts(self) -> list[dict[str, Any]]:
        return self._call("GET", "/artifacts")["sessions"]

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/stats")

    def reset(self, tokens: bool = False, users: bool = False) -> None:
        self._call("POST", "/reset", {"tokens": tokens, "users": users})

    def add_certificate(self, pem: str | bytes) -> dict[str, str]:
        return self._call("POST", "/certificates", {"pem": pem.decode() if isinstance(pem, bytes) else pem})

    def _add_federated_credential(self, body: dict[str, Any]) -> None:
        self._call("POST", "/federated-credentials", body)

    def set_app_roles(self, roles: list[str]) -> list[str]:
        return self._call("POST", "/app-roles", {"roles": list(roles)})["app_roles"]

    def set_public_client_flows(self, enabled: bool) -> None:
        self._call("POST", "/public-client-flows", {"enabled": enabled})

    def _add_user(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/users", body)

    def expire_refresh_tokens(self) -> int:
        return self._call("POST", "/refresh-tokens/expire", {})["expired"]

    def issued_refresh_tokens(self) -> list[str]:
        return self._call("GET", "/refresh-tokens")["refresh_tokens"]

    def device_codes(self) -> list[dict[str, Any]]:
        return self._call("GET", "/device-codes")["device_codes"]

    def approve_device_code(self, user: str, user_code: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/device-codes/approve", {"user": user, "user_code": user_code})

    def decline_device_code(self, user_code: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/device-codes/decline", {"user_code": user_code})


#: The name the artifact contract uses for the control client.
ControlClient = EmulatorClient
