"""The emulator's behaviour, independent of the HTTP plumbing.

:class:`EmulatorService` answers discovery, token, Graph, batch and control calls with
:class:`Reply` objects; ``server.py`` only moves bytes. All state sits behind one lock.
"""

from __future__ import annotations

import html
import http
import json
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from meetings_emulator.config import EmulatorConfig, FederatedCredential, SeedUser
from meetings_emulator.directory import Directory
from meetings_emulator.entra import EntraEndpoints
from meetings_emulator.errors import (
    DirectoryObjectNotFound,
    EntraError,
    GraphError,
    InsufficientPrivileges,
    MethodNotAllowed,
    ParameterNotDefined,
    PropertyNotDefined,
    bad_request,
    tenant_not_found,
)
from meetings_emulator.faults import (
    FaultPlan,
    RandomFaults,
    RateLimiter,
    ScriptedFault,
    Stats,
    format_retry_after,
    parse_fault,
    parse_retry_after_seconds,
)
from meetings_emulator.graph_schema import undefined_property
from meetings_emulator.meetings import MeetingStore, require_join_url_organizer
from meetings_emulator.permissions import for_meeting_route, may_read_user, require
from meetings_emulator.persistence import load_state, save_state
from meetings_emulator.tokens import AccessToken, TokenService

log = logging.getLogger("meetings_emulator")

GRAPH_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
)
MAX_BATCH = 20


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


_VERSION_RE = re.compile(r"^/(v1\.0|beta)(/.*)$")
_ORGANIZER = r"^/(?:users/(?P<user>[^/]+)|(?P<me>me))/onlineMeetings"
_USER_SELECT_DEFAULT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_FILTER_RE = re.compile(r"^\s*joinWebUrl\s+eq\s+'(?P<v>(?:[^']|'')*)'\s*$", re.IGNORECASE)


@dataclass
class Reply:
    """One HTTP answer (or a batch item).

    :param status: HTTP status.
    :param body: a JSON-able object, ``str`` (sent as is) or ``None``.
    :param headers: response headers.
    :param drop: close the connection without answering.
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


@dataclass
class GraphRequest:
    """A Graph call, top-level or a batch item.

    :param method: HTTP method.
    :param path: path after the version segment, e.g. ``/users/x/onlineMeetings/createOrGet``.
    :param query: raw query string.
    :param headers: request headers (lower-case names).
    :param body: raw body bytes, or an already-decoded JSON object for batch items.
    :param version: ``v1.0`` or ``beta``.
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    version: str = "v1.0"


@dataclass(frozen=True)
class Route:
    """One Graph path pattern and the handler of each method it serves.

    :param pattern: regular expression on the path after the version segment.
    :param methods: HTTP method -> ``(route name for stats, EmulatorService method name)``.
    """

    pattern: re.Pattern[str]
    methods: dict[str, tuple[str, str]]


#: Every Graph route of the emulator, first match wins; a known path with another method is 405.
GRAPH_ROUTES: tuple[Route, ...] = (
    Route(
        re.compile(_ORGANIZER + r"/createOrGet/?$", re.IGNORECASE),
        {"POST": ("createOrGet", "_create_or_get")},
    ),
    Route(re.compile(_ORGANIZER + r"/?$", re.IGNORECASE), {"GET": ("listMeetings", "_list_meetings")}),
    Route(
        re.compile(_ORGANIZER + r"/(?P<meeting>[^/]+)/?$", re.IGNORECASE),
        {
            "GET": ("getMeeting", "_get_meeting"),
            "PATCH": ("updateMeeting", "_update_meeting"),
            "DELETE": ("deleteMeeting", "_delete_meeting"),
        },
    ),
    Route(re.compile(r"^/users/(?P<user>[^/]+)/?$", re.IGNORECASE), {"GET": ("getUser", "_get_user")}),
)


def resolve_route(method: str, path: str) -> tuple[str, str | None, re.Match[str] | None]:
    """``(route name, handler name, path match)``; the handler is ``None`` for a method the path lacks.

    An unknown path is ``("other", None, None)``.
    """
    for route in GRAPH_ROUTES:
        match = route.pattern.match(path)
        if match is None:
            continue
        if method in route.methods:
            name, handler = route.methods[method]
            return name, handler, match
        return next(iter(route.methods.values()))[0], None, match
    return "other", None, None


BATCH_ORDERS = ("inorder", "reverse", "shuffle")


class EmulatorService:
    """All state and behaviour of one emulator instance.

    :param config: the start-up configuration.
    :param base_url: the URL clients reach the emulator at (set again once bound).
    """

    def __init__(self, config: EmulatorConfig, base_url: str = "https://127.0.0.1") -> None:
        self.config = config
        self.base_url = base_url.rstrip("/")
        self.lock = threading.RLock()
        self.directory = Directory.from_config(config)
        self.tokens = TokenService(self.directory, config)
        self.entra = EntraEndpoints(self)
        self.meetings = MeetingStore()
        self.faults = FaultPlan()
        self.limiter = RateLimiter(config.rate_limit)
        self.rate_limit_retry_after = _retry_after_setting(config.rate_limit_retry_after)
        self.latency_ms = float(config.latency_ms)
        #: Order of ``$batch`` answers: Graph promises none, so clients must not rely on it.
        self.batch_order = "inorder"
        self.stats = Stats()
        self.sleep: Callable[[float], None] = time.sleep
        if config.state_file:
            state = load_state(config.state_file)
            for user in state.users:
                try:
                    self.directory.add_user(user)
                except ValueError as error:
                    log.warning("state file: user %s not restored: %s", user.id, error)
            for meeting in state.meetings:
                self.meetings.add(meeting)
            for user_id, granted in state.policies.items():
                if self.directory.find_user(user_id) is not None:
                    self.directory.set_policy(user_id, granted)

    # -- persistence ------------------------------------------------------------------------

    def _persist(self) -> None:
        if self.config.state_file:
            default = {u.id for u in self.directory.users if u.has_policy}
            policies = {
                u.id: self.directory.has_policy(u)
                for u in self.directory.users
                if self.directory.has_policy(u) != (u.id in default)
            }
            save_state(self.config.state_file, self.meetings.all(), policies, self.directory.users.added())

    # -- Entra ID ---------------------------------------------------------------------------

    def openid_configuration(self, tenant: str) -> Reply:
        """``GET /{tenant}/v2.0/.well-known/openid-configuration``."""
        if not self.directory.is_tenant(tenant):
            error = tenant_not_found(tenant)
            return Reply(400, error.body())
        base, tid = self.base_url, self.directory.tenant_id
        return Reply(
            200,
            {
                "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/{tid}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{base}/oidc/userinfo",
                "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/{tid}/oauth2/v2.0/logout",
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "tid", "oid"],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "emulator.invalid",
                "msgraph_host": urlsplit(base).netloc,
            },
        )

    def token(self, tenant: str, form: Mapping[str, str], correlation_id: str | None) -> Reply:
        """``POST /{tenant}/oauth2/v2.0/token``."""
        base = self.base_url
        endpoints = tuple(
            f"{base}/{t}/oauth2/v2.0/token" for t in (tenant, self.directory.tenant_id, self.directory.tenant_domain)
        )
        issuer = f"{base}/{self.directory.tenant_id}/v2.0"
        headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
        with self.lock:
            self.stats.token_requests += 1
            try:
                body = self.tokens.token_request(tenant, form, endpoints, issuer, base)
            except EntraError as error:
                self.stats.token_errors += 1
                log.info(
                    "token request refused: AADSTS%s %s (grant_type=%s)",
                    error.code,
                    error.error,
                    form.get("grant_type"),
                )
                return Reply(error.status, error.body(correlation_id), headers)
        log.info("token issued (grant_type=%s)", form.get("grant_type"))
        return Reply(200, body, headers)

    def take_fault(self, target: str, method: str, path: str, *, top_level: bool = True) -> ScriptedFault | None:
        """Consume the next scripted fault matching a request, if any (or draw a random one)."""
        with self.lock:
            fault = self.faults.take(target, method, path, top_level=top_level)
            if fault is not None:
                self.stats.faults_applied += 1
            return fault

    # -- Graph ------------------------------------------------------------------------------

    def graph(self, request: GraphRequest, *, top_level: bool = True) -> Reply:
        """One Graph request or batch item, with scripted faults and rate limiting.

        :param top_level: ``False`` for an item of a ``$batch`` (random faults hit the
            envelope, not its items)
        """
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id") or str(uuid.uuid4())
        if request.path.rstrip("/") == "/$batch":
            route, handler, match = "$batch", None, None
        else:
            route, handler, match = resolve_route(request.method, request.path)
        if route == "$batch":
            # Unmatched faults are meant for the items; the envelope only takes faults whose
            # ``match`` names it explicitly.
            with self.lock:
                fault = self.faults.take_explicit("graph", request.method, request.path)
                if fault is not None:
                    self.stats.faults_applied += 1
        else:
            fault = self.take_fault("graph", request.method, request.path, top_level=top_level)
        reply: Reply | None = None
        if fault is not None and fault.when == "before":
            if fault.kind == "slow":
                self.sleep(fault.seconds)
            else:
                reply = fault_reply(fault, graph=True, ids=(request_id, client_request_id))
        if reply is None:
            try:
                if route == "$batch":
                    reply = self._batch(request)
                else:
                    reply = self._graph_call(request, route, handler, match)
            except GraphError as error:
                reply = Reply(error.status, error.body(request_id, client_request_id), error.headers)
            if fault is not None and fault.when == "after":
                if fault.kind == "slow":
                    self.sleep(fault.seconds)
                else:
                    reply = fault_reply(fault, graph=True, ids=(request_id, client_request_id))
        reply.headers.setdefault("request-id", request_id)
        reply.headers.setdefault("client-request-id", client_request_id)
        if isinstance(reply.body, (dict, list)):
            reply.headers.setdefault("Content-Type", GRAPH_CONTENT_TYPE)
        with self.lock:
            if route == "$batch":
                self.stats.batches += 1
                self.stats.by_route.setdefault("$batch", {})
                key = "dropped" if reply.drop else str(reply.status)
                self.stats.by_route["$batch"][key] = self.stats.by_route["$batch"].get(key, 0) + 1
            else:
                self.stats.count_graph(route, "dropped" if reply.drop else reply.status)
        if self.config.log_requests:
            log.info(
                "%s /%s%s -> %s",
                request.method,
                request.version,
                request.path,
                "dropped" if reply.drop else reply.status,
            )
        return reply

    def _authenticate(self, headers: Mapping[str, str]) -> Any:
        challenge = {
            "WWW-Authenticate": (
                f'Bearer realm="", authorization_uri="{self.base_url}/common/oauth2/authorize", '
                'client_id="00000003-0000-0000-c000-000000000000"'
            )
        }
        value = headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        token = token.strip()
        if not value or scheme.lower() != "bearer" or not token:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.", challenge)
        with self.lock:
            record = self.tokens.lookup(token)
        if record is None and token.count(".") == 2:
            # A JWT this emulator did not issue (or issued before a restart): its signature does
            # not verify. Graph's text for that case is an assumption (docs/emulator.md).
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure.", challenge)
        if record is None:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "IDX14100: JWT is not well formed, there are no dots (.).\n"
                "The token needs to be in JWS or JWE Compact Serialization Format. "
                "(JWS): 'EncodedHeader.EndcodedPayload.EncodedSignature'. "
                "(JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector."
                "EncodedCiphertext.EncodedAuthenticationTag'.",
                challenge,
            )
        if record.expires_at <= time.time():
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
                challenge,
            )
        if record.audience.lower() not in (self.config.graph_resource.lower(), self.base_url.lower()):
            # A token for another resource, e.g. another national cloud's Graph (community-reported text).
            raise GraphError(
                401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.", challenge
            )
        return record

    def _graph_call(self, request: GraphRequest, route: str, handler: str | None, match: re.Match[str] | None) -> Reply:
        """Route checks, authentication and the rate limit, then the route's handler."""
        if match is None:
            segment = request.path.strip("/").split("/")[0] or request.path
            raise bad_request(f"Resource not found for the segment '{segment}'.")
        token = self._authenticate(request.headers)
        with self.lock:
            if not self.limiter.admit():
                headers = {}
                if self.rate_limit_retry_after is not None:
                    headers["Retry-After"] = format_retry_after(self.rate_limit_retry_after)
                raise GraphError(
                    429,
                    "TooManyRequests",
                    # Graph documents the 429 status, the TooManyRequests code and Retry-After
                    # (https://learn.microsoft.com/graph/throttling), not the message text:
                    # the same neutral text as a scripted 429 (assumption, docs/emulator.md).
                    "Too many requests.",
                    headers,
                )
        if handler is None:
            raise MethodNotAllowed(request.method)
        if route != "getUser":  # GET /users checks its own permission (user-get page)
            require(token, for_meeting_route(route, request.method))
        return getattr(self, handler)(request, match, token)

    # -- onlineMeetings: thin handlers over MeetingStore ---------------------------------------

    def _organizer(self, match: re.Match[str], token: AccessToken) -> SeedUser:
        """The organizer a meeting route acts for, with the access rules of the onlineMeetings pages."""
        if match["me"]:
            if not token.is_delegated:
                raise bad_request("/me request is only valid with delegated authentication flow.")
            return self.directory.require_user(token.user_id)
        key = unquote(match["user"])
        # The pages say {userId} is the user's object id; callers who put a UPN there have
        # reported 404s (an assumption, see docs/emulator.md), so only object ids resolve.
        user = self.directory.find_user(key) if GUID_RE.match(key) else None
        if user is None:
            raise GraphError(
                404,
                "NotFound",
                f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
            )
        if token.is_delegated and user.id != token.user_id:
            raise GraphError(403, "Forbidden", "Insufficient privileges to complete the operation.")
        if not token.is_delegated:
            # App tokens need an application access policy granted to the user
            # (https://learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy).
            with self.lock:
                allowed = self.directory.has_policy(user)
            if not allowed:
                raise GraphError(403, "Forbidden", "No Application Access Policy found for this app.")
        return user

    def _context(self, request: GraphRequest, user: SeedUser) -> str:
        return f"{self.base_url}/{request.version}/$metadata#users('{user.id}')/onlineMeetings"

    def _create_or_get(self, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
        """``POST .../onlineMeetings/createOrGet`` (learn.microsoft.com/graph/api/onlinemeeting-createorget)."""
        user = self._organizer(match, token)
        body = self._json_body(request)
        check_properties(body, "createOrGetPostRequestBody", request.version, operation="createOrGet")
        if request.version == "v1.0" and isinstance(body, dict) and "chatInfo" in body:
            # v1.0's createOrGet page lists no chatInfo (it is documented for beta): the emulator
            # ignores it there and answers the generated chatInfo (an assumption, docs/emulator.md).
            body = {k: v for k, v in body.items() if k != "chatInfo"}
        with self.lock:
            created, meeting = self.meetings.create_or_get(self.directory.tenant_id, user, body)
            if created:
                self.stats.meetings_created += 1
                self._persist()
        context = self._context(request, user)
        return Reply(201 if created else 200, {"@odata.context": f"{context}/$entity", **meeting})

    def _get_meeting(self, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
        """``GET .../onlineMeetings/{meetingId}``."""
        user = self._organizer(match, token)
        with self.lock:
            meeting = self.meetings.get(self.directory.tenant_id, user.id, unquote(match["meeting"]))
        return Reply(200, {"@odata.context": f"{self._context(request, user)}/$entity", **meeting})

    def _update_meeting(self, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
        """``PATCH .../onlineMeetings/{meetingId}`` (learn.microsoft.com/graph/api/onlinemeeting-update)."""
        user = self._organizer(match, token)
        body = self._json_body(request)
        check_properties(body, "onlineMeeting", request.version)
        with self.lock:
            meeting = self.meetings.update(self.directory.tenant_id, user.id, unquote(match["meeting"]), body)
            self._persist()
        return Reply(200, {"@odata.context": f"{self._context(request, user)}/$entity", **meeting})

    def _delete_meeting(self, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
        """``DELETE .../onlineMeetings/{meetingId}``: 204 (learn.microsoft.com/graph/api/onlinemeeting-delete)."""
        user = self._organizer(match, token)
        with self.lock:
            self.meetings.delete(self.directory.tenant_id, user.id, unquote(match["meeting"]))
            self.stats.meetings_deleted += 1
            self._persist()
        return Reply(204)

    def _list_meetings(self, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
        """``GET .../onlineMeetings?$filter=joinWebUrl eq '...'`` (the only listing Graph offers)."""
        user = self._organizer(match, token)
        query = parse_qs(request.query, keep_blank_values=True)
        expression = (query.get("$filter") or query.get("%24filter") or [""])[0]
        filter_match = _FILTER_RE.match(expression)
        if filter_match is None:
            raise bad_request("Filter expression expected - /onlineMeetings?$filter=joinWebUrl eq '{joinWebUrl}'.")
        url = filter_match["v"].replace("''", "'")
        require_join_url_organizer(url, user.id)  # Graph matches the join URL's organizer
        with self.lock:
            found = self.meetings.find_by_join_web_url(self.directory.tenant_id, user.id, url)
        return Reply(200, {"@odata.context": self._context(request, user), "value": found})

    # -- users ----------------------------------------------------------------------------------

    def _get_user(self, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
        """``GET /users/{id | userPrincipalName}`` with optional ``$select``.

        Needs the application permission ``User.Read.All``, or delegated ``User.ReadBasic.All``
        (least privileged) or ``User.Read.All``; a delegated token may also read its own user
        with ``User.Read`` (https://learn.microsoft.com/graph/api/user-get#permissions;
        :func:`~meetings_emulator.permissions.may_read_user`).
        """
        key = unquote(match["user"])
        user = self.directory.find_user(key)
        if not may_read_user(token, user.id if user is not None else None):
            raise InsufficientPrivileges()
        if user is None:
            raise DirectoryObjectNotFound(key)
        resource: dict[str, Any] = {
            "businessPhones": [],
            "displayName": user.display_name,
            "givenName": None,
            "jobTitle": None,
            "mail": user.user_principal_name,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": None,
            "surname": None,
            "userPrincipalName": user.user_principal_name,
            "id": user.id,
        }
        query = parse_qs(request.query, keep_blank_values=True)
        select = (query.get("$select") or query.get("%24select") or [""])[0]
        context = f"{self.base_url}/{request.version}/$metadata#users"
        if select.strip():
            names = [n.strip() for n in select.split(",") if n.strip()]
            for name in names:
                if name not in resource:
                    raise bad_request(f"Could not find a property named '{name}' on type 'microsoft.graph.user'.")
            resource = {n: resource[n] for n in names}
            context += f"({','.join(names)})"
        return Reply(200, {"@odata.context": f"{context}/$entity", **resource})

    @staticmethod
    def _json_body(request: GraphRequest) -> Any:
        body = request.body
        if isinstance(body, (bytes, bytearray)):
            if not body.strip():
                raise bad_request("Empty Payload. JSON content expected.")
            try:
                return json.loads(body)
            except ValueError:
                raise bad_request(
                    "Unable to read JSON request payload. Please ensure Content-Type "
                    "header is set and payload is of valid JSON format."
                ) from None
        if body is None:
            raise bad_request("Empty Payload. JSON content expected.")
        return body

    def _batch(self, request: GraphRequest) -> Reply:
        if request.method != "POST":
            raise MethodNotAllowed(request.method)
        self._authenticate(request.headers)
        payload = self._json_body(request)
        items = payload.get("requests") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise bad_request("Invalid batch payload format.")
        if len(items) > MAX_BATCH:
            raise bad_request(f"Number of batch request steps exceeds the maximum of {MAX_BATCH}.")
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, dict) or not item.get("id") or not item.get("method") or not item.get("url"):
                raise bad_request("Invalid batch payload format. Each request needs id, method and url.")
            item_id = str(item["id"])
            if item_id in seen:
                raise bad_request(f"Batch request ids must be unique; '{item_id}' is repeated.")
            seen.add(item_id)
            headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
            if item.get("body") is not None and "content-type" not in headers:
                raise bad_request(f"Write request id : {item_id} does not contain Content-Type header or body.")
        with self.lock:
            self.stats.batch_items += len(items)
        responses = []
        drop = False
        for item in items:
            item_headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
            item_headers.setdefault("authorization", request.headers.get("authorization", ""))
            url = str(item["url"])
            if url.lower().startswith("https://"):
                url = urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else "")
            if not url.startswith("/"):
                url = "/" + url
            version_match = _VERSION_RE.match(url)
            if version_match:
                url = version_match.group(2)
            path, _, query = url.partition("?")
            sub = GraphRequest(
                method=str(item["method"]).upper(),
                path=path,
                query=query,
                headers=item_headers,
                body=item.get("body"),
                version=request.version,
            )
            reply = self.graph(sub, top_level=False)
            drop = drop or reply.drop
            item_response_headers = {
                k: v for k, v in reply.headers.items() if k.lower() not in ("request-id", "client-request-id")
            }
            responses.append(
                {
                    "id": str(item["id"]),
                    "status": 502 if reply.drop else reply.status,
                    "headers": item_response_headers,
                    "body": reply.body,
                }
            )
        if self.batch_order == "reverse":
            responses.reverse()
        elif self.batch_order == "shuffle":
            random.shuffle(responses)
        # "Requests in a batch are evaluated individually against throttling limits and if any
        # request exceeds the limits, it fails with a status of 429 [...]. The batch itself
        # fails with a status code of 424 (Failed Dependency)."
        # (https://learn.microsoft.com/graph/throttling, "Throttling and batching"). The
        # envelope still carries every item's response; otherwise a batch answers 200.
        throttled = any(r["status"] == 429 for r in responses)
        return Reply(424 if throttled else 200, {"responses": responses}, drop=drop)

    # -- control ----------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Identity of the running emulator (URL, tenant, client, users)."""
        with self.lock:
            return {
                "url": self.base_url,
                "tenant_id": self.directory.tenant_id,
                "tenant_domain": self.directory.tenant_domain,
                "client_id": self.directory.client_id,
                "client_secret": self.directory.client_secret,
                "expired_client_secrets": list(self.directory.expired_client_secrets),
                "default_user_id": self.config.organizer.id,
                "refresh_tokens": dict(self.directory.refresh_tokens),
                "public_refresh_tokens": dict(self.directory.public_refresh_tokens),
                "app_roles": sorted(self.directory.app_roles),
                "delegated_scopes": sorted(self.directory.delegated_scopes),
                "allow_public_client": self.directory.allow_public_client,
                "graph_resource": self.config.graph_resource,
                "users": self.directory.users_json(),
            }

    def set_latency(self, ms: float) -> None:
        """Latency added to each Graph HTTP request."""
        if ms < 0:
            raise ValueError("latency must not be negative")
        with self.lock:
            self.latency_ms = float(ms)

    def set_batch_order(self, order: str) -> None:
        """Answer ``$batch`` items ``inorder``, in ``reverse`` or ``shuffle``d."""
        if order not in BATCH_ORDERS:
            raise ValueError(f"batch order must be one of {BATCH_ORDERS}")
        with self.lock:
            self.batch_order = order

    def issued_tokens(self) -> list[str]:
        """Every access token issued so far (for leak checks in tests)."""
        with self.lock:
            return self.tokens.issued()

    def set_rate_limit(self, per_second: float | None, retry_after: float | None | str = "keep") -> None:
        """Graph requests per second (``None``: unlimited).

        :param per_second: the limit, counted over a sliding second, throttled requests included.
        :param retry_after: seconds in ``Retry-After`` of a rate-limit 429 (decimals allowed,
            e.g. ``2.128``); ``None`` omits the header; ``"keep"`` leaves it as it is.
        """
        if per_second is not None and per_second <= 0:
            raise ValueError("rate limit must be positive or None")
        if retry_after not in ("keep", None):
            retry_after = parse_retry_after_seconds(retry_after)
        with self.lock:
            self.limiter.configure(per_second)
            if retry_after != "keep":
                self.rate_limit_retry_after = retry_after

    def script(self, fault: Any, **options: Any) -> ScriptedFault:
        """Queue a scripted fault (see :func:`~.faults.parse_fault`)."""
        parsed = parse_fault(fault, **options)
        with self.lock:
            self.faults.add(parsed)
        return parsed

    def clear_faults(self) -> None:
        """Drop every queued fault and stop random faults."""
        with self.lock:
            self.faults.clear()

    def set_random_faults(self, rate: float, faults: list[Any], **options: Any) -> dict[str, Any]:
        """Start random faults (see :class:`~.faults.RandomFaults`); replaces earlier ones."""
        parsed = RandomFaults.parse(rate, faults, **options)
        with self.lock:
            self.faults.random = parsed
            return parsed.to_json()

    def random_faults(self) -> dict[str, Any] | None:
        """The random faults in force, with how many were applied, or ``None``."""
        with self.lock:
            return self.faults.random.to_json() if self.faults.random else None

    def pending_faults(self) -> list[dict[str, Any]]:
        """Faults still queued."""
        with self.lock:
            return self.faults.pending()

    def expire_tokens(self) -> int:
        """Expire every issued access token now."""
        with self.lock:
            return self.tokens.expire_all()

    def set_policy(self, user_id: str, granted: bool) -> dict[str, Any]:
        """Grant or revoke a user's application access policy; raises ``KeyError``."""
        with self.lock:
            user = self.directory.set_policy(user_id, granted)
            self._persist()
            return {"id": user.id, "hasPolicy": granted}

    def add_certificate(self, pem: str) -> dict[str, str]:
        """Register a certificate on the app; returns its thumbprints."""
        with self.lock:
            cert = self.directory.add_certificate(pem)
        return {"x5t": cert.sha1, "x5t#S256": cert.sha256}

    def add_federated_credential(self, credential: FederatedCredential | Mapping[str, Any]) -> None:
        """Register a federated identity credential on the app."""
        if not isinstance(credential, FederatedCredential):
            credential = FederatedCredential(**credential)
        with self.lock:
            self.directory.add_federated_credential(credential)

    def list_meetings(self) -> list[dict[str, Any]]:
        """Stored meetings with tenant, user and externalId."""
        with self.lock:
            return [m.to_json() for m in self.meetings.all()]

    def stats_json(self) -> dict[str, Any]:
        """Counters, plus the current latency, rate limit and pending faults."""
        with self.lock:
            data = self.stats.to_json()
            data["meetings"] = len(self.meetings)
            data["latency_ms"] = self.latency_ms
            data["rate_limit"] = self.limiter.per_second
            data["rate_limit_retry_after"] = self.rate_limit_retry_after
            data["pending_faults"] = len(self.faults.pending())
            data["batch_order"] = self.batch_order
            return data

    def reset(self, tokens: bool = False, users: bool = False) -> None:
        """Back to the start-up state: no meetings, faults, counters; seeded policies, app roles,
        public client setting; seeded refresh tokens valid again.

        Issued access tokens, refresh tokens and device codes stay valid unless ``tokens=True``
        (clients cache them). Users added at run time stay (with the policy they were added
        with) unless ``users=True``.
        """
        with self.lock:
            self.meetings.clear()
            self.faults.clear()
            self.stats = Stats()
            self.latency_ms = float(self.config.latency_ms)
            self.batch_order = "inorder"
            self.limiter.configure(self.config.rate_limit)
            self.rate_limit_retry_after = _retry_after_setting(self.config.rate_limit_retry_after)
            if users:
                self.directory.users.drop_added()
            self.directory.reset_policies()
            self.directory.app_roles = set(self.config.app_roles)
            self.directory.allow_public_client = self.config.allow_public_client
            if tokens:
                self.tokens.clear()
            else:
                self.tokens.refresh_tokens.reset(forget_minted=False)
            self._persist()


def check_properties(body: Any, type_name: str, version: str, operation: str | None = None) -> None:
    """Raise Graph's 400 for the first property ``type_name`` does not define in ``version``.

    :param operation: for an action body (``createOrGet``), an unknown top-level name is an
        unknown parameter of that operation; deeper ones are unknown properties of their type.
    """
    found = undefined_property(body, type_name, version)
    if found is None:
        return
    path, owner = found
    name = path.rsplit(".", 1)[-1]
    if operation is not None and "." not in path:
        raise ParameterNotDefined(name, operation)
    raise PropertyNotDefined(name, owner)


def _retry_after_setting(value: float | None) -> float | None:
    return None if value is None else parse_retry_after_seconds(value)


def fault_reply(fault: ScriptedFault, graph: bool, ids: tuple[str, str] = ("", "")) -> Reply:
    """The answer a scripted fault stands for (``slow`` is handled by the caller)."""
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
    codes = {
        401: ("InvalidAuthenticationToken", "Access token has expired or is not yet valid."),
        429: ("TooManyRequests", "Too many requests."),
        500: ("InternalServerError", "An internal server error occurred."),
        502: ("BadGateway", "Bad gateway."),
        503: ("ServiceNotAvailable", "The service is temporarily unavailable. Retry later."),
        504: ("GatewayTimeout", "The gateway timed out."),
    }
    code, message = codes.get(status, ("UnknownError", f"Scripted error {status}."))
    if graph:
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="", error="invalid_token"'
        return Reply(status, GraphError(status, code, message).body(*ids), headers)
    error = "temporarily_unavailable" if status >= 500 or status == 429 else "invalid_request"
    return Reply(status, EntraError(status, error, 50196 if status == 429 else 90033, message).body(), headers)
