"""The connection check: ordered steps that name the first misconfiguration and how to fix it.

One check serves :meth:`OnlineMeetingsHook.test_connection()
<airflow_provider_meetings.hooks.online_meetings.OnlineMeetingsHook.test_connection>` (Airflow's
*Test* button) and the console command ``airflow-provider-meetings check``. The steps run in
order and stop at the first failure; each failure carries one message and one fix:

1. ``settings``: the connection's fields parse, the CA bundle exists, the cloud has createOrGet;
2. ``token``: Entra ID issues an access token (each known refusal or network failure by name);
3. ``permission``: the token carries ``OnlineMeetings.ReadWrite.All`` in ``roles`` (app-only) or
   ``OnlineMeetings.ReadWrite`` in ``scp`` (delegated), read from the JWT without verifying it;
4. ``audience``: the Graph the connection talks to takes tokens of the token's audience (a
   national-cloud mix-up);
5. ``organizer``: the organizer exists and the application access policy covers them, from one
   read-only Graph request that creates nothing (:data:`PROBE_JOIN_URL`).

Step 4 comes before step 5 because Graph checks a token's audience before anything else: a
401 "Invalid audience" answer to the request of step 5 is the audience's failure, not the
organizer's. Both steps read the same answer; the request is sent once.

Nothing is retried (a check should answer at once), and nothing secret leaves: messages are
built from the provider's own errors, which never carry secrets, and every text is scrubbed of
the connection's secrets and of the access token before it is returned.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from airflow_provider_meetings import __version__
from airflow_provider_meetings.graph.errors import (
    AuthenticationError,
    ConnectionConfigError,
    GraphAPIError,
    MeetingsError,
    OrganizerLookupError,
    RetriesExhaustedError,
    TransportError,
    graph_error_from_response,
)
from airflow_provider_meetings.graph.retry import RetryPolicy
from airflow_provider_meetings.graph.settings import CLOUDS, ConnectionSettings, parse_extra
from airflow_provider_meetings.meetings.organizers import (
    DELEGATED_LOOKUP_PERMISSION,
    LOOKUP_PERMISSION,
    lookup_request,
    needs_lookup,
    object_id_from,
)
from airflow_provider_meetings.meetings.request import is_guid, user_path

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.answer import HttpAnswer
    from airflow_provider_meetings.graph.client import GraphClient

__all__ = ["STEPS", "CheckReport", "CheckableHook", "Status", "StepResult", "check_connection", "read_claims"]

#: createOrGet's permissions (https://learn.microsoft.com/graph/api/onlinemeeting-createorget#permissions).
APP_PERMISSION = "OnlineMeetings.ReadWrite.All"
DELEGATED_PERMISSION = "OnlineMeetings.ReadWrite"
#: Microsoft Graph's application id: the ``aud`` of a token whose scope named Graph by this id.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
_NO_ID = "00000000-0000-0000-0000-000000000000"
#: The join URL of step 5's request: shaped like a Teams join URL (thread id, tenant and
#: organizer context) so that Graph reads it as one, of a meeting no tenant has. ``GET
#: /users/{id}/onlineMeetings?$filter=JoinWebUrl eq '...'`` needs the same application
#: permission family and the same application access policy as createOrGet, and reads only
#: (https://learn.microsoft.com/graph/api/onlinemeeting-get).
PROBE_JOIN_URL = (
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting_YWlyZmxvdy1wcm92aWRlci1tZWV0aW5ncy1jaGVjaw"
    "%40thread.v2/0?context=%7b%22Tid%22%3a%22{tenant}%22%2c%22Oid%22%3a%22{organizer}%22%7d"
)
#: No retries: a check answers at once, and a retry loop would hide what went wrong.
CHECK_RETRY_POLICY = RetryPolicy(max_retries=0, max_total_wait=0)
_ENTRA_ERROR_PAGE = "https://login.microsoftonline.com/error?code={code}"


class Status(str, enum.Enum):
    """The outcome of one step."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_RUN = "not run"


@dataclass(frozen=True)
class StepResult:
    """What one step found.

    :param number: position in the check, from 1
    :param key: stable name, e.g. ``token``
    :param title: what the step checks, for people
    :param status: passed, failed, skipped, or not run (after an earlier failure)
    :param message: what was found
    :param fix: what to do (failures only)
    :param problem: stable name of the misconfiguration (failures only), e.g. ``wrong_secret``
    """

    number: int
    key: str
    title: str
    status: Status
    message: str = ""
    fix: str | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-able data."""
        return {
            "step": self.number,
            "key": self.key,
            "title": self.title,
            "status": self.status.value,
            "message": self.message,
            "fix": self.fix,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class CheckReport:
    """The results of every step of one check.

    :param conn_id: the connection checked
    :param steps: one result per step, in order
    """

    conn_id: str
    steps: tuple[StepResult, ...]

    @property
    def ok(self) -> bool:
        """No step failed."""
        return self.failure is None

    @property
    def failure(self) -> StepResult | None:
        """The step that failed, if any."""
        return next((s for s in self.steps if s.status is Status.FAILED), None)

    def summary(self) -> str:
        """One text for Airflow's *Test* button: every finding, or the failure and its fix."""
        failure = self.failure
        if failure is not None:
            return f"Check {failure.number}/{len(self.steps)} ({failure.title}) failed: {failure.message} Fix: {failure.fix}"
        findings = " ".join(f"{s.number}. {s.message}" for s in self.steps)
        return f"All {len(self.steps)} checks passed. {findings}"

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-able data (the command's ``--json`` output)."""
        failure = self.failure
        return {
            "conn_id": self.conn_id,
            "ok": self.ok,
            "failed_step": failure.key if failure else None,
            "problem": failure.problem if failure else None,
            "provider_version": __version__,
            "steps": [s.to_json() for s in self.steps],
        }


class _Failed(Exception):
    """A step's failure: the misconfiguration, what was found, and the fix."""

    def __init__(self, problem: str, message: str, fix: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class _Outcome:
    """A step that did not fail: passed (``skipped=False``) or skipped, with what it found."""

    message: str
    skipped: bool = False


@dataclass
class _Probe:
    """Step 5's Graph requests and what came back (an answer, or the error that replaced one).

    An organizer given by user principal name is first looked up (``GET /users/{upn}?$select=id``,
    as the hook does before createOrGet: :mod:`~airflow_provider_meetings.meetings.organizers`); the
    meetings lookup then goes to the object id. ``lookup`` says the error came from the first.
    """

    user: str | None
    object_id: str | None = None
    answer: HttpAnswer | None = None
    error: GraphAPIError | None = None
    failure: MeetingsError | None = None
    lookup: bool = False


class CheckableHook(Protocol):
    """What the check needs of a hook; :class:`OnlineMeetingsHook` has all of it."""

    conn_id: str

    @property
    def settings(self) -> ConnectionSettings: ...

    @property
    def client(self) -> GraphClient: ...

    def get_connection(self, conn_id: str) -> Any: ...


@dataclass
class _Check:
    """The state of one check run: what earlier steps learned, for the later ones."""

    hook: CheckableHook
    secrets: list[str] = field(default_factory=list)
    settings: ConnectionSettings | None = None
    token: str | None = None
    claims: dict[str, Any] | None = None
    roles_checked: bool = False
    probe_result: _Probe | None = None
    probe_sent: bool = False

    # -- shared facts ------------------------------------------------------------------------

    @property
    def cfg(self) -> ConnectionSettings:
        assert self.settings is not None  # steps after the first run only once it passed
        return self.settings

    @property
    def client(self) -> GraphClient:
        return self.hook.client

    def probe(self) -> _Probe | None:
        """Step 5's request, sent once (``None`` when there is nobody to ask about)."""
        if not self.probe_sent:
            self.probe_sent = True
            self.probe_result = self._send_probe()
        return self.probe_result

    def _send_probe(self) -> _Probe | None:
        settings = self.cfg
        user = settings.default_user_id
        if user is None and not settings.delegated:
            return None
        probe = _Probe(user=user, object_id=user)
        if user is not None and needs_lookup(user):
            probe.lookup = True
            user_json = self._get(probe, lookup_request(user).path)
            if user_json is None:
                return probe
            try:
                probe.object_id = object_id_from(user_json, user)
            except OrganizerLookupError as error:
                probe.failure = error
                return probe
            probe.lookup = False
        organizer = probe.object_id if probe.object_id and is_guid(probe.object_id) else _NO_ID
        url = PROBE_JOIN_URL.format(tenant=settings.tenant_id, organizer=organizer)
        # "joinWebUrl must be URL encoded" (onlinemeeting-get); the quotes delimit the literal.
        query = "$filter=" + quote(f"JoinWebUrl eq '{url}'", safe="'")
        self._get(probe, f"{user_path(probe.object_id)}/onlineMeetings?{query}")
        return probe

    def _get(self, probe: _Probe, path: str) -> Any:
        """One GET (no retries); its JSON, or ``None`` with the failure recorded on ``probe``."""
        client = self.client
        try:
            answer = client.transport.send(
                "GET", client.url(path), headers=client.headers(self.token or "", has_body=False)
            )
        except MeetingsError as error:
            probe.failure = error
            return None
        probe.answer = answer
        if not answer.ok:
            probe.error = graph_error_from_response(
                answer.status, answer.headers, answer.content, user_id=probe.object_id, retry_after=answer.retry_after
            )
            return None
        try:
            return answer.json()
        except ValueError:
            return {}


# -- step 1: the connection's fields ----------------------------------------------------------


def _sentence(text: object) -> str:
    """``text`` ending with a full stop (the provider's error texts mostly end without one)."""
    text = str(text).rstrip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _connection_secrets(hook: CheckableHook) -> list[str]:
    """The secrets of the stored connection, to scrub from texts even when it does not parse."""
    try:
        conn = hook.get_connection(hook.conn_id)
        extra = parse_extra(conn.extra_dejson)
    except Exception:  # the failure itself is step 1's finding
        return []
    values = [conn.password, extra.get("private_key_password"), extra.get("refresh_token")]
    return [str(v) for v in values if v]


def _where_to_edit(conn_id: str) -> str:
    return (
        f"Edit connection {conn_id!r} where it is stored (Admin > Connections, the variable "
        f"AIRFLOW_CONN_{conn_id.upper()}, or your secrets backend)"
    )


def step_settings(check: _Check) -> _Outcome:
    """1. The connection exists and its fields parse."""
    hook = check.hook
    check.secrets.extend(_connection_secrets(hook))
    try:
        settings = hook.settings
    except ConnectionConfigError as error:
        raise _Failed(
            "invalid_field", _sentence(error), f"{_where_to_edit(hook.conn_id)}: correct {error.field}."
        ) from None
    except Exception as error:
        # airflow.sdk.exceptions.AirflowNotFoundException in Airflow 3.3; matched by name, as
        # earlier Airflow 3 releases raise a class of that name from another module.
        if type(error).__name__ != "AirflowNotFoundException":
            raise
        raise _Failed(
            "connection_not_found",
            f"Connection {hook.conn_id!r} is not defined (looked in AIRFLOW_CONN_* variables, the "
            "secrets backends and the metadata database).",
            "Create it with conn_type msgraph_meetings: Admin > Connections, `airflow connections add`, "
            f"an AIRFLOW_CONN_{hook.conn_id.upper()} variable, or your secrets backend.",
        ) from None
    check.settings = settings
    check.secrets.extend(
        s for s in (settings.client_secret, settings.private_key_password, settings.refresh_token) if s
    )
    if isinstance(settings.verify, str) and not os.path.isfile(settings.verify):
        raise _Failed(
            "ca_bundle_missing",
            f"The CA bundle {settings.verify!r} of the extra verify does not exist on this machine.",
            "Set verify to the path of a PEM file with the CA certificates that sign the login and Graph "
            "hosts (the file must exist where tasks run), or remove verify to use the system's CAs.",
        )
    if not CLOUDS[settings.cloud].create_or_get:
        raise _Failed(
            "cloud_without_create_or_get",
            f"The {settings.cloud!r} cloud has no onlineMeetings/createOrGet in Graph v1.0.",
            "This provider cannot create meetings there; if the tenant is in another cloud, set the extra "
            "cloud to it (global, usgov, dod).",
        )
    message = (
        f"Client id {settings.client_id}, tenant {settings.tenant_id}, {settings.cloud} cloud, "
        f"{settings.credential.description}, Graph {settings.graph_base}."
    )
    if settings.unknown_extras:
        message += f" Extras this provider does not read (typo?): {', '.join(settings.unknown_extras)}."
    return _Outcome(message)


# -- step 2: the access token -----------------------------------------------------------------


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def _proxy_for(settings: ConnectionSettings) -> str:
    """The proxy in use for https, without credentials: ``proxy.corp:3128``, or where it comes from."""
    proxies = settings.proxies or urllib.request.getproxies()
    url = proxies.get("https") or proxies.get("all")
    source = "the extra proxies" if settings.proxies else "the environment (HTTPS_PROXY)"
    if not url:
        return f"set in {source}"
    parts = urlsplit(url if "://" in url else f"http://{url}")
    where = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    return f"{where} (from {source})"


_ROLES = {"login": "the Entra ID login host", "graph": "Graph"}


def _network_failure(
    error: TransportError | ConnectionConfigError, *, where: str, settings: ConnectionSettings
) -> _Failed:
    """A request that got no usable answer: unreachable host or proxy, timeout, untrusted TLS.

    :param where: ``login`` (Entra ID) or ``graph``
    """
    host = settings.authority_host if where == "login" else _host(settings.graph_url)
    role = _ROLES[where]
    if isinstance(error, ConnectionConfigError):
        if error.field == "verify":
            return _Failed(
                "untrusted_certificate",
                f"The TLS certificate of {role} {host} is not trusted (CERTIFICATE_VERIFY_FAILED).",
                "If a proxy or firewall inspects TLS, set the extra verify to the path of its CA bundle (PEM); "
                "your network team has it. verify=false is no fix: it lets anyone on the way read the tokens.",
            )
        return _Failed("invalid_field", _sentence(error), f"Correct {error.field} in the connection.")
    if error.kind == "proxy":
        return _Failed(
            "proxy_unreachable",
            f"Could not reach the proxy {_proxy_for(settings)} on the way to {role} {host} ({error.reason}).",
            "Correct the extra proxies (or HTTPS_PROXY) to a proxy this machine reaches, or remove it if "
            f"{host} is reachable directly (then list it in NO_PROXY).",
        )
    if error.kind == "timeout":
        return _Failed(
            f"{where}_timeout",
            f"{role[0].upper()}{role[1:]} {host} did not answer within {settings.timeout:g} s.",
            f"Check the network path to {host}: a firewall that drops packets times out instead of refusing. "
            "Raise the extra timeout only if the network is merely slow.",
        )
    return _Failed(
        f"{where}_unreachable",
        f"Could not connect to {role} {host} ({error.reason}).",
        f"Check that this machine reaches {host} over HTTPS (DNS, firewall, NO_PROXY); behind a proxy set "
        "the extra proxies. For a national cloud set the extra cloud rather than a host override.",
    )


def _aadsts(error: AuthenticationError) -> int | None:
    """The AADSTS number of Entra's refusal (``error_codes``, else the description's prefix)."""
    if error.error_codes:
        return int(error.error_codes[0])
    code = error.aadsts_code
    return int(code[len("AADSTS") :]) if code and code[len("AADSTS") :].isdigit() else None


def _discovery_refusal(check: _Check) -> _Failed:
    """Why MSAL could not read the tenant's OpenID configuration, from Entra's own answer.

    MSAL reports a refused discovery as a bare ``ValueError`` (msal/authority.py,
    ``tenant_discovery``); Entra's answer says which: AADSTS90002 for an unknown tenant.
    """
    settings, client = check.cfg, check.client
    url = f"{settings.authority}/v2.0/.well-known/openid-configuration"
    try:
        answer = client.transport.send("GET", url)
        body = answer.json() if answer.content_type.endswith("json") else None
    except (MeetingsError, ValueError):
        answer, body = None, None
    codes = body.get("error_codes") if isinstance(body, dict) else None
    if isinstance(body, dict) and (body.get("error") == "invalid_tenant" or 90002 in (codes or [])):
        return _Failed(
            "wrong_tenant",
            f"Entra ID at {settings.authority_host} does not know the tenant {settings.tenant_id!r} (AADSTS90002).",
            "Set the extra tenant_id to the Directory (tenant) ID on the app registration's Overview page (or a "
            "verified domain of the tenant). A tenant of a national cloud exists only at its cloud's login host: "
            "set the extra cloud (usgov, dod, china).",
        )
    status = f"HTTP {answer.status}" if answer is not None else "no answer"
    return _Failed(
        "login_host_wrong",
        f"{settings.authority_host} did not serve the OpenID configuration of tenant {settings.tenant_id!r} "
        f"({status}).",
        "Check the extras tenant_id and authority_host; leave authority_host empty to use the cloud's login host.",
    )


def _token_failure(check: _Check, error: BaseException) -> _Failed:
    settings = check.cfg
    if isinstance(error, RetriesExhaustedError):
        error = error.last_error
    if isinstance(error, (TransportError, ConnectionConfigError)):
        if isinstance(error, ConnectionConfigError) and error.field != "verify":
            return _Failed(
                "invalid_credential",
                _sentence(error),
                f"{_where_to_edit(check.hook.conn_id)}: correct {error.field}.",
            )
        return _network_failure(error, where="login", settings=settings)
    if not isinstance(error, AuthenticationError):
        raise error
    code = _aadsts(error)
    app = settings.client_id
    if error.error == "invalid_authority":
        return _discovery_refusal(check)
    if code == 7000215:
        return _Failed(
            "wrong_secret",
            f"Entra ID refused the client secret of app {app} (AADSTS7000215: invalid client secret).",
            "Put the secret's Value, not its Secret ID, in the connection's password (Entra admin center > "
            "App registrations > the app > Certificates & secrets). The value is shown only when the secret "
            "is created: if it is lost, create a new secret.",
        )
    if code == 7000222:
        return _Failed(
            "expired_secret",
            f"The client secret of app {app} has expired (AADSTS7000222).",
            "Create a new client secret (App registrations > the app > Certificates & secrets > New client "
            "secret), put its Value in the connection's password, and delete the expired one.",
        )
    if code == 700027:
        return _Failed(
            "certificate_not_registered",
            f"Entra ID does not accept the certificate of {settings.certificate_path} for app {app} "
            "(AADSTS700027): it is not registered on the app, or the key does not belong to it.",
            "Upload the certificate's public part to App registrations > the app > Certificates & secrets > "
            "Certificates, or point certificate_path at the PEM of a certificate registered there (and clear "
            "certificate_thumbprint if it names another certificate).",
        )
    if code == 90002:
        return _Failed(
            "wrong_tenant",
            f"Entra ID at {settings.authority_host} does not know the tenant {settings.tenant_id!r} (AADSTS90002).",
            "Set the extra tenant_id to the Directory (tenant) ID on the app registration's Overview page.",
        )
    if code == 700016:
        return _Failed(
            "unknown_client",
            f"Tenant {settings.tenant_id} has no application with client id {app} (AADSTS700016).",
            "Set login to the Application (client) ID on the app registration's Overview page, and tenant_id "
            "to the tenant the app is registered in.",
        )
    if code == 700082:
        return _Failed(
            "refresh_token_expired",
            "The refresh token has expired (AADSTS700082).",
            f"Sign in again: 'airflow-provider-meetings login --conn-id {check.hook.conn_id}' runs the device code "
            "flow and prints the new refresh_token extra to store (docs/connection.md, Delegated mode).",
        )
    if error.error == "invalid_response":
        return _Failed(
            "not_entra",
            _sentence(error),
            f"Make sure requests to {settings.authority_host} reach Entra ID (directly, or through the proxy "
            "of the extra proxies).",
        )
    if not error.permanent:
        return _Failed(
            "entra_unavailable",
            f"Entra ID could not issue a token right now: {_sentence(error)}",
            "Throttling or an outage, not a setting: run the check again in a few minutes.",
        )
    lookup = f" Microsoft explains AADSTS{code} at {_ENTRA_ERROR_PAGE.format(code=code)}." if code else ""
    return _Failed("token_refused", _sentence(error), f"Follow Entra's message above.{lookup}")


def step_token(check: _Check) -> _Outcome:
    """2. Entra ID issues an access token."""
    settings = check.cfg
    try:
        check.token = check.client.tokens.get(CHECK_RETRY_POLICY)
    except MeetingsError as error:
        raise _token_failure(check, error) from None
    check.secrets.append(check.token)
    check.claims = read_claims(check.token)
    kind = "a delegated" if settings.delegated else "an app-only"
    message = f"Entra ID at {settings.authority_host} issued {kind} access token"
    expires = (check.claims or {}).get("exp")
    if isinstance(expires, (int, float)):
        message += f" (valid for {max(0, round((expires - time.time()) / 60))} min)"
    return _Outcome(message + ".")


# -- step 3: the permission in the token ------------------------------------------------------


def read_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, read without verifying its signature (``None``: not a readable JWT).

    A client must not trust these claims for security decisions; the check only reads them to
    explain what Graph will decide. Encrypted tokens (JWE, five parts) are not readable.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return []


def _holds(names: Iterable[str], permission: str) -> bool:
    return permission.lower() in {n.lower() for n in names}


def step_permission(check: _Check) -> _Outcome:
    """3. The token carries createOrGet's permission."""
    settings, claims = check.cfg, check.claims
    if claims is None:
        return _Outcome(
            "The access token is not a JWT this check can read; Graph's answer in check 5 shows whether the "
            "permission is missing.",
            skipped=True,
        )
    check.roles_checked = True
    if settings.delegated:
        scopes = _names(claims.get("scp"))
        if _holds(scopes, DELEGATED_PERMISSION):
            return _Outcome(f"The delegated token carries the permission {DELEGATED_PERMISSION} (scp).")
        raise _Failed(
            "scope_missing",
            f"The delegated token's scopes are {', '.join(scopes) or 'none'}; createOrGet needs "
            f"{DELEGATED_PERMISSION}.",
            f"Add the delegated permission {DELEGATED_PERMISSION} (App registrations > the app > API permissions > "
            "Microsoft Graph > Delegated permissions), let the user or an admin consent, and store a new "
            "refresh token (docs/connection.md, Delegated mode).",
        )
    roles = _names(claims.get("roles"))
    if _holds(roles, APP_PERMISSION):
        return _Outcome(f"The app token carries the application permission {APP_PERMISSION} (roles).")
    found = (
        f"the app token's application permissions are {', '.join(roles)}"
        if roles
        else "the app token carries no application permission (no roles claim)"
    )
    raise _Failed(
        "permission_missing",
        f"{found[0].upper()}{found[1:]}; createOrGet needs {APP_PERMISSION}.",
        f"App registrations > {settings.client_id} > API permissions > Add a permission > Microsoft Graph > "
        f"Application permissions > {APP_PERMISSION}, then Grant admin consent for the tenant (a delegated "
        "permission of the same name does not count for app-only tokens). Run the check again afterwards: "
        "tokens issued before the consent keep their old roles.",
    )


# -- step 4: the Graph host and the token's audience ------------------------------------------


def _cloud_of_graph(url: str) -> str | None:
    for name, cloud in CLOUDS.items():
        if cloud.graph.lower() == url.rstrip("/").lower():
            return name
    return None


def _audience_refused(error: GraphAPIError | None) -> bool:
    # Graph's text for a token of another resource, as users report it ("Access token validation
    # failure. Invalid audience."); Microsoft does not document it.
    return error is not None and error.status == 401 and "audience" in error.message.lower()


def step_audience(check: _Check) -> _Outcome:
    """4. The Graph the connection talks to takes tokens of this audience."""
    settings = check.cfg
    expected = CLOUDS[settings.cloud].graph
    host = settings.graph_url
    host_cloud = _cloud_of_graph(host)
    if host_cloud is not None and host_cloud != settings.cloud:
        raise _Failed(
            "cloud_mismatch",
            f"The connection's cloud is {settings.cloud!r}, so tokens are for {expected}, but host sends the "
            f"requests to {host}, the Graph of the {host_cloud!r} cloud, which refuses them (401 Invalid audience).",
            f"If the tenant is in the {host_cloud!r} cloud, set the extra cloud to {host_cloud!r} and clear host; "
            f"otherwise clear host (it defaults to the {settings.cloud!r} cloud's Graph).",
        )
    audience = str((check.claims or {}).get("aud") or "")
    if audience and audience.rstrip("/").lower() not in (expected.lower(), GRAPH_APP_ID):
        raise _Failed(
            "token_audience",
            f"The token is for {audience}, not for the {settings.cloud!r} cloud's Graph {expected}.",
            "Check the extras cloud and authority_host: the login host must belong to the same cloud as Graph.",
        )
    shown = audience or expected
    probe = check.probe()
    if probe is not None and _audience_refused(probe.error):
        assert probe.error is not None
        raise _Failed(
            "audience_refused",
            f"Graph at {host} refused the token for {shown} with {probe.error.status} {probe.error.code} "
            f"({probe.error.message.rstrip('.')}): that Graph serves another cloud than {settings.cloud!r}.",
            "Set the extra cloud to the cloud of the Graph at host (usgov for graph.microsoft.us, dod for "
            f"dod-graph.microsoft.us), or point host at the {settings.cloud!r} cloud's Graph.",
        )
    if host_cloud is not None:
        return _Outcome(f"Tokens for {shown} go to {host}, the {settings.cloud} cloud's Graph.")
    if probe is not None and probe.answer is not None and probe.answer.status != 401:
        return _Outcome(f"Tokens for {shown} go to {host} (host override); Graph there accepted the token.")
    return _Outcome(
        f"Tokens for {shown} go to {host} (host override); not confirmed by Graph"
        + ("." if probe is not None else " (no default_user_id to ask about).")
    )


# -- step 5: the organizer and the access policy ----------------------------------------------


def _graph_failure(check: _Check, probe: _Probe) -> _Failed | _Outcome:
    settings, error = check.cfg, probe.error
    assert error is not None
    who = f"organizer {probe.user}" if probe.user else "the signed-in user"
    said = f"{error.status} {error.code} ({error.message.rstrip('.')})"
    if probe.lookup and error.status in (403, 404) and probe.user:
        # The hook looks a UPN up before createOrGet (organizers.py), with the same request.
        if error.status == 403:
            # https://learn.microsoft.com/graph/api/user-get#permissions: application
            # User.Read.All; delegated User.ReadBasic.All (least privileged).
            needed = DELEGATED_LOOKUP_PERMISSION if settings.delegated else LOOKUP_PERMISSION
            grant = (
                f"Grant the delegated permission {needed} and consent to it"
                if settings.delegated
                else f"Grant the application permission {needed} with admin consent"
            )
            return _Failed(
                "organizer_lookup_denied",
                f"Graph answered {said} to GET /users/{probe.user}: organizer {probe.user} is a user principal "
                f"name, and the app may not look up its object id ({needed} missing).",
                f"{grant}, or set default_user_id to the organizer's object id, which needs no lookup.",
            )
        return _Failed(
            "organizer_not_found",
            f"Graph answered {said} to GET /users/{probe.user}: no user of the tenant has the user principal "
            f"name {probe.user}.",
            f"Set default_user_id to the object id (or the exact user principal name) of a user of tenant "
            f"{settings.tenant_id} (Entra admin center > Users > the user).",
        )
    if error.status == 403 and "access policy" in error.message.lower():
        return _Failed(
            "no_access_policy",
            f"Graph answered {said} for {who}: no application access policy lets app {settings.client_id} "
            "act for them.",
            "A Teams administrator runs (PowerShell, MicrosoftTeams module): New-CsApplicationAccessPolicy "
            f'-Identity Airflow-Meetings -AppIds "{settings.client_id}", then Grant-CsApplicationAccessPolicy '
            f'-PolicyName Airflow-Meetings -Identity "{probe.user}" (or -Global for every user). Changes take up '
            "to 30 minutes to apply.",
        )
    if error.status == 403 and settings.delegated and probe.user:
        return _Failed(
            "delegated_other_user",
            f"Graph answered {said} for {who}: a delegated token acts only as the user who signed in.",
            "Clear default_user_id (meetings are then created as the signed-in user), or set it to that "
            "user's object id.",
        )
    if error.status == 403 and not check.roles_checked:
        return _Failed(
            "permission_missing",
            f"Graph answered {said} for {who}: the token lacks the permission.",
            f"Grant the application permission {APP_PERMISSION} with admin consent (API permissions of the app "
            "registration).",
        )
    if error.status == 403:
        return _Failed(
            "organizer_forbidden",
            f"Graph answered {said} for {who}, although the token carries {APP_PERMISSION}.",
            f"Check that {probe.user} is a user of tenant {settings.tenant_id} with a Teams licence and that the "
            f"access policy granted to them names app {settings.client_id}.",
        )
    if error.status == 404:
        return _Failed(
            "organizer_not_found",
            f"Graph answered {said} for {who}.",
            f"Set default_user_id to the object id of a user of tenant {settings.tenant_id} (Entra admin center > "
            "Users > the user > Object ID). Graph also answers 404 for users without a Teams licence.",
        )
    if error.status == 401:
        return _Failed(
            "graph_token_refused",
            f"Graph at {settings.graph_url} refused the access token: {said}.",
            "Run the check again (the token may have expired meanwhile); if it persists, check that host points "
            "at Microsoft Graph.",
        )
    if not error.permanent:
        return _Failed(
            "graph_unavailable",
            f"Graph could not answer right now: {said}.",
            "Throttling or an outage, not a setting: run the check again in a few minutes.",
        )
    if error.status == 400:
        # Microsoft documents no answer for a join URL that matches nothing; a 400 means Graph
        # accepted the token and permission but leaves the access policy unconfirmed.
        return _Outcome(
            f"Graph answered {said} to the read-only lookup for {who}, so the access policy could not be "
            "confirmed; createOrGet will tell.",
            skipped=True,
        )
    return _Failed("graph_error", f"Graph answered {said} for {who}.", "Follow Graph's message above.")


def step_organizer(check: _Check) -> _Outcome:
    """5. The organizer exists and the application access policy covers them (one read-only GET)."""
    settings = check.cfg
    probe = check.probe()
    if probe is None:
        return _Outcome(
            "No default_user_id: tasks name their organizer (user_id), and Graph checks the access policy for "
            "each when the task runs. Set default_user_id to check one organizer here.",
            skipped=True,
        )
    if probe.failure is not None:
        failure = probe.failure
        if isinstance(failure, (TransportError, ConnectionConfigError)):
            raise _network_failure(failure, where="graph", settings=settings)
        raise failure
    if probe.error is not None:
        found = _graph_failure(check, probe)
        if isinstance(found, _Failed):
            raise found
        return found
    if settings.delegated and not probe.user:
        return _Outcome("Graph answered the signed-in user's meetings lookup; delegated tokens need no access policy.")
    who = probe.user if probe.object_id == probe.user else f"{probe.user} (object id {probe.object_id})"
    return _Outcome(
        f"Organizer {who} exists and an application access policy lets the app act for them "
        "(a read-only meetings lookup answered 200; nothing was created)."
    )


#: The steps, in order: key, title, function.
STEPS: tuple[tuple[str, str, Callable[[_Check], _Outcome]], ...] = (
    ("settings", "Connection fields", step_settings),
    ("token", "Access token from Entra ID", step_token),
    ("permission", "Permission in the token", step_permission),
    ("audience", "Graph host and token audience", step_audience),
    ("organizer", "Organizer and application access policy", step_organizer),
)


def _scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    if text is None:
        return None
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def check_connection(hook: CheckableHook) -> CheckReport:
    """Run the steps in order against a hook's connection; stop at the first failure.

    :param hook: an :class:`~airflow_provider_meetings.hooks.online_meetings.OnlineMeetingsHook`
        or anything else with its ``conn_id``, ``settings``, ``client`` and ``get_connection``
    :return: one result per step; steps after a failure are ``not run``
    """
    check = _Check(hook)
    results: list[StepResult] = []
    failed = False
    for number, (key, title, step) in enumerate(STEPS, start=1):
        if failed:
            results.append(StepResult(number, key, title, Status.NOT_RUN))
            continue
        try:
            outcome = step(check)
        except _Failed as failure:
            failed = True
            results.append(StepResult(number, key, title, Status.FAILED, failure.message, failure.fix, failure.problem))
            continue
        except Exception as error:  # a failure the check has no name for: still one finding, still secret-free
            failed = True
            results.append(
                StepResult(
                    number,
                    key,
                    title,
                    Status.FAILED,
                    f"{type(error).__name__}: {error}",
                    "An unexpected error; the message above is all the check knows.",
                    "unexpected_error",
                )
            )
            continue
        status = Status.SKIPPED if outcome.skipped else Status.PASSED
        results.append(StepResult(number, key, title, status, outcome.message))
    scrubbed = tuple(
        StepResult(
            r.number,
            r.key,
            r.title,
            r.status,
            _scrub(r.message, check.secrets) or "",
            _scrub(r.fix, check.secrets),
            r.problem,
        )
        for r in results
    )
    return CheckReport(conn_id=hook.conn_id, steps=scrubbed)


#: Keep commands (New-CsApplicationAccessPolicy) and URLs whole when wrapping.
_WRAP = {"break_on_hyphens": False, "break_long_words": False}


def report_lines(report: CheckReport, *, width: int = 100) -> list[str]:
    """The report as text lines for a console: each step with its result, then the verdict."""
    import textwrap

    labels: Mapping[Status, str] = {
        Status.PASSED: "ok",
        Status.FAILED: "FAILED",
        Status.SKIPPED: "skipped",
        Status.NOT_RUN: "not run",
    }
    lines = [f"Checking connection {report.conn_id!r} (airflow-provider-meetings {__version__})"]
    for step in report.steps:
        lines.append(f"{step.number}. {step.title}: {labels[step.status]}")
        if step.message:
            lines.extend(textwrap.wrap(step.message, width, initial_indent="   ", subsequent_indent="   ", **_WRAP))
        if step.fix:
            lines.extend(
                textwrap.wrap(f"Fix: {step.fix}", width, initial_indent="   ", subsequent_indent="   ", **_WRAP)
            )
    failure = report.failure
    if failure is None:
        lines.append(f"OK: the connection {report.conn_id!r} passed every check.")
    else:
        lines.append(f"FAILED at check {failure.number} ({failure.title}): {failure.problem}.")
    return lines
