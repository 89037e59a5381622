"""Fixtures for hook tests against the emulator: connections and credentials."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def make_hook(graph_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Build a hook on a fresh connection to the session emulator.

    Keyword arguments override connection fields (``password=...``) or extras
    (``max_retries=...``); an override of ``None`` removes the extra.
    """
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    graph_emulator.reset()
    hooks: list[Any] = []

    def factory(emulator: Any = None, **overrides: Any) -> OnlineMeetingsHook:
        emulator = emulator or graph_emulator
        conn_id = f"meetings_it_{len(hooks)}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", emulator.connection_json(**overrides))
        hook = OnlineMeetingsHook(conn_id=conn_id)
        hooks.append(hook)
        return hook

    yield factory
    for hook in hooks:
        hook.close()
    graph_emulator.clear_faults()


@pytest.fixture(scope="session")
def certificate_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A self-signed certificate with its key: plain PEM, encrypted PEM, and the cert alone."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "airflow-provider-meetings test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    password = "pem-passphrase-7Hq"
    plain_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    encrypted_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode()),
    )
    folder = tmp_path_factory.mktemp("certs")
    paths = {
        "plain": folder / "app.pem",
        "encrypted": folder / "app-encrypted.pem",
        "cert_only": folder / "cert-only.pem",
    }
    paths["plain"].write_bytes(plain_key + cert_pem)
    paths["encrypted"].write_bytes(encrypted_key + cert_pem)
    paths["cert_only"].write_bytes(cert_pem)
    return {
        "paths": {k: str(v) for k, v in paths.items()},
        "cert_pem": cert_pem.decode(),
        "key_pem": plain_key.decode(),
        "password": password,
        "thumbprint": cert.fingerprint(hashes.SHA1()).hex(),  # noqa: S303 - Entra's x5t
    }


def _write_federated_token(
    path: Path, *, issuer: str, subject: str, audience: str = "api://AzureADTokenExchange"
) -> str:
    import time

    import jwt

    now = int(time.time())
    token = jwt.encode(
        {"iss": issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now, "exp": now + 600, "jti": str(now)},
        "federation-test-signing-key-of-enough-length",
        algorithm="HS256",
    )
    path.write_text(token)
    return token


@pytest.fixture
def write_federated_token() -> Callable[..., str]:
    """``write(path, issuer=, subject=)``: a signed, unexpired workload-identity JWT in ``path``."""
    return _write_federated_token
