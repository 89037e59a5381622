"""Access tokens for Graph from Entra ID through MSAL, app-only or delegated.

One MSAL application per hook, so MSAL's token cache serves every call of the hook; its
HTTP goes through the hook's :class:`~airflow_provider_meetings.transport.Transport`.
Transient failures are retried by the one retry core
(:func:`~airflow_provider_meetings.retry.run_with_retries`), with one addition that only
token requests need: MSAL answers a repeated request from memory for a while after a
429/5xx or a ``Retry-After`` (msal/throttled_http_client.py), so a retry sooner than that
would only replay the same failure; the wait is at least that long.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msal
from msal.exceptions import MsalServiceError

from airflow_provider_meetings.connection_settings import ConnectionSettings
from airflow_provider_meetings.credentials import client_credential
from airflow_provider_meetings.exceptions import (
    AuthenticationError,
    MeetingsError,
    TransportError,
    authentication_error_from_msal,
)
from airflow_provider_meetings.retry import RetryPolicy, parse_retry_after, run_with_retries
from airflow_provider_meetings.transport import Exchange, Transport, recording_exchanges

#: A delegated token is renewed when fewer seconds than this are left (MSAL's own rule for
#: cached tokens: msal/application.py, ``acquire_token_silent``).
TOKEN_REFRESH_MARGIN = 300.0
#: MSAL's replay time when an answer asks for throttling without a usable integer
#: ``Retry-After`` (``RetryAfterParser``'s default, msal/throttled_http_client.py).
MSAL_DEFAULT_REPLAY = 5.0
MSAL_MAX_REPLAY = 3600.0
_REPLAY_MARGIN = 0.2


def msal_replay_seconds(exchange: Exchange) -> float:
    """How long MSAL replays this answer from memory instead of asking Entra again.

    Mirrors ``RetryAfterParser.parse`` in msal/throttled_http_client.py: a 429, a 5xx or any
    answer with ``Retry-After`` is replayed for ``int(Retry-After)`` seconds ("AAD's
    retry_after uses integer format only"), 5 s when absent or not an integer, 3600 s at
    most. (400 answers are replayed for 60 s too, but they are permanent here.)
    """
    if not (exchange.status == 429 or exchange.status >= 500 or exchange.retry_after is not None):
        return 0.0
    try:
        seconds = float(int(exchange.retry_after)) if exchange.retry_after is not None else MSAL_DEFAULT_REPLAY
    except ValueError:
        seconds = MSAL_DEFAULT_REPLAY
    return min(MSAL_MAX_REPLAY, seconds)


@dataclass
class _TokenCall:
    """The state of one token acquisition (all its attempts)."""

    clock: Callable[[], float]
    last: Exchange | None = None
    replay_until: float = 0.0

    def saw(self, exchanges: list[Exchange]) -> None:
        """Remember the attempt's answers (none when MSAL replayed from memory)."""
        if exchanges:
            self.last = exchanges[-1]
            self.replay_until = max(self.replay_until, self.last.at + msal_replay_seconds(self.last))

    def floor(self, error: BaseException) -> float:
        """The least useful wait before the next attempt: until MSAL stops replaying."""
        left = self.replay_until - self.clock()
        return left + _REPLAY_MARGIN if left > 0 else 0.0


@dataclass
class _UserToken:
    """A delegated access token and when (monotonic clock) it expires."""

    value: str = field(repr=False)
    expires_at: float

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - TOKEN_REFRESH_MARGIN


class TokenSource:
    """Gets (and caches) Graph access tokens for one connection; thread-safe.

    :param settings: the connection's settings
    :param transport: the HTTP transport MSAL uses
    :param mask: registers a secret with Airflow's masker (``mask_secret``)
    :param log: where retries are logged
    :param sleep: how to wait between attempts
    :param clock: monotonic clock
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        transport: Transport,
        *,
        mask: Callable[[str], None],
        log: Any,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.mask = mask
        self.log = log
        self.sleep = sleep
        self.clock = clock
        self._lock = threading.RLock()
        self._app: msal.ConfidentialClientApplication | None = None
        self._user_token: _UserToken | None = None
        self._refresh_token: str | None = settings.refresh_token

    # -- the MSAL application --------------------------------------------------------------

    @property
    def app(self) -> msal.ConfidentialClientApplication:
        """The MSAL application (built on first use; that fetches the OIDC metadata)."""
        with self._lock:
            if self._app is None:
                self._app = self._build_app()
            return self._app

    def _build_app(self) -> msal.ConfidentialClientApplication:
        settings = self.settings
        extra: dict[str, Any] = {}
        if settings.custom_authority:
            # Neither ask a public Microsoft host about this authority nor insist it is one.
            extra = {"instance_discovery": False, "validate_authority": False}
        credential = client_credential(settings, self.mask)
        with recording_exchanges() as exchanges:
            try:
                return msal.ConfidentialClientApplication(
                    settings.client_id,
                    client_credential=credential,
                    authority=settings.authority,
                    http_client=self.transport.msal_client,
                    **extra,
                )
            except ValueError as err:
                failure = _explain_discovery_error(err, exchanges)
        # Raised outside the except block: ours may be the context of MSAL's error, and
        # raising it inside would make a cycle of contexts.
        raise failure

    # -- tokens ------------------------------------------------------------------------------

    def get(self, policy: RetryPolicy | None = None) -> str:
        """A Graph access token; cached ones are reused, transient failures retried.

        :param policy: the retry bound of this call (default: the connection's)
        :raises AuthenticationError: when Entra ID refuses (permanent) or cannot answer
        :raises RetriesExhaustedError: when a transient failure outlasts the bound
        """
        with self._lock:
            if not self.settings.delegated:
                scopes = [self.settings.scope]
                return self._acquire(lambda app: app.acquire_token_for_client(scopes=scopes), policy)["access_token"]
            now = self.clock()
            if self._user_token is not None and self._user_token.fresh(now):
                return self._user_token.value
            refresh_token, scopes = self._refresh_token or "", [self.settings.scope]
            result = self._acquire(lambda app: app.acquire_token_by_refresh_token(refresh_token, scopes=scopes), policy)
            rotated = result.get("refresh_token")
            if rotated and rotated != refresh_token:
                self.mask(rotated)
                self._refresh_token = rotated
            self._user_token = _UserToken(result["access_token"], now + float(result.get("expires_in", 0)))
            return self._user_token.value

    def invalidate(self) -> None:
        """Forget cached access tokens, so that the next :meth:`get` asks Entra ID again."""
        with self._lock:
            self._user_token = None
            if self._app is not None:
                self._app.remove_tokens_for_client()

    def _acquire(
        self, acquire: Callable[[msal.ConfidentialClientApplication], dict[str, Any] | None], policy: RetryPolicy | None
    ) -> dict[str, Any]:
        call = _TokenCall(self.clock)

        def attempt() -> dict[str, Any]:
            with recording_exchanges() as exchanges:
                try:
                    result = acquire(self.app) or {}
                except MsalServiceError as err:  # a 5xx: MSAL raises instead of returning a dict
                    call.saw(exchanges)
                    raise self._service_error(err, call.last) from None
                except json.JSONDecodeError:
                    call.saw(exchanges)
                    raise _not_json(exchanges) or AuthenticationError("invalid_response", "") from None
            call.saw(exchanges)
            if "access_token" in result:
                self.mask(result["access_token"])
                return result
            last = call.last
            raise authentication_error_from_msal(
                result,
                status=last.status if last else None,
                retry_after=parse_retry_after(last.retry_after) if last else None,
            )

        return run_with_retries(
            attempt,
            policy=policy or self.settings.retry,
            what="token request",
            log=self.log,
            sleep=self.sleep,
            retry_on=(AuthenticationError, TransportError),
            floor=call.floor,
        )

    @staticmethod
    def _service_error(error: MsalServiceError, last: Exchange | None) -> MeetingsError:
        status = last.status if last else None
        return AuthenticationError(
            "service_error",
            f"the token endpoint answered HTTP {status}" if status else str(error),
            permanent=False,
            status=status,
            retry_after=parse_retry_after(last.retry_after) if last else None,
        )


def _explain_discovery_error(error: ValueError, exchanges: list[Exchange]) -> MeetingsError:
    """The error to raise when MSAL could not read the authority's OIDC metadata."""
    # MSAL turns every ValueError of discovery into its own (msal/authority.py), ours
    # included (an untrusted certificate is a ConnectionConfigError).
    ours = _our_error(error)
    if ours is not None:
        return ours
    not_json = _not_json(exchanges)
    if not_json is not None:
        return not_json
    # MSAL's text names the authority URL and the HTTP status, never a credential.
    return AuthenticationError("invalid_authority", f"{error} Check the extras tenant_id and authority_host.")


def _our_error(error: BaseException) -> MeetingsError | None:
    """The provider's own error that ``error`` was raised while handling, if any."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, MeetingsError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _not_json(exchanges: list[Exchange]) -> AuthenticationError | None:
    """The error for an answer MSAL could not read as JSON (a proxy's or portal's page)."""
    last = exchanges[-1] if exchanges else None
    if last is None or last.content_type.endswith("json"):
        return None
    return AuthenticationError(
        "invalid_response",
        f"{last.url} answered HTTP {last.status} with {last.content_type or 'no content type'}, not JSON: "
        "a proxy, firewall or captive portal answered instead of Entra ID. Check the extras proxies "
        "and authority_host, and that this machine reaches the login host directly",
        status=last.status,
    )
