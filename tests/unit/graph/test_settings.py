from __future__ import annotations

import pytest

from airflow_provider_meetings.auth.credentials import WorkloadIdentity
from airflow_provider_meetings.graph.errors import ConnectionConfigError
from airflow_provider_meetings.graph.retry import RetryPolicy
from airflow_provider_meetings.graph.settings import CLOUDS, KNOWN_EXTRAS, parse_connection, url_passwords

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "99999999-8888-7777-6666-555555555555"


def settings(*, login=CLIENT, password="s3cr3t-value", host=None, environ=None, **extra):
    extra.setdefault("tenant_id", TENANT)
    return parse_connection(login=login, password=password, host=host, extra=extra, environ=environ or {})


def test_defaults_global_cloud():
    s = settings()
    assert s.graph_base == "https://graph.microsoft.com/v1.0"
    assert s.authority == f"https://login.microsoftonline.com/{TENANT}"
    assert s.scope == "https://graph.microsoft.com/.default"
    assert (s.custom_authority, s.verify, s.proxies, s.timeout) == (False, True, None, 30.0)
    assert s.credential_kind == "secret" and not s.delegated
    assert s.retry == RetryPolicy()


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_cloud_sets_graph_and_login_hosts(cloud):
    s = settings(cloud=cloud.upper())
    assert s.graph_url == CLOUDS[cloud].graph
    assert s.authority_host == CLOUDS[cloud].login
    assert s.scope == CLOUDS[cloud].graph + "/.default"


def test_emulator_style_overrides_keep_the_audience():
    s = settings(host="https://127.0.0.1:8443/", authority_host="https://127.0.0.1:8443", verify="/tmp/ca.pem")
    assert s.graph_base == "https://127.0.0.1:8443/v1.0"
    assert s.authority == f"https://127.0.0.1:8443/{TENANT}"
    assert s.custom_authority
    assert s.scope == "https://graph.microsoft.com/.default"
    assert s.verify == "/tmp/ca.pem"


def test_bare_host_gets_https_and_loopback_http_is_allowed_for_graph():
    assert settings(host="graph.contoso-proxy.example").graph_url == "https://graph.contoso-proxy.example"
    assert settings(host="http://localhost:8080").graph_url == "http://localhost:8080"
    assert settings(host="http://[::1]:8080").graph_url == "http://[::1]:8080"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("false", False), ("FALSE", False), ("0", False), ("true", True), ("/etc/ca.pem", "/etc/ca.pem")],
)
def test_verify(value, expected):
    assert settings(verify=value).verify == expected


def test_tuning_extras():
    s = settings(
        timeout="12.5", max_retries="2", max_retry_wait=30, bulk_concurrency=8, proxies='{"https": "http://p:3128"}'
    )
    assert s.timeout == 12.5
    assert (s.retry.max_retries, s.retry.max_total_wait) == (2, 30.0)
    assert s.bulk_concurrency == 8
    assert s.proxies == {"https": "http://p:3128"}


def test_extra_as_json_text_and_legacy_prefix():
    s = parse_connection(
        login=CLIENT,
        password="x",
        host=None,
        extra='{"extra__msgraph_meetings__tenant_id": "contoso.onmicrosoft.com", "api_version": "beta"}',
        environ={},
    )
    assert s.tenant_id == "contoso.onmicrosoft.com"
    assert s.graph_base == "https://graph.microsoft.com/beta"


def test_unknown_extras_are_reported():
    assert settings(tenant="typo", timout=3).unknown_extras == ("tenant", "timout")
    assert settings(**{k: None for k in KNOWN_EXTRAS if k != "tenant_id"}).unknown_extras == ()


def test_certificate_credential():
    s = settings(password=None, certificate_path="/keys/app.pem", private_key_password="pw")
    assert s.credential_kind == "certificate"
    assert s.certificate_path == "/keys/app.pem"


def test_federated_from_extra_and_from_environment():
    assert settings(password=None, federated_token_file="/var/run/token").credential == WorkloadIdentity(
        "/var/run/token"
    )
    env = {"AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token"}
    s = settings(password=None, environ=env)
    assert (s.credential_kind, s.credential) == ("federated", WorkloadIdentity(env["AZURE_FEDERATED_TOKEN_FILE"]))
    # A secret wins over the environment: the variable is only a fallback.
    assert settings(environ=env).credential_kind == "secret"


def test_delegated_mode_and_default_user():
    s = settings(refresh_token="0.ARoA-refresh", default_user_id="adele@contoso.com")
    assert s.delegated and s.default_user_id == "adele@contoso.com"


@pytest.mark.parametrize(
    ("credential", "kind"),
    [
        pytest.param({"password": None}, "public", id="no credential: public client"),
        pytest.param({}, "secret", id="secret: confidential"),
        pytest.param({"password": None, "certificate_path": "/k.pem"}, "certificate", id="certificate"),
        pytest.param({"password": None, "federated_token_file": "/t"}, "federated", id="explicit federated file"),
    ],
)
def test_refresh_token_without_credential_is_a_public_client(credential, kind):
    # The environment's token file does not turn a public client's refresh token into a confidential one.
    env = {"AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token"}
    s = settings(refresh_token="0.AR-refresh", environ=env, **credential)
    assert (s.credential_kind, s.public_client, s.delegated) == (kind, kind == "public", True)


def test_without_refresh_token_a_credential_is_still_required_unless_for_login():
    with pytest.raises(ConnectionConfigError, match="no credential: set the client secret as the password"):
        settings(password=None)
    s = parse_connection(
        login=CLIENT, password=None, host=None, extra={"tenant_id": TENANT}, environ={}, require_credential=False
    )
    assert s.public_client and not s.delegated


def test_token_cache_path_is_expanded_and_optional(monkeypatch):
    monkeypatch.setenv("HOME", "/home/airflow")
    assert settings().token_cache_path is None
    assert settings(token_cache_path="~/meetings/cache.json").token_cache_path == "/home/airflow/meetings/cache.json"
    assert settings(token_cache_path=" /var/lib/airflow/cache.json ").token_cache_path == "/var/lib/airflow/cache.json"
    assert settings(token_cache_path="/c.json").unknown_extras == ()


def test_secrets_stay_out_of_repr():
    s = settings(password="client-secret-123", refresh_token="refresh-456", private_key_password="pkpw-789")
    text = repr(s)
    for secret in ("client-secret-123", "refresh-456", "pkpw-789"):
        assert secret not in text
    s = settings(password=None, certificate_path="/k.pem", refresh_token="refresh-456", private_key_password="pkpw-789")
    assert "refresh-456" not in repr(s) and "pkpw-789" not in repr(s) and "/k.pem" in repr(s)
    assert (s.refresh_token, s.private_key_password, s.certificate_path) == ("refresh-456", "pkpw-789", "/k.pem")


#: Every kind of credential a connection can hold, and its secrets.
CREDENTIALS = [
    pytest.param({}, ("s3cr3t-value",), id="client secret"),
    pytest.param(
        {"password": None, "certificate_path": "/k.pem", "private_key_password": "pkpw"}, ("pkpw",), id="cert"
    ),
    pytest.param({"password": None, "certificate_path": "/k.pem"}, (), id="cert without passphrase"),
    pytest.param({"password": None, "federated_token_file": "/t"}, (), id="federated"),
    pytest.param({"password": None, "refresh_token": "rt-1"}, ("rt-1",), id="refresh token, public client"),
    pytest.param({"refresh_token": "rt-1"}, ("rt-1", "s3cr3t-value"), id="refresh token and secret"),
    pytest.param(
        {"password": None, "certificate_path": "/k.pem", "private_key_password": "pkpw", "refresh_token": "rt-1"},
        ("rt-1", "pkpw"),
        id="refresh token and cert",
    ),
    pytest.param(
        {"password": None, "federated_token_file": "/t", "refresh_token": "rt-1"}, ("rt-1",), id="refresh token, fed"
    ),
]
#: A Redis URL whose password is percent-encoded: the URL holds one form, redis-py sends the other.
BUDGET_URL = "redis://default:b%40dg3t-pw@redis:6379/2"
BUDGET_SECRETS = ("b%40dg3t-pw", "b@dg3t-pw")


@pytest.mark.parametrize(("credential", "expected"), CREDENTIALS)
@pytest.mark.parametrize("budget_url", [None, "redis://redis:6379/2", BUDGET_URL])
def test_secrets_are_the_credentials_and_the_rate_budget_urls_password(credential, expected, budget_url):
    budget = {"rate_budget": "redis", "rate_budget_url": budget_url} if budget_url else {}

    found = settings(**credential, **budget).secrets()

    assert found == expected + (BUDGET_SECRETS if budget_url == BUDGET_URL else ())


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(None, (), id="none"),
        pytest.param("redis://redis:6379/2", (), id="no password"),
        pytest.param("redis://:pw@redis:6379/2", ("pw",), id="password only"),
        pytest.param("rediss://user:p%3Aw@redis/1", ("p%3Aw", "p:w"), id="percent-encoded"),
        pytest.param("redis://:pw@[::1", (), id="does not parse"),
        pytest.param("postgresql://airflow:db-pw@postgres/airflow", ("db-pw",), id="a database URL"),
        pytest.param("unix:///run/redis.sock?db=2&password=p%21w", ("p%21w", "p!w"), id="query password"),
        pytest.param("redis://:a@redis/0?Password=b&db=1", ("a", "b"), id="both"),
    ],
)
def test_url_passwords(url, expected):
    assert url_passwords(url) == expected


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        pytest.param({"login": ""}, "login", "application (client) id", id="no-client-id"),
        pytest.param({"tenant_id": ""}, "tenant_id", "is missing", id="no-tenant"),
        pytest.param({"tenant_id": "a/b"}, "tenant_id", "not a tenant id", id="tenant-with-slash"),
        pytest.param({"cloud": "mars"}, "cloud", "'mars' is not one of", id="unknown-cloud"),
        pytest.param({"api_version": "v2"}, "api_version", "not one of", id="unknown-api-version"),
        pytest.param(
            {"cloud": "usgov", "api_version": "beta"}, "api_version", "only in the global cloud", id="beta-sovereign"
        ),
        pytest.param({"host": "http://graph.example.com"}, "host", "plain http", id="http-graph-not-loopback"),
        pytest.param({"authority_host": "http://127.0.0.1:8443"}, "authority_host", "only https", id="http-authority"),
        pytest.param({"host": "https://graph.microsoft.com/v1.0"}, "host", "api_version", id="host-with-version"),
        pytest.param({"host": "https://u:p@graph.example.com"}, "host", "credentials", id="host-with-credentials"),
        pytest.param({"host": "ftp://graph.example.com"}, "host", "not an https URL", id="host-ftp"),
        pytest.param({"verify": 3}, "verify", "true, false or a CA bundle path", id="verify-int"),
        pytest.param({"timeout": "soon"}, "timeout", "must be a number", id="timeout-text"),
        pytest.param({"timeout": "nan"}, "timeout", "must be a number", id="timeout-nan"),
        pytest.param({"max_retry_wait": "inf"}, "max_retry_wait", "must be a number", id="wait-inf"),
        pytest.param({"max_retries": True}, "max_retries", "must be a whole number", id="retries-bool"),
        pytest.param({"bulk_concurrency": "1e400"}, "bulk_concurrency", "must be a whole number", id="huge"),
        pytest.param({"timeout": 0}, "timeout", "at least", id="timeout-zero"),
        pytest.param({"max_retries": 1.5}, "max_retries", "whole number", id="retries-fraction"),
        pytest.param({"max_retries": -1}, "max_retries", "at least", id="retries-negative"),
        pytest.param({"bulk_concurrency": 1000}, "bulk_concurrency", "at most", id="concurrency-huge"),
        pytest.param({"proxies": "http://p:3128"}, "proxies", "JSON", id="proxies-not-json"),
        pytest.param({"proxies": {"https": 3128}}, "proxies", "map schemes", id="proxies-bad-value"),
        pytest.param({"password": None}, "password", "no credential", id="no-credential"),
        pytest.param({"certificate_path": "/k.pem"}, "certificate_path", "keep one credential", id="secret-and-cert"),
        pytest.param(
            {"password": None, "certificate_path": "/k.pem", "federated_token_file": "/t"},
            "federated_token_file",
            "keep one credential",
            id="cert-and-federated",
        ),
        pytest.param(
            {"default_user_id": "../x"}, "default_user_id", "neither an Entra object id", id="bad-default-user"
        ),
        pytest.param({"token_cache_path": "cache.json"}, "token_cache_path", "is relative", id="cache-relative"),
        pytest.param({"token_cache_path": "/var/cache/"}, "token_cache_path", "names a directory", id="cache-dir"),
        pytest.param({"token_cache_path": 7}, "token_cache_path", "must be a file path", id="cache-not-text"),
        pytest.param({"token_cache_path": "  "}, "token_cache_path", "must be a file path", id="cache-blank"),
    ],
)
def test_refused(kwargs, field, fragment):
    with pytest.raises(ConnectionConfigError) as info:
        settings(**kwargs)
    assert info.value.field == field
    assert fragment in str(info.value)
    assert "s3cr3t-value" not in str(info.value)


def test_extra_not_json():
    with pytest.raises(ConnectionConfigError, match="'extra': is not valid JSON"):
        parse_connection(login=CLIENT, password="x", host=None, extra="{tenant_id", environ={})


def test_a_proxy_password_is_a_secret_and_kept_out_of_repr():
    proxies = {"https": "http://bob:Pr0xy%21pw@proxy:3128", "http": "http://proxy:3128"}
    checked = settings(proxies=proxies)

    assert checked.secrets() == ("s3cr3t-value", "Pr0xy%21pw", "Pr0xy!pw")
    assert "Pr0xy" not in repr(checked)
    assert checked.proxies == proxies  # still used as given
