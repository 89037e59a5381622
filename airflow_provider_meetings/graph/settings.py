"""Reading an Airflow connection of type ``msgraph_meetings`` into checked settings.

Pure: it takes the connection's fields as plain values and neither reads files nor
opens sockets, so every rule is a table-driven unit test. The hook does the I/O.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from airflow_provider_meetings.auth.credentials import (
    PUBLIC,
    Certificate,
    ClientSecret,
    Credential,
    Grant,
    RefreshToken,
    credential_from_connection,
)
from airflow_provider_meetings.graph.batch import MAX_BULK_CONCURRENCY
from airflow_provider_meetings.graph.errors import ConnectionConfigError, InvalidRequestError
from airflow_provider_meetings.graph.retry import RetryPolicy
from airflow_provider_meetings.graph.values import validate_user_id


@dataclass(frozen=True)
class Cloud:
    """Endpoints of one Microsoft cloud."""

    graph: str
    login: str
    beta: bool = False


CLOUDS: dict[str, Cloud] = {
    "global": Cloud("https://graph.microsoft.com", "https://login.microsoftonline.com", beta=True),
    "usgov": Cloud("https://graph.microsoft.us", "https://login.microsoftonline.us"),
    "dod": Cloud("https://dod-graph.microsoft.us", "https://login.microsoftonline.us"),
    "china": Cloud("https://microsoftgraph.chinacloudapi.cn", "https://login.partner.microsoftonline.cn"),
}
API_VERSIONS = ("v1.0", "beta")

#: Every extra the provider reads; anything else is reported as unknown (likely a typo).
KNOWN_EXTRAS = frozenset(
    {
        "tenant_id",
        "cloud",
        "authority_host",
        "api_version",
        "verify",
        "proxies",
        "timeout",
        "certificate_path",
        "certificate_thumbprint",
        "private_key_password",
        "federated_token_file",
        "default_user_id",
        "refresh_token",
        "token_cache_path",
        "max_retries",
        "max_retry_wait",
        "bulk_concurrency",
        "rate_budget",
        "rate_budget_url",
    }
)
_LEGACY_PREFIX = "extra__msgraph_meetings__"
DEFAULT_TIMEOUT = 30.0
DEFAULT_BULK_CONCURRENCY = 4
#: Where the rate budget shared by the processes of one tenant and app lives (graph/budget/).
RATE_BUDGETS = ("file", "redis", "database", "off")
DEFAULT_RATE_BUDGET = "file"


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def normalize_base_url(value: str, *, field_name: str, allow_loopback_http: bool) -> str:
    """``https://host[:port][/path]`` without a trailing slash; a bare host gets ``https``."""
    text = value.strip().rstrip("/")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConnectionConfigError(field_name, f"{value!r} is not an https URL such as 'https://graph.microsoft.com'")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConnectionConfigError(field_name, f"{value!r} must not carry a query, fragment or credentials")
    if parts.scheme == "http":
        if not (allow_loopback_http and _is_loopback(parts.hostname)):
            raise ConnectionConfigError(
                field_name,
                f"{value!r} uses plain http; tokens would cross the network unencrypted. Use "
                "https"
                + ("" if allow_loopback_http else " (MSAL accepts only https authorities)")
                + (" (plain http is accepted only for loopback hosts)" if allow_loopback_http else ""),
            )
    if parts.path.rstrip("/").split("/")[-1] in API_VERSIONS:
        raise ConnectionConfigError(
            field_name, f"{value!r} ends with an API version; give the root URL and set the extra 'api_version'"
        )
    return text


def _parse_bool_or_path(value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("", "true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        return value.strip()
    raise ConnectionConfigError("verify", f"must be true, false or a CA bundle path, got {value!r}")


def _parse_number(value: Any, field_name: str, *, minimum: float, integer: bool = False) -> float:
    try:
        # true is no number (int(True) is 1); nan and inf pass every comparison check and then
        # fail deep in the socket layer, or (max_retry_wait) turn every retry off.
        if isinstance(value, bool):
            raise ValueError
        number = int(value) if integer else float(value)
        if integer and isinstance(value, float) and not value.is_integer():
            raise ValueError
        if not math.isfinite(number):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        kind = "a whole number" if integer else "a number"
        raise ConnectionConfigError(field_name, f"must be {kind}, got {value!r}") from None
    if number < minimum:
        raise ConnectionConfigError(field_name, f"must be at least {minimum:g}, got {value!r}")
    return number


def parse_proxies(value: Any) -> dict[str, str] | None:
    """The extra ``proxies``: a mapping of scheme to proxy URL, or its JSON text (the form's field).

    :raises ConnectionConfigError: anything else
    """
    if value in (None, "", {}):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConnectionConfigError(
                "proxies", 'must be a mapping like {"https": "http://proxy:3128"} (JSON), got unparseable text'
            ) from None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConnectionConfigError("proxies", 'must map schemes to proxy URLs, e.g. {"https": "http://proxy:3128"}')
    return dict(value)


def _parse_cache_path(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConnectionConfigError("token_cache_path", f"must be a file path, got {value!r}")
    path = os.path.expanduser(value.strip())
    if not os.path.isabs(path):
        raise ConnectionConfigError(
            "token_cache_path",
            f"{value!r} is relative; give an absolute path (tasks do not share a working directory), "
            "e.g. /var/lib/airflow/meetings/token-cache.json",
        )
    if path.endswith(os.sep):
        raise ConnectionConfigError("token_cache_path", f"{value!r} names a directory; name the cache file in it")
    return path


def url_passwords(url: str | None) -> tuple[str, ...]:
    """The passwords of a URL such as ``redis://:pw@host:6379/2``, as written and percent-decoded.

    Both forms are secrets: the URL holds the first, the client that connects sends the second.
    A ``password`` in the query counts too: redis-py reads every query argument as a keyword,
    and its docs give ``unix:///path/to/socket.sock?db=0&password=...`` for sockets.

    :param url: the URL (``None`` or one that does not parse: no password)
    :return: the passwords' forms, without repeats; ``()`` when there is none
    """
    if not url:
        return ()
    try:
        parts = urlsplit(url)
        given = [parts.password, *query_passwords(parts.query)]
    except ValueError:  # e.g. an unbalanced "[" in the host
        return ()
    return tuple(dict.fromkeys(form for p in given if p for form in (p, unquote(p)) if form))


def is_password(name: str) -> bool:
    """Whether a URL query argument (as written) is a ``password``."""
    return unquote(name).lower() == "password"


def query_passwords(query: str) -> list[str]:
    """The ``password`` values of a URL's query, as written (not decoded)."""
    pairs = (item.partition("=") for item in query.split("&"))
    return [value for name, _, value in pairs if is_password(name) and value]


def _parse_rate_budget(extras: Mapping[str, Any]) -> tuple[str, str | None]:
    """The extras ``rate_budget`` and ``rate_budget_url``, checked together."""
    backend = str(extras.get("rate_budget") or DEFAULT_RATE_BUDGET).strip().lower()
    if backend not in RATE_BUDGETS:
        raise ConnectionConfigError("rate_budget", f"{backend!r} is not one of {list(RATE_BUDGETS)}")
    url = str(extras.get("rate_budget_url") or "").strip() or None
    if backend == "redis":
        if url is None:
            raise ConnectionConfigError(
                "rate_budget_url", "is missing; rate_budget 'redis' needs a URL such as redis://redis:6379/2"
            )
        if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise ConnectionConfigError("rate_budget_url", "must be a redis://, rediss:// or unix:// URL")
    return backend, url


def parse_extra(extra: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """The connection's extra as a dict (JSON text accepted), legacy prefixes removed."""
    if extra in (None, ""):
        return {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            raise ConnectionConfigError("extra", "is not valid JSON") from None
    if not isinstance(extra, Mapping):
        raise ConnectionConfigError("extra", f"must be a JSON object, got {type(extra).__name__}")
    return {
        (key[len(_LEGACY_PREFIX) :] if key.startswith(_LEGACY_PREFIX) else key): value
        for key, value in extra.items()
        if value not in (None, "")
    }


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything the hook needs from its connection, checked.

    How the app authenticates is :attr:`credential`
    (:mod:`~airflow_provider_meetings.auth.credentials`); secret values are kept out of
    ``repr()``.
    """

    client_id: str
    tenant_id: str
    cloud: str
    graph_url: str
    authority_host: str
    custom_authority: bool
    api_version: str
    verify: bool | str
    proxies: dict[str, str] | None = field(repr=False)  # a proxy URL may hold a password
    timeout: float
    credential: Credential  # its repr() shows no secret
    retry: RetryPolicy
    bulk_concurrency: int
    default_user_id: str | None = None
    token_cache_path: str | None = None
    #: where the shared rate budget lives: one of :data:`RATE_BUDGETS`
    rate_budget: str = DEFAULT_RATE_BUDGET
    #: the Redis URL of ``rate_budget: redis`` (may hold a password: kept out of ``repr()``)
    rate_budget_url: str | None = field(default=None, repr=False)
    unknown_extras: tuple[str, ...] = ()

    @property
    def authority(self) -> str:
        """MSAL authority URL: login host and tenant."""
        return f"{self.authority_host}/{self.tenant_id}"

    @property
    def scope(self) -> str:
        """The app-token scope: the cloud's Graph resource with ``/.default``.

        A ``host`` override changes where requests go, not the token audience, so a
        proxy or test double in front of Graph gets the same tokens Graph would.
        """
        return f"{CLOUDS[self.cloud].graph}/.default"

    @property
    def graph_base(self) -> str:
        """Graph root with the API version, e.g. ``https://graph.microsoft.com/v1.0``."""
        return f"{self.graph_url}/{self.api_version}"

    @property
    def credential_kind(self) -> str:
        """The app's credential: ``secret``, ``certificate``, ``federated`` or ``public`` (none)."""
        return self.credential.kind

    def secrets(self) -> tuple[str, ...]:
        """Every secret value of the connection, for the log masker and the connection check's texts.

        The credential's (:meth:`~airflow_provider_meetings.auth.credentials.Credential.secrets`:
        the client secret, the private key's passphrase, the refresh token) and the passwords
        of :attr:`rate_budget_url` and of the :attr:`proxies` URLs (:func:`url_passwords`).

        :return: the values, without repeats
        """
        urls = [self.rate_budget_url, *(self.proxies or {}).values()]
        return tuple(dict.fromkeys((*self.credential.secrets(), *(p for url in urls for p in url_passwords(url)))))

    @property
    def delegated(self) -> bool:
        """Tokens act as a user (refresh token given)."""
        return self.credential.grant is Grant.REFRESH_TOKEN

    @property
    def public_client(self) -> bool:
        """No client credential: MSAL's ``PublicClientApplication`` redeems the refresh token."""
        return self.credential.kind == PUBLIC

    # The credential's values by their connection names, for code that masks or names them.

    @property
    def refresh_token(self) -> str | None:
        """The connection's refresh token (delegated), or ``None``."""
        return self.credential.token if isinstance(self.credential, RefreshToken) else None

    @property
    def client_secret(self) -> str | None:
        """The client secret (the password), or ``None``."""
        return self._app_value(ClientSecret, "secret")

    @property
    def certificate_path(self) -> str | None:
        """The extra ``certificate_path``, or ``None``."""
        return self._app_value(Certificate, "path")

    @property
    def private_key_password(self) -> str | None:
        """The extra ``private_key_password`` of a certificate credential, or ``None``."""
        return self._app_value(Certificate, "password")

    def _app_value(self, kind: type[Credential], name: str) -> str | None:
        """A value of the app's own credential when it is of ``kind``, else ``None``."""
        app = self._app_credential
        return getattr(app, name) if isinstance(app, kind) else None

    @property
    def _app_credential(self) -> Credential | None:
        """The credential the app presents for itself (that of a refresh token's client)."""
        return self.credential.client if isinstance(self.credential, RefreshToken) else self.credential


def parse_connection(
    *,
    login: str | None,
    password: str | None,
    host: str | None,
    extra: Mapping[str, Any] | str | None,
    environ: Mapping[str, str] | None = None,
    require_credential: bool = True,
    other_extras: Collection[str] = (),
) -> ConnectionSettings:
    """Check an ``msgraph_meetings`` connection and return its settings.

    The credential fields (password, ``certificate_path``, ``federated_token_file``,
    ``refresh_token`` and their companions) are read by
    :func:`~airflow_provider_meetings.auth.credentials.credential_from_connection`. Without a
    refresh token a credential is required, unless ``require_credential`` is false (the
    ``login`` command, which only needs the client id, tenant and network settings).

    :param login: application (client) id
    :param password: client secret, or empty for certificate / federated credentials
    :param host: Graph root override
    :param extra: the connection's extra (dict or JSON text)
    :param environ: environment for ``AZURE_FEDERATED_TOKEN_FILE`` (default ``os.environ``)
    :param require_credential: refuse a connection with neither credential nor refresh token
    :param other_extras: extras that layers above this one read (the connection check's
        ``check_artifacts``): not reported in ``unknown_extras``
    """
    extras = parse_extra(extra)

    client_id = (login or "").strip()
    if not client_id:
        raise ConnectionConfigError("login", "is empty; set it to the app registration's application (client) id")
    tenant_id = str(extras.get("tenant_id", "")).strip()
    if not tenant_id:
        raise ConnectionConfigError(
            "tenant_id", "is missing; set the extra to the directory (tenant) id of the app registration"
        )
    if "/" in tenant_id or "?" in tenant_id or "#" in tenant_id or any(c.isspace() for c in tenant_id):
        raise ConnectionConfigError("tenant_id", f"{tenant_id!r} is not a tenant id or domain name")

    cloud = str(extras.get("cloud", "global")).strip().lower()
    if cloud not in CLOUDS:
        raise ConnectionConfigError("cloud", f"{cloud!r} is not one of {sorted(CLOUDS)}")
    endpoints = CLOUDS[cloud]

    api_version = str(extras.get("api_version", "v1.0")).strip()
    if api_version not in API_VERSIONS:
        raise ConnectionConfigError("api_version", f"{api_version!r} is not one of {list(API_VERSIONS)}")
    if api_version == "beta" and not endpoints.beta:
        raise ConnectionConfigError("api_version", f"beta createOrGet exists only in the global cloud, not {cloud!r}")

    graph_url = (
        normalize_base_url(host, field_name="host", allow_loopback_http=True)
        if host and host.strip()
        else endpoints.graph
    )
    authority_raw = extras.get("authority_host")
    authority_host = (
        normalize_base_url(str(authority_raw), field_name="authority_host", allow_loopback_http=False)
        if authority_raw
        else endpoints.login
    )

    verify = _parse_bool_or_path(extras.get("verify", True))
    timeout = _parse_number(extras.get("timeout", DEFAULT_TIMEOUT), "timeout", minimum=0.1)
    retry = RetryPolicy(
        max_retries=int(
            _parse_number(extras.get("max_retries", RetryPolicy.max_retries), "max_retries", minimum=0, integer=True)
        ),
        max_total_wait=_parse_number(
            extras.get("max_retry_wait", RetryPolicy.max_total_wait), "max_retry_wait", minimum=0
        ),
    )
    bulk_concurrency = int(
        _parse_number(
            extras.get("bulk_concurrency", DEFAULT_BULK_CONCURRENCY), "bulk_concurrency", minimum=1, integer=True
        )
    )
    if bulk_concurrency > MAX_BULK_CONCURRENCY:
        raise ConnectionConfigError(
            "bulk_concurrency", f"must be at most {MAX_BULK_CONCURRENCY}, got {bulk_concurrency}"
        )

    credential = credential_from_connection(
        password=password, extras=extras, environ=environ, require_credential=require_credential
    )

    default_user_id = extras.get("default_user_id")
    if default_user_id is not None:
        try:
            default_user_id = validate_user_id(str(default_user_id).strip(), field_name="default_user_id")
        except InvalidRequestError as err:
            raise ConnectionConfigError("default_user_id", str(err).split(": ", 1)[1]) from None

    rate_budget, rate_budget_url = _parse_rate_budget(extras)

    return ConnectionSettings(
        client_id=client_id,
        tenant_id=tenant_id,
        cloud=cloud,
        graph_url=graph_url,
        authority_host=authority_host,
        custom_authority=bool(authority_raw),
        api_version=api_version,
        verify=verify,
        proxies=parse_proxies(extras.get("proxies")),
        timeout=timeout,
        credential=credential,
        retry=retry,
        bulk_concurrency=bulk_concurrency,
        default_user_id=default_user_id,
        token_cache_path=_parse_cache_path(extras.get("token_cache_path")),
        rate_budget=rate_budget,
        rate_budget_url=rate_budget_url,
        unknown_extras=tuple(sorted(set(extras) - KNOWN_EXTRAS - set(other_extras))),
    )
