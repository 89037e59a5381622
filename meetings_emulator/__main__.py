"""``python -m meetings_emulator`` / ``meetings-emulator``: serve until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

#: The emulator ships in this distribution (pyproject.toml, ``packages``); its version is the
#: emulator's, read from the installed metadata so the emulator never imports the provider.
DISTRIBUTION = "airflow-provider-meetings"


def emulator_version() -> str:
    """The installed distribution's version, or ``"unknown"`` when run from a source tree."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    from meetings_emulator.config import DEFAULT_APP_ROLES

    parser = argparse.ArgumentParser(
        prog="meetings-emulator",
        description="Local HTTPS stand-in for Entra ID and Microsoft Graph onlineMeetings (testing only).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {emulator_version()}")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback only)")
    parser.add_argument(
        "--port", type=int, default=8443, help="TCP port; 0 picks a free one and prints it (default 8443)"
    )
    parser.add_argument("--state-file", help="persist meetings to this JSON file (survives restarts)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency added to each Graph request")
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="Graph requests per second before 429 TooManyRequests (default: unlimited)",
    )
    parser.add_argument(
        "--rate-limit-retry-after",
        "--retry-after",
        dest="retry_after",
        metavar="SECONDS",
        type=_seconds,
        default=1.0,
        help="Retry-After seconds on a rate-limit 429, decimals allowed, e.g. 2.128 (default 1)",
    )
    parser.add_argument("--no-retry-after", action="store_true", help="send rate-limit 429s without Retry-After")
    parser.add_argument(
        "--mailbox-concurrency",
        type=int,
        default=None,
        metavar="N",
        help="Outlook's requests at a time per app and mailbox on the events routes, e.g. 4 "
        "(429 ApplicationThrottled beyond it; default: off)",
    )
    parser.add_argument(
        "--mailbox-retry-after",
        metavar="SECONDS",
        type=_seconds,
        default=None,
        help="Retry-After seconds on a mailbox-concurrency 429 (default: no header)",
    )
    parser.add_argument("--token-lifetime", type=int, default=3600, help="access token lifetime in seconds")
    parser.add_argument("--ca-file", help="write the throwaway CA certificate (PEM) here")
    parser.add_argument("--ready-file", help="write a JSON file (url, ca_path, connection) once listening")
    parser.add_argument(
        "--certificate-file", action="append", default=[], help="register a PEM certificate on the app (repeatable)"
    )
    parser.add_argument("--client-secret", help="the app's secret (default: the documented test secret)")
    roles = parser.add_mutually_exclusive_group()
    roles.add_argument(
        "--app-role",
        action="append",
        dest="app_roles",
        metavar="PERMISSION",
        help="application permission granted with admin consent, in the roles of app tokens (repeatable; "
        f"default: {', '.join(DEFAULT_APP_ROLES)})",
    )
    roles.add_argument(
        "--no-app-roles",
        action="store_true",
        help="grant no application permission: app tokens carry no roles (permission added, admin consent missing)",
    )
    parser.add_argument(
        "--graph-resource",
        default=None,
        help="the Graph resource this emulator stands for; tokens for another audience get 401 "
        "(default https://graph.microsoft.com; e.g. https://graph.microsoft.us for US Gov L4)",
    )
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        type=_user_spec,
        metavar='ID,UPN,"Display Name"[,policy=no]',
        help="add a user to the tenant (repeatable): object id (GUID), UPN, display name, and policy=no "
        "for a user without an application access policy",
    )
    parser.add_argument(
        "--no-public-client-flows",
        action="store_true",
        help='the app registration\'s "Allow public client flows" is off: the device code flow needs a credential',
    )
    parser.add_argument(
        "--refresh-token-lifetime",
        type=int,
        default=None,
        help="refresh token lifetime in seconds (default 90 days)",
    )
    parser.add_argument(
        "--device-code-interval",
        type=int,
        default=None,
        help="seconds between polls the device code response asks for (default 5)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request to stderr")
    return parser


def _user_spec(value: str) -> object:
    from meetings_emulator.config import SeedUser

    try:
        return SeedUser.parse(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _seconds(text: str) -> float:
    from meetings_emulator.faults import parse_retry_after_seconds

    try:
        return parse_retry_after_seconds(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


#: ``EADDRINUSE``, and Windows' ``WSAEADDRINUSE`` (10048), which a bind may report as its winerror.
_ADDRESS_IN_USE = {errno.EADDRINUSE, 10048}


def _os_error_message(error: OSError, host: str, port: int) -> str:
    """One line for an OSError of start-up: the port taken, or what failed (no traceback)."""
    if error.errno in _ADDRESS_IN_USE or getattr(error, "winerror", None) in _ADDRESS_IN_USE:
        return (
            f"port {port} on {host} is already in use (another emulator still running?); "
            f"choose another with --port N, or --port 0 to pick a free one (printed at start)"
        )
    if error.errno == errno.EACCES and error.filename is None:
        return f"not allowed to listen on port {port} on {host} ({error.strerror}); choose a port above 1023"
    where = f": {error.filename}" if error.filename else f" (listening on {host}:{port})"
    return f"{error.strerror or error}{where}"


def main(argv: Sequence[str] | None = None) -> int:
    """Start the emulator, print how to connect, serve until a signal arrives."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    if not args.verbose:
        logging.getLogger("meetings_emulator").setLevel(logging.WARNING)

    from meetings_emulator.config import DEFAULT_CLIENT_SECRET, EmulatorConfig, default_users
    from meetings_emulator.persistence import write_atomically
    from meetings_emulator.runtime import RunningEmulator

    optional: dict[str, object] = {}
    if args.no_app_roles:
        optional["app_roles"] = ()
    elif args.app_roles:
        optional["app_roles"] = tuple(args.app_roles)
    if args.user:
        optional["users"] = (*default_users(), *args.user)
    for name in ("graph_resource", "refresh_token_lifetime", "device_code_interval"):
        if getattr(args, name) is not None:
            optional[name] = getattr(args, name)
    try:
        config = EmulatorConfig(
            host=args.host,
            port=args.port,
            client_secret=args.client_secret or DEFAULT_CLIENT_SECRET,
            certificates=[Path(p).read_text() for p in args.certificate_file],
            token_lifetime=args.token_lifetime,
            latency_ms=args.latency_ms,
            rate_limit=args.rate_limit,
            rate_limit_retry_after=None if args.no_retry_after else args.retry_after,
            mailbox_concurrency=args.mailbox_concurrency,
            mailbox_retry_after=args.mailbox_retry_after,
            state_file=args.state_file,
            ca_file=args.ca_file,
            log_requests=args.verbose,
            allow_public_client=not args.no_public_client_flows,
            **optional,  # type: ignore[arg-type]
        )
        emulator = RunningEmulator(config)
    except ValueError as error:
        print(f"meetings-emulator: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"meetings-emulator: error: {_os_error_message(error, args.host, args.port)}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    emulator.start()
    info = emulator.info()
    [(variable, connection)] = emulator.environment().items()
    where = "loopback only" if emulator.is_loopback else f"bound to {args.host}: REACHABLE FROM THE NETWORK"
    lines = [
        f"Meetings emulator (Entra ID + Graph onlineMeetings) listening on {emulator.url} ({where})",
        f"CA certificate: {emulator.ca_path}",
        f"Tenant: {info['tenant_id']} ({info['tenant_domain']})",
        f"Client id: {info['client_id']}",
        f"Client secret (test only): {info['client_secret']}",
        f"Expired client secret (answers AADSTS7000222): {', '.join(info['expired_client_secrets']) or '-'}",
        f"Refresh token (delegated, confidential client, redeem with the secret, {info['default_user_id']}): "
        f"{next(iter(info['refresh_tokens']), '-')}",
        f"Refresh token (delegated, public client, redeem without a secret, {info['default_user_id']}): "
        f"{next(iter(info['public_refresh_tokens']), '-')}",
        f"App roles (application permissions with admin consent): {', '.join(info['app_roles']) or '(none)'}",
        f"Emulated Graph resource (token audience): {info['graph_resource']}",
        "Users:",
        *(
            f"  {u['id']}  {u['userPrincipalName']:<28} {u['displayName']}"
            f"{'' if u['hasPolicy'] else '  (no application access policy)'}"
            for u in info["users"]
        ),
        f"Control endpoint: {emulator.url}/_emulator/",
        "Airflow connection (paste into the shell that runs airflow):",
        f"export {variable}={shlex.quote(connection)}",
    ]
    print("\n".join(lines), flush=True)
    if args.ready_file:
        write_atomically(
            args.ready_file,
            json.dumps(
                {
                    "url": emulator.url,
                    "ca_path": emulator.ca_path,
                    "pid": os.getpid(),
                    "tenant_id": info["tenant_id"],
                    "client_id": info["client_id"],
                    "connection": json.loads(connection),
                    "connection_json": connection,
                },
                indent=1,
            ),
        )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        print("Meetings emulator stopped.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
