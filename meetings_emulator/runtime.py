"""Running the emulator in this process: :class:`RunningEmulator` and :func:`run_emulator`."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from meetings_emulator.config import EmulatorConfig
from meetings_emulator.handle import EmulatorHandle

log = logging.getLogger("meetings_emulator")

_WILDCARDS = ("0.0.0.0", "::", "")


def _url_host(host: str) -> str:
    if host in _WILDCARDS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


class RunningEmulator(EmulatorHandle):
    """An emulator serving from a daemon thread of this process.

    :param config: what to serve.
    """

    def __init__(self, config: EmulatorConfig) -> None:
        from meetings_emulator.certs import make_server_tls
        from meetings_emulator.server import EmulatorHTTPServer
        from meetings_emulator.service import EmulatorService

        self.config = config
        extra_names = () if config.host in (*_WILDCARDS, "127.0.0.1", "localhost", "::1") else (config.host,)
        self.tls = make_server_tls(config.ca_file, extra_names)
        self.ca_path = self.tls.ca_path
        self.service = EmulatorService(config)
        self._server = EmulatorHTTPServer((config.host, config.port), self.service, self.tls.context)
        self.port: int = self._server.server_address[1]
        self.host = config.host
        self.url = f"https://{_url_host(config.host)}:{self.port}"
        self.service.base_url = self.url
        self._thread: threading.Thread | None = None

    @property
    def is_loopback(self) -> bool:
        """Whether the emulator listens on a loopback address only."""
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")

    def start(self) -> RunningEmulator:
        """Start serving in a daemon thread."""
        from meetings_emulator.server import serve_in_thread

        self._thread = serve_in_thread(self._server)
        log.info(
            "meetings emulator listening on %s (%s)",
            self.url,
            "loopback only" if self.is_loopback else f"bound to {self.host}: reachable from the network",
        )
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> RunningEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- EmulatorHandle --------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        data = self.service.info()
        data["ca_path"] = self.ca_path
        return data

    def set_latency(self, ms: float) -> None:
        self.service.set_latency(ms)

    def set_rate_limit(self, per_second: float | None, retry_after: float | None | str = "keep") -> None:
        self.service.set_rate_limit(per_second, retry_after)

    def script(self, fault: Any, **options: Any) -> dict[str, Any]:
        return self.service.script(fault, **options).to_json()

    def clear_faults(self) -> None:
        self.service.clear_faults()

    def set_random_faults(self, rate: float, faults: list[Any], **options: Any) -> dict[str, Any]:
        return self.service.set_random_faults(rate, faults, **options)

    def pending_faults(self) -> list[dict[str, Any]]:
        return self.service.pending_faults()

    def set_batch_order(self, order: str) -> None:
        self.service.set_batch_order(order)

    def issued_tokens(self) -> list[str]:
        return self.service.issued_tokens()

    def expire_tokens(self) -> int:
        return self.service.expire_tokens()

    def grant_policy(self, user: str) -> None:
        self.service.set_policy(user, True)

    def revoke_policy(self, user: str) -> None:
        self.service.set_policy(user, False)

    def meetings(self) -> list[dict[str, Any]]:
        return self.service.list_meetings()

    def events(self) -> list[dict[str, Any]]:
        return self.service.list_events()

    def set_mailbox_concurrency(self, limit: int | None, retry_after: float | None | str = "keep") -> None:
        self.service.set_mailbox_concurrency(limit, retry_after)

    def respond_to_event(self, event_id: str, address: str, response: str) -> list[dict[str, Any]]:
        return self.service.respond_to_event(event_id, address, response)

    def set_online_meeting_providers(self, user: str, providers: list[str]) -> dict[str, Any]:
        return self.service.set_online_meeting_providers(user, providers)

    def _hold_meeting(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.service.hold_meeting(body)

    def end_meeting(self, meeting: str) -> list[dict[str, Any]]:
        return self.service.end_meeting(meeting)

    def set_transcript_access(self, enabled: bool) -> None:
        self.service.set_transcript_settings(access=enabled)

    def set_speaker_attribution(self, enabled: bool) -> None:
        self.service.set_transcript_settings(attribution=enabled)

    def set_page_size(self, n: int) -> None:
        self.service.set_page_size(n)

    def artifacts(self) -> list[dict[str, Any]]:
        return self.service.list_artifacts()

    def stats(self) -> dict[str, Any]:
        return self.service.stats_json()

    def reset(self, tokens: bool = False, users: bool = False) -> None:
        self.service.reset(tokens=tokens, users=users)

    def add_certificate(self, pem: str | bytes) -> dict[str, str]:
        return self.service.add_certificate(pem.decode() if isinstance(pem, bytes) else pem)

    def _add_federated_credential(self, body: dict[str, Any]) -> None:
        self.service.add_federated_credential(body)

    def set_app_roles(self, roles: list[str]) -> list[str]:
        return self.service.set_app_roles(list(roles))

    def set_public_client_flows(self, enabled: bool) -> None:
        self.service.set_public_client_flows(enabled)

    def _add_user(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.service.add_user(body)

    def expire_refresh_tokens(self) -> int:
        return self.service.expire_refresh_tokens()

    def issued_refresh_tokens(self) -> list[str]:
        return self.service.issued_refresh_tokens()

    def device_codes(self) -> list[dict[str, Any]]:
        return self.service.device_codes()

    def approve_device_code(self, user: str, user_code: str | None = None) -> dict[str, Any]:
        return self.service.decide_device_code(True, user=user, user_code=user_code)

    def decline_device_code(self, user_code: str | None = None) -> dict[str, Any]:
        return self.service.decide_device_code(False, user_code=user_code)


@contextlib.contextmanager
def run_emulator(config: EmulatorConfig | None = None, **options: Any) -> Iterator[RunningEmulator]:
    """Serve the emulator from a daemon thread for the duration of a ``with`` block.

    :param config: a full configuration; or pass :class:`EmulatorConfig` fields as keywords
        (``port``, ``latency_ms``, ``rate_limit``, ``token_lifetime``, ``state_file``, ...).
    """
    if config is None:
        config = EmulatorConfig.from_kwargs(**options)
    elif options:
        raise TypeError("pass either config or keyword options, not both")
    emulator = RunningEmulator(config)
    with emulator:
        yield emulator
