"""The emulated directory: one tenant, one app registration and its users."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from meetings_emulator.config import (
    EmulatorConfig,
    FederatedCredential,
    SeedUser,
)
from meetings_emulator.signing import b64url, x5t


@dataclass
class RegisteredCertificate:
    """A certificate registered on the app, indexed by its thumbprints.

    :param pem: the certificate in PEM form.
    :param sha1: SHA-1 thumbprint, base64url without padding (the JWT ``x5t`` form).
    :param sha256: SHA-256 thumbprint, base64url without padding (``x5t#S256``).
    :param der: the certificate in DER form (matches an ``x5c`` entry).
    """

    pem: str
    sha1: str
    sha256: str
    der: bytes

    @classmethod
    def from_pem(cls, pem: str | bytes) -> RegisteredCertificate:
        """Parse a PEM certificate; raises ``ValueError`` if it is not one."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        data = pem.encode() if isinstance(pem, str) else pem
        cert = x509.load_pem_x509_certificate(data)
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(
            pem=data.decode(),
            sha1=x5t(der),
            sha256=b64url(hashlib.sha256(der).digest()),
            der=der,
        )

    def public_key(self) -> Any:
        """The certificate's public key (a ``cryptography`` key object)."""
        from cryptography import x509

        return x509.load_der_x509_certificate(self.der).public_key()


class UserTable:
    """The tenant's users in the order they were added, found by object id or UPN (any case).

    Users configured at start-up are *seeded*; users added at run time are not, so that
    ``reset(users=True)`` can drop them again.

    :param seed: the start-up users.
    """

    def __init__(self, seed: Iterable[SeedUser] = ()) -> None:
        self._users: dict[str, SeedUser] = {}
        self._keys: dict[str, str] = {}
        self._seeded: set[str] = set()
        for user in seed:
            self.add(user)
            self._seeded.add(user.id.lower())

    def __iter__(self) -> Iterator[SeedUser]:
        return iter(list(self._users.values()))

    def __len__(self) -> int:
        return len(self._users)

    def __getitem__(self, index: int) -> SeedUser:
        return list(self._users.values())[index]

    def find(self, key: str) -> SeedUser | None:
        """A user by object id or UPN (case-insensitive), or ``None``."""
        user_id = self._keys.get(key.lower())
        return None if user_id is None else self._users[user_id]

    def add(self, user: SeedUser) -> bool:
        """Add ``user``; ``False`` if exactly this user is already there.

        :raises ValueError: another user already has this object id or UPN.
        """
        for key in (user.id, user.user_principal_name):
            existing = self.find(key)
            if existing is not None and existing != user:
                raise ValueError(
                    f"{key!r} already belongs to user {existing.id} ({existing.user_principal_name}, "
                    f"{existing.display_name!r})"
                )
        if self.find(user.id) is not None:
            return False
        user_id = user.id.lower()
        self._users[user_id] = user
        self._keys[user_id] = user_id
        self._keys[user.user_principal_name.lower()] = user_id
        return True

    def added(self) -> list[SeedUser]:
        """Users added after start-up."""
        return [u for key, u in self._users.items() if key not in self._seeded]

    def drop_added(self) -> None:
        """Remove every user added after start-up."""
        for user in self.added():
            user_id = user.id.lower()
            del self._users[user_id]
            del self._keys[user_id]
            del self._keys[user.user_principal_name.lower()]


@dataclass
class Directory:
    """Tenant, app and users, plus who has an application access policy.

    :param tenant_id: the tenant GUID.
    :param tenant_domain: the tenant's domain.
    :param client_id: the app id.
    :param client_secret: the app secret (``None``: no secret registered).
    :param expired_client_secrets: secrets of the app past their end date.
    :param users: the users.
    :param refresh_tokens: seeded confidential-client refresh token -> user object id.
    :param public_refresh_tokens: seeded public-client refresh token -> user object id.
    """

    tenant_id: str
    tenant_domain: str
    client_id: str
    client_secret: str | None
    users: UserTable
    refresh_tokens: dict[str, str]
    public_refresh_tokens: dict[str, str] = field(default_factory=dict)
    expired_client_secrets: tuple[str, ...] = ()
    #: The app registration's "Allow public client flows" (``isFallbackPublicClient``).
    allow_public_client: bool = True
    certificates: list[RegisteredCertificate] = field(default_factory=list)
    federated_credentials: list[FederatedCredential] = field(default_factory=list)
    policy_user_ids: set[str] = field(default_factory=set)
    #: Application permissions granted to the app (with admin consent): an app token's ``roles``.
    app_roles: set[str] = field(default_factory=set)
    #: Delegated permissions consented for the app: a delegated token's ``scp``.
    delegated_scopes: set[str] = field(default_factory=set)

    @classmethod
    def from_config(cls, config: EmulatorConfig) -> Directory:
        """Build the directory described by ``config``."""
        directory = cls(
            tenant_id=config.tenant_id.lower(),
            tenant_domain=config.tenant_domain.lower(),
            client_id=config.client_id.lower(),
            client_secret=config.client_secret,
            expired_client_secrets=tuple(config.expired_client_secrets),
            users=UserTable(config.users),
            refresh_tokens={},
            federated_credentials=list(config.federated_credentials),
            app_roles=set(config.app_roles),
            delegated_scopes=set(config.delegated_scopes),
            allow_public_client=config.allow_public_client,
        )
        for pem in config.certificates:
            directory.add_certificate(pem)
        for seeds, table in (
            (config.refresh_tokens, directory.refresh_tokens),
            (config.public_refresh_tokens, directory.public_refresh_tokens),
        ):
            for token, user in seeds.items():
                resolved = directory.find_user(user)
                if resolved is None:
                    raise ValueError(f"refresh token mapped to unknown user {user!r}")
                table[token] = resolved.id
        directory.reset_policies()
        return directory

    @property
    def service_principal_id(self) -> str:
        """Object id of the app's service principal: ``oid``/``sub`` of its app tokens (derived, stable)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"serviceprincipal:{self.tenant_id}/{self.client_id}"))

    def reset_policies(self) -> None:
        """Grant policies as the seed says (every user but those with ``has_policy=False``)."""
        self.policy_user_ids = {u.id for u in self.users if u.has_policy}

    def add_user(self, user: SeedUser) -> SeedUser:
        """Add a user at run time, with the access policy its ``has_policy`` says.

        :raises ValueError: its object id or UPN belongs to another user.
        """
        if self.users.add(user) and user.has_policy:
            self.policy_user_ids.add(user.id)
        return user

    def is_tenant(self, tenant: str) -> bool:
        """Whether ``tenant`` (GUID or domain, any case) names the emulated tenant."""
        return tenant.lower() in (self.tenant_id, self.tenant_domain)

    def find_user(self, user_id: str) -> SeedUser | None:
        """A user by object id or UPN (case-insensitive), or ``None``."""
        return self.users.find(user_id)

    def require_user(self, user_id: str) -> SeedUser:
        """Like :meth:`find_user` but raises ``KeyError`` for an unknown user."""
        user = self.find_user(user_id)
        if user is None:
            raise KeyError(user_id)
        return user

    def has_policy(self, user: SeedUser) -> bool:
        """Whether an application access policy is granted to ``user``."""
        return user.id in self.policy_user_ids

    def set_policy(self, user_id: str, granted: bool) -> SeedUser:
        """Grant or revoke the application access policy of a user."""
        user = self.require_user(user_id)
        if granted:
            self.policy_user_ids.add(user.id)
        else:
            self.policy_user_ids.discard(user.id)
        return user

    def add_certificate(self, pem: str | bytes) -> RegisteredCertificate:
        """Register a certificate on the app (idempotent)."""
        cert = RegisteredCertificate.from_pem(pem)
        if all(c.sha256 != cert.sha256 for c in self.certificates):
            self.certificates.append(cert)
        return cert

    def find_certificate(self, header: dict[str, Any]) -> RegisteredCertificate | None:
        """The registered certificate a JWT header points at via ``x5t#S256``, ``x5t`` or ``x5c``."""
        x5c = header.get("x5c")
        if isinstance(x5c, list) and x5c and isinstance(x5c[0], str):
            try:
                der = base64.b64decode(x5c[0])
            except ValueError:
                der = b""
            for cert in self.certificates:
                if cert.der == der:
                    return cert
        # MSAL pads the base64url thumbprint, RFC 7515 does not: compare without padding.
        x5t = str(header.get("x5t", "")).rstrip("=")
        x5t256 = str(header.get("x5t#S256", "")).rstrip("=")
        for cert in self.certificates:
            if x5t256 == cert.sha256 or x5t == cert.sha1:
                return cert
        return None

    def add_federated_credential(self, credential: FederatedCredential) -> None:
        """Register a federated identity credential on the app."""
        self.federated_credentials.append(credential)

    def user_json(self, user: SeedUser) -> dict[str, Any]:
        """A user's JSON form with its current policy state (``hasPolicy``)."""
        return {**user.to_json(), "hasPolicy": self.has_policy(user)}

    def users_json(self) -> list[dict[str, Any]]:
        """Every user's :meth:`user_json`."""
        return [self.user_json(u) for u in self.users]
