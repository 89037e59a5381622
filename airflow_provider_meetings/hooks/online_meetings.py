"""Hook for Microsoft Teams online meetings through Microsoft Graph ``onlineMeetings/createOrGet``.

Importing this module is cheap on purpose: msal, requests and cryptography are imported
inside the methods that use them, because Airflow imports operator modules every time it
parses a DAG file.
"""

from __future__ import annotations

import functools
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_meetings import __version__
from airflow_provider_meetings.connection_settings import CLOUDS, ConnectionSettings, parse_connection
from airflow_provider_meetings.exceptions import (
    RETRYABLE_STATUSES,
    AuthenticationError,
    ConnectionConfigError,
    GraphAPIError,
    InvalidMeetingRequestError,
    RetriesExhaustedError,
    authentication_error_from_msal,
    describe_error,
    graph_error_from_response,
)
from airflow_provider_meetings.meeting_request import MeetingSpec, PreparedRequest, prepare_request
from airflow_provider_meetings.retry import RetryPolicy, parse_retry_after

if TYPE_CHECKING:
    import msal
    import requests

    from airflow_provider_meetings.batching import BulkItemResult, BulkProgress

#: Meeting fields kept per bulk result by default; equal to
#: ``batching.DEFAULT_MEETING_FIELDS`` (not imported here: it loads only when used).
BULK_MEETING_FIELDS: tuple[str, ...] = ("id", "joinWebUrl")
USER_AGENT = f"airflow-provider-meetings/{__version__}"
#: Delegated tokens are renewed when fewer seconds than this are left (MSAL's own rule).
TOKEN_REFRESH_MARGIN = 300.0
#: MSAL answers a repeated token request from memory for this long after a 429/5xx
#: without ``Retry-After``; retrying sooner only replays the same failure.
MSAL_REPLAY_SECONDS = 5.0
_REPLAY_MARGIN = 0.2

_PEM_KEY_RE = re.compile(rb"-----BEGIN ((?:ENCRYPTED |RSA |EC )?PRIVATE KEY)-----.+?-----END \1-----", re.DOTALL)
_PEM_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class MeetingResult:
    """The outcome of one createOrGet call.

    :param meeting: Graph's ``onlineMeeting`` JSON, as returned
    :param created: ``True`` when Graph created the meeting (201), ``False`` when it
        returned an existing one (200)
    """

    meeting: dict[str, Any]
    created: bool

    @property
    def meeting_id(self) -> str | None:
        """Graph's meeting id."""
        return self.meeting.get("id")

    @property
    def join_url(self) -> str | None:
        """The ``joinWebUrl`` attendees open."""
        return self.meeting.get("joinWebUrl")


@dataclass
class _UserToken:
    """A delegated access token and when (monotonic clock) it expires."""

    value: str = field(repr=False)
    expires_at: float

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - TOKEN_REFRESH_MARGIN


@functools.cache
def _pinned_session_class() -> type[requests.Session]:
    """A ``requests.Session`` whose TLS, proxy and timeout settings win on every request.

    MSAL ignores its own ``verify``/``proxies``/``timeout`` once given an ``http_client``,
    and requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` replace a session-level
    ``verify``. Passing the values per request fixes both: an explicit path or ``False``
    from the connection is what both MSAL and Graph calls use.
    """
    import warnings

    import requests
    from urllib3.exceptions import InsecureRequestWarning

    class PinnedSession(requests.Session):
        def __init__(self, *, verify: bool | str, proxies: Mapping[str, str] | None, timeout: float) -> None:
            super().__init__()
            self.pinned_verify = verify
            self.pinned_proxies = dict(proxies or {})
            self.pinned_timeout = timeout
            self.headers["User-Agent"] = USER_AGENT
            #: status and ``Retry-After`` of the last error answer, for the token retry loop
            self.last_error_status: int | None = None
            self.last_retry_after: float | None = None

        def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
            kwargs["verify"] = self.pinned_verify
            kwargs["proxies"] = {**(kwargs.get("proxies") or {}), **self.pinned_proxies}
            kwargs["timeout"] = self.pinned_timeout
            if self.pinned_verify is False:
                # The hook warned once; urllib3 would warn on every request.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", InsecureRequestWarning)
                    response = super().request(method, url, *args, **kwargs)
            else:
                response = super().request(method, url, *args, **kwargs)
            if response.status_code == 429 or response.status_code >= 500:
                self.last_error_status = response.status_code
                self.last_retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return response

    return PinnedSession


def _transient_http_errors() -> tuple[type[BaseException], ...]:
    import requests

    # ChunkedEncodingError: the connection dropped in the middle of an answer.
    return (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def _raise_if_untrusted(error: BaseException) -> None:
    """An untrusted server certificate will not become trusted by retrying: fail at once."""
    import requests

    if isinstance(error, requests.exceptions.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(error):
        raise ConnectionConfigError(
            "verify",
            "the server's TLS certificate is not trusted (CERTIFICATE_VERIFY_FAILED); set the "
            "extra verify to the path of the CA bundle that signed it (REQUESTS_CA_BUNDLE "
            "applies only while verify is true)",
        ) from error


class OnlineMeetingsHook(BaseHook):
    """Create or reuse Microsoft Teams online meetings with Microsoft Graph ``createOrGet``.

    One hook holds one HTTP session (shared by MSAL and the Graph calls) and one MSAL
    application, so repeated calls reuse connections and cached access tokens.

    .. seealso::
        ``docs/connection.md`` for the connection fields and credentials.

    :param conn_id: id of an Airflow connection of type ``msgraph_meetings``
    """

    conn_name_attr = "conn_id"
    default_conn_name = "msgraph_meetings_default"
    conn_type = "msgraph_meetings"
    hook_name = "Microsoft Teams Meetings (Graph)"

    def __init__(self, conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.conn_id = conn_id
        self._settings: ConnectionSettings | None = None
        self._session: requests.Session | None = None
        self._app: msal.ConfidentialClientApplication | None = None
        self._user_token: _UserToken | None = None
        self._refresh_token: str | None = None
        self._lock = threading.RLock()
        #: Waits between retries go through this, so a test can observe them.
        self._sleep: Callable[[float], None] = time.sleep

    def __repr__(self) -> str:
        return f"{type(self).__name__}(conn_id={self.conn_id!r})"

    def __enter__(self) -> OnlineMeetingsHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- settings ---------------------------------------------------------------------

    @property
    def settings(self) -> ConnectionSettings:
        """The connection's checked settings (read once, on first use)."""
        with self._lock:
            if self._settings is None:
                self._settings = self._load_settings()
            return self._settings

    def _load_settings(self) -> ConnectionSettings:
        from airflow.sdk.log import mask_secret

        conn = self.get_connection(self.conn_id)
        settings = parse_connection(login=conn.login, password=conn.password, host=conn.host, extra=conn.extra_dejson)
        for secret in (settings.client_secret, settings.private_key_password, settings.refresh_token):
            if secret:
                mask_secret(secret)
        if settings.unknown_extras:
            self.log.warning(
                "Connection %r has extras this provider does not read (typo?): %s",
                self.conn_id,
                ", ".join(settings.unknown_extras),
            )
        if settings.verify is False:
            self.log.warning(
                "Connection %r has verify=false: TLS certificates of Entra ID and Graph are not "
                "checked, so tokens can be intercepted. Use a CA bundle path instead.",
                self.conn_id,
            )
        return settings

    # -- HTTP session -------------------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        """The HTTP session used for both the token endpoint and Graph."""
        with self._lock:
            if self._session is None:
                settings = self.settings
                self._session = _pinned_session_class()(
                    verify=settings.verify, proxies=settings.proxies, timeout=settings.timeout
                )
            return self._session

    def get_conn(self) -> requests.Session:
        """Return the configured HTTP session (Airflow's generic hook accessor)."""
        return self.session

    def close(self) -> None:
        """Close the HTTP session; the hook builds a new one if used again."""
        with self._lock:
            if self._session is not None:
                self._session.close()
            self._session = None
            self._app = None
            self._user_token = None

    # -- credentials and MSAL -------------------------------------------------------------

    def _client_credential(self) -> str | dict[str, Any]:
        settings = self.settings
        if settings.credential_kind == "secret":
            return settings.client_secret or ""
        if settings.credential_kind == "certificate":
            return self._certificate_credential()
        self._read_federated_token()  # fail early (and as a config error) if unreadable
        return {"client_assertion": self._read_federated_token}

    def _certificate_credential(self) -> dict[str, Any]:
        """MSAL's ``{"private_key", "thumbprint"[, "passphrase"]}`` from the PEM file."""
        import hashlib
        import ssl

        settings = self.settings
        path = settings.certificate_path or ""
        try:
            with open(path, "rb") as pem_file:
                pem = pem_file.read()
        except OSError as err:
            raise ConnectionConfigError(
                "certificate_path", f"cannot read {path!r}: {err.strerror or type(err).__name__}"
            ) from None
        key_match = _PEM_KEY_RE.search(pem)
        if key_match is None:
            raise ConnectionConfigError(
                "certificate_path", f"{path!r} holds no PEM private key ('-----BEGIN PRIVATE KEY-----')"
            )
        private_key = key_match.group(0)
        self._check_private_key(private_key, path)
        thumbprint = settings.certificate_thumbprint
        if not thumbprint:
            cert_match = _PEM_CERT_RE.search(pem)
            if cert_match is None:
                raise ConnectionConfigError(
                    "certificate_path",
                    f"{path!r} holds no PEM certificate ('-----BEGIN CERTIFICATE-----'); add the "
                    "certificate registered on the app, or set the extra certificate_thumbprint",
                )
            try:
                der = ssl.PEM_cert_to_DER_cert(cert_match.group(0).decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                raise ConnectionConfigError("certificate_path", f"{path!r} holds an unreadable certificate") from None
            thumbprint = hashlib.sha1(der).hexdigest()  # noqa: S324 - Entra's x5t is SHA-1 by definition
        credential: dict[str, Any] = {"private_key": private_key.decode("ascii"), "thumbprint": thumbprint}
        if settings.private_key_password:
            credential["passphrase"] = settings.private_key_password
        return credential

    def _check_private_key(self, private_key: bytes, path: str) -> None:
        """Load the key once so a wrong password is a clear config error, not an MSAL trace."""
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        password = self.settings.private_key_password
        try:
            load_pem_private_key(private_key, password=password.encode() if password else None)
        except TypeError:
            field_name = "private_key_password"
            reason = "is required: the key is encrypted" if not password else "is set but the key is not encrypted"
            raise ConnectionConfigError(field_name, f"{reason} ({path!r})") from None
        except ValueError:
            raise ConnectionConfigError(
                "private_key_password" if password else "certificate_path",
                f"cannot load the private key in {path!r} (wrong password or unsupported key)",
            ) from None

    def _read_federated_token(self) -> str:
        """Read the workload-identity token; called by MSAL for every token request (it rotates)."""
        from airflow.sdk.log import mask_secret

        path = self.settings.federated_token_file or ""
        try:
            with open(path, encoding="utf-8") as token_file:
                token = token_file.read().strip()
        except OSError as err:
            raise ConnectionConfigError(
                "federated_token_file", f"cannot read {path!r}: {err.strerror or type(err).__name__}"
            ) from None
        if not token:
            raise ConnectionConfigError("federated_token_file", f"{path!r} is empty")
        mask_secret(token)
        return token

    @property
    def msal_app(self) -> msal.ConfidentialClientApplication:
        """The MSAL application (built on first use; construction fetches the OIDC metadata)."""
        with self._lock:
            if self._app is None:
                self._app = self._build_msal_app()
            return self._app

    def _build_msal_app(self) -> msal.ConfidentialClientApplication:
        import msal

        settings = self.settings
        extra: dict[str, Any] = {}
        if settings.custom_authority:
            # Neither ask a public Microsoft host about this authority nor insist it is one.
            extra = {"instance_discovery": False, "validate_authority": False}
        try:
            return msal.ConfidentialClientApplication(
                settings.client_id,
                client_credential=self._client_credential(),
                authority=settings.authority,
                http_client=self.session,
                **extra,
            )
        except ValueError as err:
            if isinstance(err, ConnectionConfigError):
                raise
            # MSAL's text names the authority URL and the HTTP status, never a credential.
            raise AuthenticationError(
                "invalid_authority",
                f"{err} Check the extras tenant_id and authority_host.",
            ) from None

    # -- tokens -----------------------------------------------------------------------

    def get_access_token(self, *, policy: RetryPolicy | None = None) -> str:
        """Return a Graph access token (app-only, or delegated with a refresh token).

        Cached tokens are reused; a new one is requested when the cached one has fewer
        than five minutes left. Transient token-endpoint failures are retried.

        :param policy: retry bound for this call; defaults to the connection's
        """
        if self.settings.delegated:
            return self._delegated_access_token(policy)
        scopes = [self.settings.scope]
        result = self._acquire_token(lambda app: app.acquire_token_for_client(scopes=scopes), policy)
        return result["access_token"]

    def _delegated_access_token(self, policy: RetryPolicy | None) -> str:
        with self._lock:
            now = time.monotonic()
            if self._user_token is not None and self._user_token.fresh(now):
                return self._user_token.value
            refresh_token = self._refresh_token or self.settings.refresh_token or ""
            scopes = [self.settings.scope]
            result = self._acquire_token(
                lambda app: app.acquire_token_by_refresh_token(refresh_token, scopes=scopes), policy
            )
            rotated = result.get("refresh_token")
            if rotated and rotated != refresh_token:
                from airflow.sdk.log import mask_secret

                mask_secret(rotated)
                self._refresh_token = rotated
            self._user_token = _UserToken(result["access_token"], now + float(result.get("expires_in", 0)))
            return self._user_token.value

    def invalidate_token(self) -> None:
        """Forget cached access tokens, so that the next call gets a fresh one."""
        with self._lock:
            self._user_token = None
            if self._app is not None:
                self._app.remove_tokens_for_client()

    def _acquire_token(
        self,
        acquire: Callable[[msal.ConfidentialClientApplication], dict[str, Any] | None],
        policy: RetryPolicy | None,
    ) -> dict[str, Any]:
        """Run an MSAL acquisition, retrying transient failures within ``policy``."""
        from airflow.sdk.log import mask_secret
        from msal.exceptions import MsalServiceError

        policy = policy or self.settings.retry
        transient_http = _transient_http_errors()
        retries, waited = 0, 0.0
        while True:
            replayed_by_msal = False
            session = self.session
            session.last_error_status = session.last_retry_after = None
            try:
                result = acquire(self.msal_app) or {}
            except MsalServiceError as err:
                error: BaseException = AuthenticationError("service_error", str(err), permanent=False)
                replayed_by_msal = True
            except transient_http as err:
                _raise_if_untrusted(err)
                error = err
            else:
                if "access_token" in result:
                    mask_secret(result["access_token"])
                    return result
                error = authentication_error_from_msal(result)
                if session.last_error_status == 429:
                    error.permanent = False
                if error.permanent:
                    raise error
                replayed_by_msal = True
            wait = self._token_wait(policy, retries, waited, replayed_by_msal)
            if wait is None:
                raise RetriesExhaustedError("token request", retries + 1, waited, error) from error
            retries += 1
            self.log.info(
                "token request: %s, retry %d/%d in %.1fs", describe_error(error), retries, policy.max_retries, wait
            )
            self._sleep(wait)
            waited += wait

    def _token_wait(self, policy: RetryPolicy, retries: int, waited: float, replayed_by_msal: bool) -> float | None:
        """Wait before the next token attempt; at least as long as MSAL replays the failure."""
        retry_after = self.session.last_retry_after if replayed_by_msal else None
        wait = policy.next_wait(retries, waited, retry_after)
        if wait is None or not replayed_by_msal:
            return wait
        floor = (retry_after if retry_after is not None else MSAL_REPLAY_SECONDS) + _REPLAY_MARGIN
        wait = max(wait, floor)
        return wait if waited + wait <= policy.max_total_wait else None

    # -- Graph requests --------------------------------------------------------------------

    def graph_url(self, path: str) -> str:
        """Absolute URL of a Graph path such as ``users/<id>/onlineMeetings/createOrGet``."""
        return f"{self.settings.graph_base}/{path.lstrip('/')}"

    def _headers(self, token: str, *, has_body: bool) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {token}",
            "client-request-id": str(uuid.uuid4()),
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    def graph_request(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        what: str,
        user_id: str | None = None,
    ) -> requests.Response:
        """Send one Graph request with a token, retries and error mapping.

        Retries 429/502/503/504 and dropped or timed-out connections within the
        connection's retry bound (honouring ``Retry-After``); on a 401 for an expired
        token, gets one fresh token and tries once more.

        :param method: HTTP method
        :param path: path below the versioned Graph root, e.g. ``$batch``
        :param json: JSON body, if any
        :param what: short description for logs and errors, e.g. ``createOrGet external_id=abc``
        :param user_id: the organizer, named in access-policy and not-found errors
        :return: the successful (2xx) response
        :raises GraphAPIError: for an error answer that retrying cannot fix
        :raises RetriesExhaustedError: when transient failures outlast the retry bound
        """
        policy = self.settings.retry
        url = self.graph_url(path)
        transient_http = _transient_http_errors()
        retries, waited, attempts, token_refreshed = 0, 0.0, 0, False
        while True:
            token = self.get_access_token()
            attempts += 1
            retry_after: float | None = None
            try:
                response = self.session.request(
                    method, url, json=json, headers=self._headers(token, has_body=json is not None)
                )
            except transient_http as err:
                _raise_if_untrusted(err)
                error: BaseException = err
            else:
                if response.status_code < 400:
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                error = graph_error_from_response(
                    response.status_code,
                    response.headers,
                    response.content,
                    user_id=user_id,
                    retry_after=retry_after,
                )
                if _is_expired_token(error) and not token_refreshed:
                    token_refreshed = True
                    self.log.info("%s: 401 %s, getting a fresh token and trying once more", what, error.code)
                    self.invalidate_token()
                    continue
                if response.status_code not in RETRYABLE_STATUSES:
                    raise error
            wait = policy.next_wait(retries, waited, retry_after)
            if wait is None:
                raise RetriesExhaustedError(what, attempts, waited, error) from error
            retries += 1
            self.log.info(
                "%s: %s, retry %d/%d in %.1fs%s",
                what,
                describe_error(error),
                retries,
                policy.max_retries,
                wait,
                " (Retry-After)" if retry_after is not None else "",
            )
            self._sleep(wait)
            waited += wait

    # -- meetings ---------------------------------------------------------------------

    def prepare(self, spec: MeetingSpec) -> PreparedRequest:
        """Validate a meeting against the connection (cloud, organizer) without any request."""
        settings = self.settings
        if not CLOUDS[settings.cloud].create_or_get:
            raise ConnectionConfigError(
                "cloud", f"onlineMeetings/createOrGet is not available in Graph v1.0 of the {settings.cloud!r} cloud"
            )
        prepared = prepare_request(spec, default_user_id=settings.default_user_id, api_version=settings.api_version)
        if prepared.user_id is None and not settings.delegated:
            raise InvalidMeetingRequestError(
                "user_id",
                "no organizer: app-only tokens cannot use /me. Pass user_id, set the connection "
                "extra default_user_id, or use a refresh_token (delegated mode)",
            )
        return prepared

    def create_or_get_meeting(
        self,
        external_id: str,
        *,
        user_id: str | None = None,
        subject: str | None = None,
        start_date_time: Any = None,
        end_date_time: Any = None,
        participants: Mapping[str, Any] | None = None,
        chat_info: Mapping[str, Any] | None = None,
    ) -> MeetingResult:
        """Create a Teams meeting, or get the one that already has this ``external_id``.

        Everything is validated before a token is requested. For an existing meeting Graph
        returns it as it is: a changed subject or time is not applied.

        :param external_id: the meeting's stable key, e.g. ``"<dag_id>-<ds>"``
        :param user_id: organizer's Entra object id (or UPN); default: the connection's
            ``default_user_id``, else ``/me`` with a delegated connection
        :param subject: meeting subject
        :param start_date_time: aware datetime or ISO-8601 string with offset or ``Z``
        :param end_date_time: same; needs ``start_date_time``
        :param participants: Graph ``meetingParticipants``
        :param chat_info: Graph ``chatInfo``
        """
        spec = MeetingSpec(
            external_id=external_id,
            user_id=user_id,
            subject=subject,
            start_date_time=start_date_time,
            end_date_time=end_date_time,
            participants=participants,
            chat_info=chat_info,
        )
        return self.send_create_or_get(self.prepare(spec))

    def send_create_or_get(self, prepared: PreparedRequest) -> MeetingResult:
        """Send an already prepared createOrGet request."""
        response = self.graph_request(
            "POST",
            prepared.path,
            json=prepared.body,
            what=f"createOrGet external_id={prepared.external_id}",
            user_id=prepared.user_id,
        )
        try:
            meeting = response.json()
        except ValueError:
            meeting = None
        if not isinstance(meeting, dict):
            raise GraphAPIError(response.status_code, "InvalidResponse", "the answer was not a JSON onlineMeeting")
        return MeetingResult(meeting=meeting, created=response.status_code == 201)

    # -- bulk -------------------------------------------------------------------------------

    def create_or_get_meetings(
        self,
        meetings: Iterable[Mapping[str, Any] | MeetingSpec],
        *,
        max_concurrency: int | None = None,
        meeting_fields: Sequence[str] | None = BULK_MEETING_FIELDS,
        progress: Callable[[BulkProgress], None] | None = None,
        progress_interval: float = 5.0,
    ) -> list[BulkItemResult]:
        """Create or get many meetings through Graph JSON batching (``$batch``).

        Every item is validated before anything is sent; an invalid item, or a repeat of an
        earlier ``(user_id, external_id)`` pair, gets its error result and is not sent.
        The rest go out in batches of up to 20 with at most ``max_concurrency`` batches in
        flight, on one token and one connection pool. Throttled (429) and unavailable
        (502/503/504) items are retried after their own ``Retry-After`` within the
        connection's retry bound; when 429s show a rate limit, sending slows to the rate
        Graph accepts. Permanent errors (400/403/404) are final for their item. One
        failed item does not stop the others: check each result's ``ok``.

        .. seealso:: ``docs/bulk.md``

        :param meetings: mappings with the keys of :meth:`create_or_get_meeting` (plus
            ``external_id``), or :class:`MeetingSpec` objects
        :param max_concurrency: batches in flight at most (1-32); default: the
            connection's ``bulk_concurrency``
        :param meeting_fields: fields of each meeting to keep in the results (``None``:
            all); fewer fields keep memory low for large calls
        :param progress: called with a :class:`~airflow_provider_meetings.batching.BulkProgress`
            every ``progress_interval`` seconds and at the end
        :param progress_interval: seconds between progress calls
        :return: one :class:`~airflow_provider_meetings.batching.BulkItemResult` per item,
            in input order
        """
        from airflow_provider_meetings.batching import BulkEngine
        from airflow_provider_meetings.connection_settings import MAX_BULK_CONCURRENCY

        settings = self.settings
        concurrency = settings.bulk_concurrency if max_concurrency is None else max_concurrency
        if not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_BULK_CONCURRENCY:
            raise ValueError(
                f"max_concurrency must be a whole number from 1 to {MAX_BULK_CONCURRENCY}, got {concurrency!r}"
            )
        engine = BulkEngine(
            _BatchTransport(self, pool_size=concurrency),
            prepare=self.prepare,
            max_concurrency=concurrency,
            retry_policy=settings.retry,
            meeting_fields=meeting_fields,
            transient_errors=_transient_http_errors(),
            progress=progress,
            progress_interval=progress_interval,
            log=self.log,
        )
        return engine.run(meetings)

    # -- connection test ------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Check the connection by getting an access token (no meeting is created).

        Airflow's UI and REST API call this only when ``[core] test_connection = Enabled``.
        """
        try:
            settings = self.settings
            self.get_access_token(policy=RetryPolicy(max_retries=0))
        except Exception as err:  # the UI shows the text; every error of ours is secret-free
            return False, str(err)
        mode = "delegated (refresh token)" if settings.delegated else f"app-only ({settings.credential_kind})"
        return True, (
            f"Got an {mode} access token for client id {settings.client_id} in tenant "
            f"{settings.tenant_id} ({settings.cloud} cloud); Graph URL {settings.graph_base}"
        )


def _is_expired_token(error: GraphAPIError) -> bool:
    return error.status == 401 and error.code == "InvalidAuthenticationToken"


class _BatchTransport:
    """One ``POST $batch`` attempt on the hook's session and token (see ``batching.py``).

    Workers share the token under a lock, so concurrent batches make one token request
    between them; the Graph adapter's pool is widened to the concurrency so each batch in
    flight keeps its own kept-alive connection.
    """

    def __init__(self, hook: OnlineMeetingsHook, *, pool_size: int) -> None:
        from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter

        self.hook = hook
        self.url = hook.graph_url("$batch")
        self._token_lock = threading.Lock()
        session = hook.session
        prefix = hook.settings.graph_url + "/"
        adapter = session.get_adapter(self.url)
        if getattr(adapter, "_pool_maxsize", DEFAULT_POOLSIZE) < pool_size:
            session.mount(prefix, HTTPAdapter(pool_connections=1, pool_maxsize=pool_size))

    def send_batch(self, payload: Mapping[str, Any]) -> tuple[int, Mapping[str, str], Any]:
        with self._token_lock:
            token = self.hook.get_access_token()
        try:
            response = self.hook.session.request(
                "POST", self.url, json=payload, headers=self.hook._headers(token, has_body=True)
            )
        except _transient_http_errors() as err:
            _raise_if_untrusted(err)  # as for single calls: retrying cannot make it trusted
            raise
        try:
            body: Any = response.json()
        except ValueError:
            body = response.content
        return response.status_code, response.headers, body

    def refresh_token(self) -> None:
        with self._token_lock:
            self.hook.log.info("$batch: 401 for an item, getting a fresh token")
            self.hook.invalidate_token()
