"""One class per kind of credential behind one small protocol, and the one mapping from a connection.

As httpx has one class per auth scheme (``BasicAuth``, ``DigestAuth``), the token source
asks the connection's credential what MSAL needs instead of branching on a kind's name:

* :class:`ClientSecret` (``secret``), :class:`Certificate` (``certificate``) and
  :class:`WorkloadIdentity` (``federated``): app-only tokens (client credentials grant) of a
  confidential client;
* :class:`RefreshToken`: delegated tokens from a user's refresh token, redeemed with one of
  those app credentials or, without one, as a public client (``public``);
* :class:`DeviceCode`: a user's sign-in with a code (the ``login`` command), a public client.

A new auth flow is a new class here and a line in :func:`credential_from_connection`.

Nothing here reads a file when a credential is made: the connection settings are built
from these classes wherever a connection is read. Files are read by
:meth:`Credential.client_credential`, when the token source builds its MSAL application,
and a wrong field is reported by its connection name. No secret is in a ``repr()``.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from airflow_provider_meetings.auth.certificate import normalize_thumbprint, read_certificate_credential
from airflow_provider_meetings.graph.errors import ConnectionConfigError

#: The ``kind`` of a credential without a client credential (MSAL's ``PublicClientApplication``).
PUBLIC = "public"
_HIDDEN = "<hidden>"

#: MSAL's ``client_credential`` argument; ``None`` for a public client.
ClientCredential = str | dict[str, Any] | None


class Grant(enum.Enum):
    """The OAuth flow that gets a credential's access tokens."""

    #: App-only: ``acquire_token_for_client`` (the app acts as itself).
    CLIENT_CREDENTIALS = "client_credentials"
    #: Delegated: a user's refresh token (the app acts as that user).
    REFRESH_TOKEN = "refresh_token"
    #: A user signs in on another device with a code (the ``login`` command).
    DEVICE_CODE = "device_code"


class Credential(Protocol):
    """What the token source needs to know of a credential."""

    @property
    def kind(self) -> str:
        """The app's credential, by the name the connection check and ``login`` print:
        ``secret``, ``certificate``, ``federated`` or ``public`` (none)."""

    @property
    def grant(self) -> Grant:
        """The flow that gets access tokens."""

    @property
    def description(self) -> str:
        """One phrase for people, e.g. ``app-only with a client secret``."""

    def client_credential(self, mask: Callable[[str], None]) -> ClientCredential:
        """MSAL's ``client_credential`` (files are read, and checked, now); ``None`` for a public client.

        :param mask: registers a secret read from a file (Airflow's ``mask_secret``)
        :raises ConnectionConfigError: naming the connection field that is wrong
        """

    def secrets(self) -> tuple[str, ...]:
        """The secret values of the connection, for the log masker."""


class _AppOnly:
    """What the app credentials share: app-only tokens (client credentials grant)."""

    grant: ClassVar[Grant] = Grant.CLIENT_CREDENTIALS
    #: The credential in a phrase, e.g. ``a client secret``.
    noun: ClassVar[str]

    @property
    def description(self) -> str:
        """See :attr:`Credential.description`."""
        return f"app-only with {self.noun}"


@dataclass(frozen=True, repr=False)
class ClientSecret(_AppOnly):
    """The app's client secret (the connection's password).

    :param secret: the secret's value
    """

    secret: str
    kind: ClassVar[str] = "secret"
    noun: ClassVar[str] = "a client secret"

    def client_credential(self, mask: Callable[[str], None]) -> ClientCredential:
        """The secret itself."""
        return self.secret

    def secrets(self) -> tuple[str, ...]:
        """The client secret."""
        return (self.secret,)

    def __repr__(self) -> str:
        return f"ClientSecret(secret={_HIDDEN})"


@dataclass(frozen=True, repr=False)
class Certificate(_AppOnly):
    """A certificate registered on the app, and its private key, in one PEM file.

    :param path: the PEM file (extra ``certificate_path``)
    :param thumbprint: the certificate's SHA-1 thumbprint, normalized (extra
        ``certificate_thumbprint``); needed only when the file holds the key alone
    :param password: the passphrase of an encrypted key (extra ``private_key_password``)
    """

    path: str
    thumbprint: str | None = None
    password: str | None = None
    kind: ClassVar[str] = "certificate"
    noun: ClassVar[str] = "a certificate"

    def client_credential(self, mask: Callable[[str], None]) -> ClientCredential:
        """The key and certificate read from :attr:`path` (:mod:`~airflow_provider_meetings.auth.certificate`)."""
        return read_certificate_credential(self.path, thumbprint=self.thumbprint, password=self.password)

    def secrets(self) -> tuple[str, ...]:
        """The key's passphrase, if any (the key itself stays in its file and in MSAL)."""
        return (self.password,) if self.password else ()

    def __repr__(self) -> str:
        password = _HIDDEN if self.password else None
        return f"Certificate(path={self.path!r}, thumbprint={self.thumbprint!r}, password={password})"


class FederatedTokenFile:
    """A workload-identity token file, read again for every token request (it rotates).

    MSAL calls it only when it needs a new access token (``{"client_assertion": callable}``).

    :param path: the token file
    :param mask: registers the token as a secret (Airflow's ``mask_secret``)
    """

    def __init__(self, path: str, mask: Callable[[str], None]) -> None:
        self.path = path
        self.mask = mask

    def __call__(self) -> str:
        try:
            with open(self.path, encoding="utf-8") as token_file:
                token = token_file.read().strip()
        except OSError as err:
            raise ConnectionConfigError(
                "federated_token_file", f"cannot read {self.path!r}: {err.strerror or type(err).__name__}"
            ) from None
        if not token:
            raise ConnectionConfigError("federated_token_file", f"{self.path!r} is empty")
        self.mask(token)
        return token

    def __repr__(self) -> str:
        return f"FederatedTokenFile(path={self.path!r})"


@dataclass(frozen=True)
class WorkloadIdentity(_AppOnly):
    """Workload identity federation: a token file that another identity provider keeps fresh.

    The token is the client assertion of a federated credential of the app (Kubernetes
    service account tokens, https://azure.github.io/azure-workload-identity/).

    :param token_file: the token file (extra ``federated_token_file``, or ``AZURE_FEDERATED_TOKEN_FILE``)
    """

    token_file: str
    kind: ClassVar[str] = "federated"
    noun: ClassVar[str] = "a federated token"

    def client_credential(self, mask: Callable[[str], None]) -> ClientCredential:
        """A client assertion that reads the file whenever MSAL needs a token (read once now)."""
        token_file = FederatedTokenFile(self.token_file, mask)
        token_file()  # an unreadable file is a config error now, not inside MSAL later
        return {"client_assertion": token_file}

    def secrets(self) -> tuple[str, ...]:
        """None known yet: each token is masked when it is read."""
        return ()


#: A credential the app presents for itself (with a refresh token too, as a confidential client).
AppCredential = ClientSecret | Certificate | WorkloadIdentity


@dataclass(frozen=True, repr=False)
class RefreshToken:
    """Delegated: a user's refresh token (extra ``refresh_token``), redeemed by the app.

    A token minted by a public client (``login``) is redeemed without a client credential;
    Entra refuses it when one comes with it (AADSTS700025). A confidential client's token
    needs the app's credential (AADSTS7000218 without it).

    :param token: the refresh token
    :param client: the app's credential, or ``None`` for a public client
    """

    token: str
    client: AppCredential | None = None
    grant: ClassVar[Grant] = Grant.REFRESH_TOKEN

    @property
    def kind(self) -> str:
        """The kind of the app's credential (``public`` without one)."""
        return self.client.kind if self.client is not None else PUBLIC

    @property
    def description(self) -> str:
        """See :attr:`Credential.description`."""
        if self.client is None:
            return "delegated (refresh token) as a public client, without a credential"
        return f"delegated (refresh token) with {self.client.noun}"

    def client_credential(self, mask: Callable[[str], None]) -> ClientCredential:
        """The app credential's, or ``None`` for a public client."""
        return self.client.client_credential(mask) if self.client is not None else None

    def secrets(self) -> tuple[str, ...]:
        """The refresh token and the app credential's secrets."""
        return (self.token, *(self.client.secrets() if self.client is not None else ()))

    def __repr__(self) -> str:
        return f"RefreshToken(token={_HIDDEN}, client={self.client!r})"


@dataclass(frozen=True)
class DeviceCode:
    """A user signs in with a code on another device; a public client, no credential (``login``).

    https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code
    """

    kind: ClassVar[str] = PUBLIC
    grant: ClassVar[Grant] = Grant.DEVICE_CODE

    @property
    def description(self) -> str:
        """See :attr:`Credential.description`."""
        return "a user's sign-in with a device code, as a public client, without a credential"

    def client_credential(self, mask: Callable[[str], None]) -> ClientCredential:
        """None: a public client."""
        return None

    def secrets(self) -> tuple[str, ...]:
        """None."""
        return ()


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def credential_from_connection(
    *,
    password: str | None,
    extras: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    require_credential: bool = True,
) -> Credential:
    """The credential of an ``msgraph_meetings`` connection: the one place that reads its fields.

    One app credential at most: the password (a client secret), the extra
    ``certificate_path``, or ``federated_token_file``. With the extra ``refresh_token`` the
    tokens are delegated (:class:`RefreshToken`), redeemed with that app credential or as a
    public client without one. Otherwise a credential is required: the environment's
    ``AZURE_FEDERATED_TOKEN_FILE`` is the fallback (it never makes a refresh token's client
    confidential: only the explicit extra does). With ``require_credential`` false (the
    ``login`` command) no credential is a :class:`DeviceCode` sign-in.

    :param password: the connection's password
    :param extras: the connection's extras, parsed (empty values removed)
    :param environ: environment for ``AZURE_FEDERATED_TOKEN_FILE`` (default ``os.environ``)
    :param require_credential: refuse a connection with neither credential nor refresh token
    :raises ConnectionConfigError: naming the field that is wrong
    """
    environ = os.environ if environ is None else environ
    secret = password or None
    certificate_path = _text(extras.get("certificate_path"))
    federated_token_file = _text(extras.get("federated_token_file"))
    # A refresh token holds no white space: one pasted with a trailing newline (a secrets file)
    # would be refused as malformed (AADSTS9002313), and the advice would blame the token.
    refresh_token = _text(str(extras.get("refresh_token") or "").strip())
    raw_thumbprint = extras.get("certificate_thumbprint")
    thumbprint = normalize_thumbprint(raw_thumbprint) if raw_thumbprint else None
    if secret and certificate_path:
        raise ConnectionConfigError(
            "certificate_path",
            "is set together with a client secret (password); keep one credential: clear the "
            "password to use the certificate, or remove certificate_path to use the secret",
        )
    if federated_token_file and (secret or certificate_path):
        raise ConnectionConfigError(
            "federated_token_file", "is set together with a secret or certificate; keep one credential"
        )

    app: AppCredential | None = None
    if secret:
        app = ClientSecret(secret)
    elif certificate_path:
        app = Certificate(certificate_path, thumbprint, _text(extras.get("private_key_password")))
    elif federated_token_file:
        app = WorkloadIdentity(federated_token_file)
    elif refresh_token is None and require_credential:
        environment_file = environ.get("AZURE_FEDERATED_TOKEN_FILE") or None
        if environment_file is None:
            raise ConnectionConfigError(
                "password",
                "no credential: set the client secret as the password, or the extra "
                "certificate_path, or federated_token_file (or AZURE_FEDERATED_TOKEN_FILE)",
            )
        app = WorkloadIdentity(environment_file)

    if refresh_token is not None:
        return RefreshToken(refresh_token, app)
    return app if app is not None else DeviceCode()
