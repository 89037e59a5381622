"""Access tokens for Graph from Entra ID through MSAL: app-only, delegated, or a device code sign-in.

One MSAL application per hook, so MSAL's token cache serves every call of the hook; its
HTTP goes through the hook's :class:`~airflow_provider_meetings.graph.transport.Transport`.
The connection's credential (:mod:`~airflow_provider_meetings.auth.credentials`) says which
MSAL application to build, with which ``client_credential``, and which flow gets tokens.
Transient failures are retried by the one retry core
(:func:`~airflow_provider_meetings.graph.retry.run_with_retries`), with one addition that only
token requests need: MSAL answers a repeated request from memory for a while after a
429/5xx or a ``Retry-After`` (msal/throttled_http_client.py), so a retry sooner than that
would only replay the same failure; the wait is at least that long.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msal
import requests
from msal.exceptions import MsalServiceError

from airflow_provider_meetings.auth.credentials import DeviceCode, Grant
from airflow_provider_meetings.auth.token_cache import find_login, open_token_cache, remember_login
from airflow_provider_meetings.graph.errors import (
    AuthenticationError,
    ProviderError,
    TransportError,
    authentication_error_from_msal,
)
from airflow_provider_meetings.graph.retry import RetryPolicy, parse_retry_after
from airflow_provider_meetings.graph.retry_loop import run_with_retries
from airflow_provider_meetings.graph.settings import ConnectionSettings
from airflow_provider_meetings.graph.transport import Exchange, Transport, recording_exchanges

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


class TokenSource:
    """Gets (and caches) Graph access tokens for one connection; thread-safe.

    Tokens live in MSAL's token cache (:mod:`~airflow_provider_meetings.auth.token_cache`): in
    memory, or in the connection's ``token_cache_path`` file shared by the tasks of one
    machine. App-only tokens come from ``acquire_token_for_client``, which serves from the
    cache by itself. Delegated tokens come from the cache too (``acquire_token_silent``: the
    cached access token, else the newest rotated refresh token of the account); only when
    the cache knows nothing of the connection's refresh token is that one redeemed.

    :param settings: the connection's settings
    :param transport: the HTTP transport MSAL uses (default: one of its own, with the
        connection's TLS, proxy and timeout settings, closed by :meth:`close`)
    :param mask: registers a secret with Airflow's masker (``mask_secret``)
    :param log: where retries and cache problems are logged
    :param sleep: how to wait between attempts
    :param clock: monotonic clock
    :param conn_id: the connection's id, named in advice (``login --conn-id``)
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        transport: Transport | None = None,
        *,
        mask: Callable[[str], None],
        log: Any,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        conn_id: str | None = None,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._owns_transport = transport is None
        self.mask = mask
        self.log = log
        self.sleep = sleep
        self.clock = clock
        self.conn_id = conn_id
        self._lock = threading.RLock()
        self._app: msal.ClientApplication | None = None
        self._cache: msal.SerializableTokenCache | None = None
        self._force_refresh = False
        self._warned_expiry = False

    @classmethod
    def for_device_code(
        cls, settings: ConnectionSettings, *, mask: Callable[[str], None], log: Any, transport: Transport | None = None
    ) -> TokenSource:
        """A token source that signs a user in with the device code flow (the ``login`` command).

        Whatever credential the connection has, the sign-in is a public client's
        (:class:`~airflow_provider_meetings.auth.credentials.DeviceCode`): only MSAL's
        ``PublicClientApplication`` has the device flow. Its tokens stay in memory: the
        connection's ``token_cache_path`` is the tasks' file, and ``login`` may run as
        another operating system user, who would then own it.

        :param settings: the connection's settings (client id, tenant, cloud, network)
        :param mask: registers the tokens obtained with a masker
        :param log: where problems are logged
        :param transport: the HTTP transport (default: one of its own)
        """
        settings = dataclasses.replace(settings, credential=DeviceCode(), token_cache_path=None)
        return cls(settings, transport, mask=mask, log=log)

    # -- the transport and the MSAL application ----------------------------------------------

    @property
    def transport(self) -> Transport:
        """The HTTP transport MSAL uses (this source's own unless one was given)."""
        with self._lock:
            if self._transport is None:
                settings = self.settings
                self._transport = Transport(verify=settings.verify, proxies=settings.proxies, timeout=settings.timeout)
            return self._transport

    def close(self) -> None:
        """Close the transport, when it is this source's own."""
        with self._lock:
            if self._owns_transport and self._transport is not None:
                self._transport.close()
                self._transport = None

    def __enter__(self) -> TokenSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def app(self) -> msal.ClientApplication:
        """The MSAL application (built on first use; that fetches the OIDC metadata).

        A ``PublicClientApplication`` for a credential without a client credential (a
        refresh token minted by a public client, a device code sign-in), otherwise a
        ``ConfidentialClientApplication``.
        """
        with self._lock:
            if self._app is None:
                self._app = self._build_app()
            return self._app

    @property
    def cache(self) -> msal.SerializableTokenCache:
        """MSAL's token cache of this hook (the shared file, or memory)."""
        with self._lock:
            if self._cache is None:
                self._cache = open_token_cache(self.settings.token_cache_path, self.log)
            return self._cache

    def _build_app(self) -> msal.ClientApplication:
        settings = self.settings
        extra: dict[str, Any] = {}
        if settings.custom_authority:
            # Neither ask a public Microsoft host about this authority nor insist it is one.
            extra = {"instance_discovery": False, "validate_authority": False}
        client_credential = settings.credential.client_credential(self.mask)
        cache = self.cache
        with recording_exchanges() as exchanges:
            try:
                if client_credential is None:
                    return msal.PublicClientApplication(
                        settings.client_id,
                        authority=settings.authority,
                        http_client=self.transport.msal_client,
                        token_cache=cache,
                        **extra,
                    )
                return msal.ConfidentialClientApplication(
                    settings.client_id,
                    client_credential=client_credential,
                    authority=settings.authority,
                    http_client=self.transport.msal_client,
                    token_cache=cache,
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
            scopes = [self.settings.scope]
            grant = self.settings.credential.grant
            if grant is Grant.CLIENT_CREDENTIALS:
                return self._acquire(lambda app: app.acquire_token_for_client(scopes=scopes), policy)["access_token"]
            if grant is Grant.DEVICE_CODE:
                raise AuthenticationError(
                    "interaction_required", "a device code sign-in gets its tokens from finish_device_flow"
                )
            try:
                return self._delegated(scopes, policy)
            except AuthenticationError as err:
                hint = delegated_hint(err, settings=self.settings, conn_id=self.conn_id)
                if hint is None:
                    raise
                failure = err.with_hint(hint)
            raise failure from None

    def _delegated(self, scopes: list[str], policy: RetryPolicy | None) -> str:
        """A delegated token: from the cache (access token or newest refresh token), else the connection's."""
        try:
            result = self._acquire(lambda app: self._silent(app, scopes), policy, nothing_cached=True)
        except AuthenticationError as err:
            if not err.permanent:
                raise
            # The cached lineage was refused (expired, revoked): the connection's own token
            # decides (a re-minted one has a new fingerprint and is redeemed directly anyway).
            self.log.warning(
                "The cached refresh token of this connection was refused (%s); redeeming the connection's",
                err.aadsts_code or err.error,
            )
            result = None
        self._force_refresh = False
        if result is not None:
            return result["access_token"]
        if self.settings.token_cache_path is None and not self._warned_expiry:
            self._warned_expiry = True
            self.log.warning(
                "Delegated mode without token_cache_path: every task redeems the connection's refresh token, "
                "which Entra ID ends 90 days after it was minted (sooner by tenant policy). Set token_cache_path "
                "so that tasks go on with the newest rotated token, or re-mint it in time with %s",
                login_command(self.conn_id),
            )
        refresh_token = self.settings.refresh_token or ""
        result = self._acquire(lambda app: app.acquire_token_by_refresh_token(refresh_token, scopes=scopes), policy)
        if result.get("refresh_token"):
            self.mask(result["refresh_token"])  # kept by MSAL's cache, never by us
        home_account_id = _signed_in_account(self.app, result.get("id_token_claims") or {})
        if home_account_id is not None:
            remember_login(self.cache, self.settings.client_id, refresh_token, home_account_id)
        return result["access_token"]

    def _silent(self, app: msal.ClientApplication, scopes: list[str]) -> dict[str, Any] | None:
        """MSAL's cached token for the account the connection's refresh token signed in, if any.

        MSAL answers with the cached access token (renewed when under 5 minutes are left),
        or redeems the newest refresh token it holds for that account: each redemption
        stores the rotated one (msal/application.py, ``acquire_token_silent_with_error``).
        """
        home_account_id = find_login(self.cache, self.settings.client_id, self.settings.refresh_token or "")
        if home_account_id is None:
            return None
        account = next((a for a in app.get_accounts() if a.get("home_account_id") == home_account_id), None)
        if account is None:
            return None
        return app.acquire_token_silent_with_error(scopes, account, force_refresh=self._force_refresh)

    def invalidate(self) -> None:
        """Forget cached access tokens, so that the next :meth:`get` asks Entra ID again."""
        with self._lock:
            if self.settings.delegated:
                self._force_refresh = True
            elif self._app is not None:
                # What remove_tokens_for_client() does, without its authority aliases: those come
                # from Entra's instance discovery, a request outside the retry core that can raise
                # MSAL's own errors after a Graph 401 (msal/application.py). Every environment's
                # app-only tokens of this client go.
                cache = self._app.token_cache
                query = {"client_id": self.settings.client_id, "home_account_id": None}
                for token in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query=query)):
                    cache.remove_at(token)

    def _acquire(
        self,
        acquire: Callable[[Any], dict[str, Any] | None],
        policy: RetryPolicy | None,
        *,
        nothing_cached: bool = False,
    ) -> Any:
        """Run one MSAL acquisition with the retry core.

        :param nothing_cached: ``None`` from MSAL means "nothing in the cache" (silent
            acquisition) and is returned as it is
        """
        call = _TokenCall(self.clock)

        def attempt() -> dict[str, Any] | None:
            with _msal_errors(call):
                result = acquire(self.app)
            if result is None and nothing_cached:
                return None
            result = result or {}
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

    # -- a user's sign-in with a device code ---------------------------------------------------

    def start_device_flow(self, scopes: Sequence[str]) -> dict[str, Any]:
        """Ask Entra ID for a device code (MSAL's ``initiate_device_flow``).

        https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code

        :param scopes: the delegated permissions to ask for (MSAL adds ``offline_access``)
        :return: MSAL's flow: ``user_code``, ``verification_uri``, ``message``, ``expires_at``;
            or Entra's ``error`` and ``error_description`` when it did not start one
        :raises AuthenticationError: when the token source is not a device code sign-in's
            (:meth:`for_device_code`), or Entra ID cannot answer
        """
        self._require_device_code()
        with _msal_errors(_TokenCall(self.clock)):
            return self.app.initiate_device_flow(scopes=list(scopes))

    def finish_device_flow(self, flow: Mapping[str, Any]) -> dict[str, Any]:
        """Wait until the user signed in, or the flow ends (MSAL's ``acquire_token_by_device_flow``).

        Polls Entra ID at the interval it asked for, until ``flow["expires_at"]`` (the caller
        may bring that forward to wait less). The tokens obtained are masked.

        :param flow: what :meth:`start_device_flow` returned
        :return: MSAL's result: the tokens (``refresh_token``, ``id_token_claims``), or
            Entra's ``error`` (``authorization_declined``, ``expired_token``, ...)
        :raises AuthenticationError: when Entra ID cannot answer
        """
        self._require_device_code()
        with _msal_errors(_TokenCall(self.clock)):
            result = self.app.acquire_token_by_device_flow(dict(flow))
        for token in (result.get("access_token"), result.get("refresh_token")):
            if token:
                self.mask(token)
        return result

    def _require_device_code(self) -> None:
        if self.settings.credential.grant is not Grant.DEVICE_CODE:
            raise AuthenticationError(
                "unsupported_grant", "the device code flow needs a token source from TokenSource.for_device_code"
            )


def _service_error(error: Exception, last: Exchange | None) -> ProviderError:
    """A failure of the token endpoint (5xx) that a later attempt may survive."""
    status = last.status if last else None
    return AuthenticationError(
        "service_error",
        f"the token endpoint answered HTTP {status}" if status else str(error),
        permanent=False,
        status=status,
        retry_after=parse_retry_after(last.retry_after) if last else None,
    )


@contextlib.contextmanager
def _msal_errors(call: _TokenCall) -> Iterator[None]:
    """Record the answers of one MSAL call for ``call`` and turn MSAL's failures into ours.

    A 5xx: MSAL raises instead of returning a dict: its own ``MsalServiceError`` from 1.34
    on (``NormalizedResponse.raise_for_status``, msal/throttled_http_client.py); 1.31 called
    requests' ``raise_for_status`` (``requests.HTTPError``), which a bulk call must see as a
    transient failure too, not as an unknown exception. An answer that is not JSON (a
    proxy's page) fails inside MSAL as ``json.JSONDecodeError``.
    """
    with recording_exchanges() as exchanges:
        try:
            yield
        except (MsalServiceError, requests.HTTPError) as err:
            call.saw(exchanges)
            raise _service_error(err, call.last) from None
        except json.JSONDecodeError:
            call.saw(exchanges)
            raise _not_json(exchanges) or AuthenticationError("invalid_response", "") from None
        call.saw(exchanges)


def _signed_in_account(app: msal.ClientApplication, claims: dict[str, Any]) -> str | None:
    """The ``home_account_id`` MSAL's cache gave the user of these ID token claims."""
    user = claims.get("oid") or claims.get("sub")
    if not user:
        return None
    for account in app.get_accounts():
        if account.get("local_account_id") == user and account.get("realm") in (None, claims.get("tid")):
            return account.get("home_account_id")
    return None


#: What Entra's refusal of a refresh token says became of it, when only a new one cures it
#: (https://learn.microsoft.com/entra/identity-platform/reference-error-codes): AADSTS700082
#: expired; AADSTS9002313 malformed or unknown; AADSTS50173, AADSTS70043, AADSTS70008 revoked
#: or ended by policy. The task's error (:func:`delegated_hint`) and the connection check
#: (``diagnostics/advice.py``) both read it.
REFRESH_TOKEN_ENDED: dict[str, str] = {
    "AADSTS700082": "expired",
    "AADSTS9002313": "is no longer valid",
    "AADSTS50173": "is no longer valid",
    "AADSTS70043": "is no longer valid",
    "AADSTS70008": "is no longer valid",
}
#: A request without a client credential to an app that takes none: a confidential client's
#: refresh token redeemed without its credential, or a device code sign-in while the app
#: registration's "Allow public client flows" is off.
NO_PUBLIC_CLIENT = "AADSTS7000218"
#: That setting, as advice names it.
PUBLIC_CLIENT_FLOWS = "'Allow public client flows' in the app registration (Authentication, Advanced settings)"


def login_command(conn_id: str | None) -> str:
    """The command that mints a connection's refresh token (``cli/login.py``), quoted for advice."""
    return f"'airflow-provider-meetings login --conn-id {conn_id or '<conn id>'}'"


def refresh_token_ended(error: AuthenticationError) -> str | None:
    """What became of the refresh token Entra refused (``expired``, ``is no longer valid``), when
    only a new one cures the refusal; ``None`` for any other refusal."""
    code = error.aadsts_code
    if code in REFRESH_TOKEN_ENDED:
        return REFRESH_TOKEN_ENDED[code]
    if error.error == "invalid_grant" and code is None:
        return REFRESH_TOKEN_ENDED["AADSTS9002313"]
    return None


def remint_advice(settings: ConnectionSettings, conn_id: str | None) -> str:
    """What to do about a refresh token that ended: mint a new one (and keep its successors)."""
    return f"mint a new one with {login_command(conn_id)} and put it into the connection's refresh_token extra" + (
        "" if settings.token_cache_path else "; set token_cache_path so that tasks keep its newest rotated successor"
    )


def delegated_hint(error: AuthenticationError, *, settings: ConnectionSettings, conn_id: str | None) -> str | None:
    """What to do about Entra's refusal of a refresh token, or ``None`` when there is no advice.

    The codes are Entra's (https://learn.microsoft.com/entra/identity-platform/reference-error-codes):
    AADSTS700025 a public client's token presented with a credential, AADSTS7000218
    (:data:`NO_PUBLIC_CLIENT`) a confidential client's without one, and those of
    :data:`REFRESH_TOKEN_ENDED`.
    """
    login = login_command(conn_id)
    code = error.aadsts_code
    if code == "AADSTS700025":
        return (
            "The refresh_token was minted by a public client (device code, e.g. by "
            f"{login}), so it must be redeemed without a client credential: remove the client secret "
            "(password), certificate_path and federated_token_file from the connection, or mint the "
            "token with this confidential app instead"
        )
    if code == NO_PUBLIC_CLIENT and settings.public_client:
        return (
            "The refresh_token belongs to a confidential client, which must present its credential: set "
            "the app's client secret as the connection's password (or certificate_path or "
            f"federated_token_file), or turn on {PUBLIC_CLIENT_FLOWS} and mint a public client's token "
            f"with {login}"
        )
    ended = refresh_token_ended(error)
    if ended is not None:
        return (
            f"The connection's refresh token {ended} (Entra ID ends refresh tokens 90 days after they "
            "are issued by default, sooner by tenant policy or when the user's password changes): "
            + remint_advice(settings, conn_id)
        )
    return None


def _explain_discovery_error(error: ValueError, exchanges: list[Exchange]) -> ProviderError:
    """The error to raise when MSAL could not read the authority's OIDC metadata."""
    # MSAL turns every ValueError of discovery into its own (msal/authority.py), ours
    # included (an untrusted certificate is a ConnectionConfigError).
    ours = _our_error(error)
    if ours is not None:
        return ours
    last = exchanges[-1] if exchanges else None
    if last is not None and last.status in (408, 429):  # whatever its body: MSAL reads none of a 4xx
        # MSAL reads any 4xx of discovery as a bad authority; a throttled or timed-out one is
        # worth asking again (every task process discovers the authority once).
        return AuthenticationError(
            "temporarily_unavailable",
            f"Entra ID answered {last.status} to the authority's metadata request ({error})",
            permanent=False,
            status=last.status,
            retry_after=parse_retry_after(last.retry_after),
        )
    not_json = _not_json(exchanges)
    if not_json is not None:
        return not_json
    # MSAL's text names the authority URL and the HTTP status, never a credential.
    return AuthenticationError("invalid_authority", f"{error} Check the extras tenant_id and authority_host.")


def _our_error(error: BaseException) -> ProviderError | None:
    """The provider's own error that ``error`` was raised while handling, if any."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ProviderError):
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
