"""A throwaway CA and server certificate (trustme), imported only when the server starts."""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass
class ServerTLS:
    """TLS material of one emulator run.

    :param context: server-side SSL context with the leaf certificate loaded.
    :param ca_path: PEM file of the throwaway CA, for clients' ``verify=``.
    """

    context: ssl.SSLContext
    ca_path: str


def make_server_tls(ca_file: str | None = None, extra_names: tuple[str, ...] = ()) -> ServerTLS:
    """Create a fresh CA and a server certificate for loopback names (plus ``extra_names``).

    :param ca_file: where to write the CA PEM; a new temp directory when ``None``.
    :param extra_names: more host names or IPs for the server certificate (``--host``).
    """
    try:
        import trustme
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "the meetings emulator needs trustme: pip install 'airflow-provider-meetings[emulator]'"
        ) from error
    ca = trustme.CA(organization_name="airflow-provider-meetings emulator (throwaway)")
    names = list(dict.fromkeys((*SERVER_NAMES, *extra_names)))
    leaf = ca.issue_cert(*names)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    if ca_file is None:
        ca_file = os.path.join(tempfile.mkdtemp(prefix="meetings-emulator-"), "ca.pem")
    path = Path(ca_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(path))
    return ServerTLS(context=context, ca_path=str(path.resolve()))


@dataclass(frozen=True)
class AppCertificate:
    """A self-signed certificate and its key (RSA unless made otherwise), as an app registration's credential.

    For tests of certificate credentials: register ``cert_pem`` on the emulator's app
    (``add_certificate``) and give the hook a PEM file with ``key_pem`` + ``cert_pem``.

    :param key: the private key (a ``cryptography`` key object)
    :param cert: the certificate (a ``cryptography`` certificate object)
    """

    key: object
    cert: object

    @property
    def cert_pem(self) -> str:
        """The certificate in PEM form."""
        from cryptography.hazmat.primitives import serialization

        return self.cert.public_bytes(serialization.Encoding.PEM).decode()  # type: ignore[attr-defined]

    def key_pem(self, password: str | None = None) -> str:
        """The private key in PKCS#8 PEM form, encrypted with ``password`` if given."""
        from cryptography.hazmat.primitives import serialization

        encryption = (
            serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
        )
        return self.key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        ).decode()

    @property
    def sha1_thumbprint(self) -> str:
        """The SHA-1 thumbprint (hex) an app registration shows for the certificate."""
        from cryptography.hazmat.primitives import hashes

        return self.cert.fingerprint(hashes.SHA1()).hex()  # type: ignore[attr-defined]  # noqa: S303


def make_app_certificate(
    common_name: str = "airflow-provider-meetings test app", days: int = 30, *, key: Any = None
) -> AppCertificate:
    """A fresh self-signed certificate valid from yesterday for ``days`` days.

    :param key: the private key to certify (default: a new RSA-2048 key, the kind Entra
        accepts; tests pass another kind to see it refused)
    """
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    if key is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return AppCertificate(key, cert)
