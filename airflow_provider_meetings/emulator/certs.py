"""A throwaway CA and server certificate (trustme), imported only when the server starts."""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

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
