"""Configuration of the emulator: the seeded directory and the start-up knobs.

Everything here is plain data so that it can be built from CLI flags, from keyword
arguments of :func:`~meetings_emulator.run_emulator` or from JSON.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

#: Fixed identifiers of the seeded directory (documented in docs/emulator.md).
DEFAULT_TENANT_ID = "5f1c8f0e-7c3a-4b6e-9d2a-3e8b1a6c4d70"
DEFAULT_TENANT_DOMAIN = "contoso.example"
DEFAULT_CLIENT_ID = "8a2d4c6e-1b3f-4e5a-9c7d-2f4b6d8e0a13"
#: A test secret, printed on start-up on purpose: it protects nothing.
DEFAULT_CLIENT_SECRET = "emulator-test-secret~not-for-production"
#: A secret of the app whose end date has passed: presenting it answers AADSTS7000222.
DEFAULT_EXPIRED_CLIENT_SECRET = "emulator-expired-secret~not-for-production"
#: Refresh token of a confidential client (redeemed with the client's credential), for Adele.
DEFAULT_REFRESH_TOKEN = "emulator-refresh-token-adele-vance"
#: Refresh token of a public client (device code flow; redeemed without any credential), for Adele.
DEFAULT_PUBLIC_REFRESH_TOKEN = "emulator-public-refresh-token-adele-vance"

ORGANIZER_ID = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
ALEX_ID = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"
MEGAN_ID = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c03"
NOPOLICY_ID = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c04"

#: Graph roots of the national clouds; ``<root>/.default`` is an accepted scope.
GRAPH_ROOTS = (
    "https://graph.microsoft.com",
    "https://graph.microsoft.us",
    "https://dod-graph.microsoft.us",
    "https://microsoftgraph.chinacloudapi.cn",
)
#: Application permissions the seeded app holds with admin consent (an app token's ``roles``):
#: createOrGet needs OnlineMeetings.ReadWrite.All; resolving a UPN with GET /users needs User.Read.All.
#: Calendar events (POST /users/{id}/events) need Calendars.ReadWrite; the meeting artifacts
#: (attendance, transcripts, recordings) their three read permissions.
ARTIFACT_PERMISSIONS = (
    "OnlineMeetingArtifact.Read.All",
    "OnlineMeetingTranscript.Read.All",
    "OnlineMeetingRecording.Read.All",
)
DEFAULT_APP_ROLES = ("OnlineMeetings.ReadWrite.All", "User.Read.All", "Calendars.ReadWrite", *ARTIFACT_PERMISSIONS)
#: Delegated permissions consented for the seeded app (a delegated token's ``scp``).
DEFAULT_DELEGATED_SCOPES = ("OnlineMeetings.ReadWrite", "User.Read", "Calendars.ReadWrite", *ARTIFACT_PERMISSIONS)
#: The audience Entra expects in a federated (workload identity) assertion by default.
DEFAULT_FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
#: The Graph resource the emulator stands for: tokens whose ``aud`` is another resource are refused.
DEFAULT_GRAPH_RESOURCE = "https://graph.microsoft.com"
#: "The default lifetime for the refresh tokens is [...] 90 days for all other scenarios"
#: (https://learn.microsoft.com/entra/identity-platform/refresh-tokens#token-lifetime).
DEFAULT_REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600
#: "From the moment the request is sent, the user has 15 minutes to sign in. This is the default
#: value for expires_in." (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code)
DEFAULT_DEVICE_CODE_LIFETIME = 900
#: Seconds between device-code polls that the device authorization response asks for.
DEFAULT_DEVICE_CODE_INTERVAL = 5


#: An Entra object id as Entra writes it: a GUID in its 8-4-4-4-12 form (the ``oid`` claim,
#: https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
OBJECT_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def is_object_id(value: object) -> bool:
    """Whether ``value`` is an object id (the one check of it: users' ids, ``{userId}`` of onlineMeetings)."""
    return isinstance(value, str) and OBJECT_ID_RE.match(value) is not None


@dataclass(frozen=True)
class SeedUser:
    """A user of the emulated tenant.

    :param id: Entra object id (GUID).
    :param user_principal_name: UPN, also accepted as ``{userId}`` in Graph URLs.
    :param display_name: shown as the organizer's ``displayName``.
    :param has_policy: whether an application access policy is granted to this user.
    """

    id: str
    user_principal_name: str
    display_name: str
    has_policy: bool = True

    def __post_init__(self) -> None:
        if not is_object_id(self.id):
            raise ValueError(f"user id {self.id!r} is not an Entra object id (a GUID, 8-4-4-4-12)")
        if not isinstance(self.user_principal_name, str) or "@" not in self.user_principal_name.strip("@"):
            raise ValueError(f"user principal name {self.user_principal_name!r} is not of the form name@domain")
        if not isinstance(self.display_name, str) or not self.display_name.strip():
            raise ValueError(f"user {self.id}: display name must not be empty")
        if not isinstance(self.has_policy, bool):
            raise ValueError(f"user {self.id}: has_policy must be true or false")

    @classmethod
    def parse(cls, spec: str) -> SeedUser:
        """A user from ``ID,UPN,Display Name[,policy=yes|no]`` (the ``--user`` form; CSV quoting allowed).

        :param spec: e.g. ``0b6c...c09,dana@contoso.example,Dana Scully,policy=no``.
        """
        fields = next(csv.reader([spec], skipinitialspace=True), [])
        fields = [f.strip() for f in fields]
        has_policy = True
        if len(fields) == 4:
            key, _, value = fields[3].partition("=")
            if key.lower() != "policy" or value.lower() not in ("yes", "no", "true", "false"):
                raise ValueError(f"4th field of {spec!r} must be policy=yes or policy=no, got {fields[3]!r}")
            has_policy = value.lower() in ("yes", "true")
            fields = fields[:3]
        if len(fields) != 3:
            raise ValueError(f"expected ID,UPN,Display Name[,policy=no], got {spec!r}")
        return cls(fields[0], fields[1], fields[2], has_policy)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeedUser:
        """A user from its JSON form (``id``, ``userPrincipalName``, ``displayName``, ``hasPolicy``).

        The snake_case field names of this class are accepted too.
        """
        known = {"id", "userPrincipalName", "displayName", "hasPolicy"} | {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown user field(s): {', '.join(unknown)}")
        try:
            return cls(
                id=data["id"],
                user_principal_name=data.get("userPrincipalName", data.get("user_principal_name")),
                display_name=data.get("displayName", data.get("display_name")),
                has_policy=data.get("hasPolicy", data.get("has_policy", True)),
            )
        except KeyError as error:
            raise ValueError(f"user needs field {error.args[0]!r}") from None

    def to_json(self) -> dict[str, Any]:
        """The JSON form (without the current policy state, which the directory holds)."""
        return {
            "id": self.id,
            "userPrincipalName": self.user_principal_name,
            "displayName": self.display_name,
            "hasPolicy": self.has_policy,
        }


@dataclass(frozen=True)
class FederatedCredential:
    """A federated identity credential of the app (workload identity federation).

    :param issuer: required ``iss`` of the presented assertion.
    :param subject: required ``sub`` of the presented assertion.
    :param audience: required ``aud`` (Entra's default is ``api://AzureADTokenExchange``).
    :param public_key_pem: if set, the assertion's signature is verified against this
        key (RS256/PS256/ES256); if not, any well-formed unexpired JWT whose
        ``iss``/``sub``/``aud`` match is accepted.
    """

    issuer: str
    subject: str
    audience: str = DEFAULT_FEDERATED_AUDIENCE
    public_key_pem: str | None = None


def default_users() -> tuple[SeedUser, ...]:
    """The seeded users: an organizer, two attendees and one user without a policy."""
    domain = DEFAULT_TENANT_DOMAIN
    return (
        SeedUser(ORGANIZER_ID, f"adelev@{domain}", "Adele Vance"),
        SeedUser(ALEX_ID, f"alexw@{domain}", "Alex Wilber"),
        SeedUser(MEGAN_ID, f"meganb@{domain}", "Megan Bowen"),
        SeedUser(NOPOLICY_ID, f"nopolicy@{domain}", "No Policy", has_policy=False),
    )


@dataclass
class EmulatorConfig:
    """Everything the emulator needs to start.

    :param host: interface to bind; loopback by default.
    :param port: TCP port; 0 picks a free one.
    :param tenant_id: the tenant GUID.
    :param tenant_domain: the tenant's verified domain (also accepted in authority URLs).
    :param client_id: the confidential client app id.
    :param client_secret: its secret; ``None`` registers no secret.
    :param expired_client_secrets: secrets of the app whose end date has passed (Entra answers
        AADSTS7000222 for them, not AADSTS7000215).
    :param certificates: PEM certificates registered on the app (for client assertions).
    :param federated_credentials: federated identity credentials of the app.
    :param users: the seeded users.
    :param refresh_tokens: refresh token -> user id (object id or UPN), for delegated mode: tokens
        of a confidential client, redeemed with the client's credential.
    :param public_refresh_tokens: the same for tokens of a public client (device code flow),
        redeemed without any client credential.
    :param app_roles: application permissions granted to the app with admin consent (``roles``
        of app tokens).
    :param delegated_scopes: delegated permissions consented for the app (``scp`` of delegated tokens).
    :param allow_public_client: the app registration's "Allow public client flows" setting; the
        device code flow without a client credential needs it.
    :param graph_resource: the Graph resource this emulator stands for; access tokens for any
        other audience (another national cloud) are refused with 401.
    :param token_lifetime: access token lifetime in seconds.
    :param refresh_token_lifetime: refresh token lifetime in seconds (90 days by default).
    :param device_code_lifetime: seconds a device code stays valid (``expires_in``).
    :param device_code_interval: seconds between polls the device code response asks for.
    :param latency_ms: latency added to every Graph HTTP request.
    :param rate_limit: Graph requests per sliding second (batch items counted one by one,
        throttled requests included, as Graph keeps counting usage while it throttles);
        ``None`` means unlimited.
    :param rate_limit_retry_after: ``Retry-After`` seconds on a rate-limit 429, decimals
        allowed (Graph's own sample sends ``2.128``); ``None`` omits the header.
    :param mailbox_concurrency: Outlook's limit of requests at a time per app and mailbox on
        the events routes (Graph's is 4, ``mailboxes.OUTLOOK_CONCURRENCY``); ``None`` (the
        default) leaves it off.
    :param mailbox_retry_after: ``Retry-After`` seconds of its 429; ``None`` (the default)
        omits the header, so that a client's own backoff is exercised (the throttling page's
        "provide a Retry-After header except when noted" does not note Outlook, so real
        Outlook may send one: set this to test that path).
    :param state_file: JSON file persisting meetings and policy changes across restarts.
    :param ca_file: where to write the throwaway CA certificate (PEM); a temp file if unset.
    :param log_requests: log one line per request to stderr.
    """

    host: str = "127.0.0.1"
    port: int = 0
    tenant_id: str = DEFAULT_TENANT_ID
    tenant_domain: str = DEFAULT_TENANT_DOMAIN
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str | None = DEFAULT_CLIENT_SECRET
    expired_client_secrets: tuple[str, ...] = (DEFAULT_EXPIRED_CLIENT_SECRET,)
    certificates: list[str] = field(default_factory=list)
    federated_credentials: list[FederatedCredential] = field(default_factory=list)
    users: tuple[SeedUser, ...] = field(default_factory=default_users)
    refresh_tokens: dict[str, str] = field(default_factory=lambda: {DEFAULT_REFRESH_TOKEN: ORGANIZER_ID})
    public_refresh_tokens: dict[str, str] = field(default_factory=lambda: {DEFAULT_PUBLIC_REFRESH_TOKEN: ORGANIZER_ID})
    app_roles: tuple[str, ...] = DEFAULT_APP_ROLES
    delegated_scopes: tuple[str, ...] = DEFAULT_DELEGATED_SCOPES
    allow_public_client: bool = True
    graph_resource: str = DEFAULT_GRAPH_RESOURCE
    token_lifetime: int = 3600
    refresh_token_lifetime: int = DEFAULT_REFRESH_TOKEN_LIFETIME
    device_code_lifetime: int = DEFAULT_DEVICE_CODE_LIFETIME
    device_code_interval: int = DEFAULT_DEVICE_CODE_INTERVAL
    latency_ms: float = 0.0
    rate_limit: float | None = None
    rate_limit_retry_after: float | None = 1
    mailbox_concurrency: int | None = None
    mailbox_retry_after: float | None = None
    state_file: str | None = None
    ca_file: str | None = None
    log_requests: bool = False

    def __post_init__(self) -> None:
        if not self.graph_resource.lower().startswith("https://"):
            raise ValueError(f"graph_resource must be an https URL such as {DEFAULT_GRAPH_RESOURCE}")
        self.graph_resource = self.graph_resource.rstrip("/")
        for name in ("token_lifetime", "refresh_token_lifetime", "device_code_lifetime"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative (0: tokens are expired when issued)")
        if self.device_code_interval < 1:
            raise ValueError("device_code_interval must be at least 1 second")

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> EmulatorConfig:
        """Build a config from keyword arguments, rejecting unknown names early."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(f"unknown emulator option(s): {', '.join(unknown)}")
        config = cls(**kwargs)
        config.users = tuple(u if isinstance(u, SeedUser) else SeedUser.from_json(u) for u in config.users)
        config.app_roles = tuple(config.app_roles)
        config.expired_client_secrets = tuple(config.expired_client_secrets)
        config.delegated_scopes = tuple(config.delegated_scopes)
        config.federated_credentials = [
            c if isinstance(c, FederatedCredential) else FederatedCredential(**c) for c in config.federated_credentials
        ]
        return config

    @property
    def organizer(self) -> SeedUser:
        """The first seeded user: the default organizer (``default_user_id``)."""
        return self.users[0]
