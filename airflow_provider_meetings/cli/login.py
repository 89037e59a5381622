"""``airflow-provider-meetings login --conn-id X``: mint a delegated refresh token for a connection.

Runs the device code flow of the provider's token source
(:meth:`~airflow_provider_meetings.auth.token_source.TokenSource.for_device_code`,
https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code) with the
connection's client id, tenant, cloud or authority host, TLS and proxy settings, prints the
verification URL and code, waits for the organizer to sign in, and prints the
``refresh_token`` extra to set. The token is a public client's: the connection then needs
no client credential (Entra refuses a public client's token presented with one,
AADSTS700025). The app registration needs "Allow public client flows" and the delegated
permission ``OnlineMeetings.ReadWrite``.

The token is printed once, to standard output, and nowhere else: no logger, no exception
text. Everything else (the code to enter, progress, errors) goes to standard error.

The provider's modules are imported inside the functions that use them: the command line
imports every subcommand module to build its ``--help``, which should not load msal,
requests or Airflow.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import sys
import time
from typing import Any, TextIO

from airflow_provider_meetings.cli import read_connection, stdout_to_stderr
from airflow_provider_meetings.meetings.permissions import CREATE_OR_GET

#: One line for ``airflow-provider-meetings --help``.
HELP = "Sign in as the organizer (device code flow) and print the refresh_token extra of a connection."
#: The delegated Graph permission createOrGet needs (meetings/permissions.py).
DELEGATED_PERMISSION = CREATE_OR_GET.delegated
#: Entra's default refresh token lifetime (learn.microsoft.com/entra/identity-platform/refresh-tokens).
DEFAULT_REFRESH_TOKEN_DAYS = 90
DEFAULT_CONN_ID = "msgraph_meetings_default"

EXIT_OK = 0
EXIT_SIGN_IN_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``login`` subcommand's options."""
    parser.add_argument(
        "--conn-id",
        default=DEFAULT_CONN_ID,
        help=f"the msgraph_meetings connection whose app and tenant to sign in to (default {DEFAULT_CONN_ID})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up when nobody has signed in after this long (default: until the code expires, 15 minutes)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON object on standard output (messages stay on standard error)",
    )


class LoginFailed(Exception):
    """The sign-in did not produce a refresh token; the message says why and what to do."""

    def __init__(self, message: str, exit_code: int = EXIT_SIGN_IN_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def run(args: argparse.Namespace) -> int:
    """Run the device code flow for ``args.conn_id``; returns the exit status."""
    err = sys.stderr
    try:
        # Airflow may log to standard output while it loads; keep that for the token alone.
        with stdout_to_stderr():
            settings = _settings(args.conn_id)
            result = _sign_in(settings, timeout=args.timeout, err=err)
    except LoginFailed as failure:
        print(f"error: {failure}", file=err)
        return failure.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted: no refresh token was minted", file=err)
        return EXIT_INTERRUPTED
    _print_result(args, settings, result, out=sys.stdout, err=err)
    return EXIT_OK


def _settings(conn_id: str) -> Any:
    """The connection's checked settings; a credential is not needed to sign in."""
    from airflow_provider_meetings.graph.errors import ConnectionConfigError
    from airflow_provider_meetings.graph.settings import parse_connection

    try:
        conn = read_connection(conn_id)  # as the check reads it: the metadata database too
    except Exception as error:  # AirflowNotFoundException, or a secrets backend's error
        raise LoginFailed(
            f"cannot read connection {conn_id!r}: {error}. Create it first (type msgraph_meetings, the app's "
            "client id as login, the extra tenant_id), e.g. with 'airflow connections add' or an "
            f"AIRFLOW_CONN_{conn_id.upper()} variable",
            EXIT_CONFIG,
        ) from None
    try:
        return parse_connection(
            login=conn.login, password=conn.password, host=conn.host, extra=conn.extra, require_credential=False
        )
    except ConnectionConfigError as error:
        raise LoginFailed(f"connection {conn_id!r}: {error}", EXIT_CONFIG) from None


def _sign_in(settings: Any, *, timeout: float | None, err: TextIO) -> dict[str, Any]:
    """The device code flow; returns MSAL's successful result (with ``refresh_token``)."""
    from airflow_provider_meetings.auth.token_source import TokenSource
    from airflow_provider_meetings.graph.errors import ProviderError
    from airflow_provider_meetings.graph.settings import CLOUDS

    if timeout is not None and timeout <= 0:
        raise LoginFailed(f"--timeout must be more than 0 seconds, got {timeout:g}", EXIT_CONFIG)
    scopes = [f"{CLOUDS[settings.cloud].graph}/{DELEGATED_PERMISSION}"]  # MSAL adds offline_access
    # Nothing is masked: nothing here logs, and the token's one way out is standard output.
    source = TokenSource.for_device_code(settings, mask=_no_mask, log=logging.getLogger(__name__))
    try:
        flow = source.start_device_flow(scopes)
        if "user_code" not in flow:
            raise LoginFailed(f"Entra ID did not start the sign-in: {_entra_error(flow)}")
        print(
            flow.get("message") or f"Open {flow['verification_uri']} and enter the code {flow['user_code']}", file=err
        )
        code_expires = float(flow.get("expires_at", 0))
        if timeout is not None:
            flow["expires_at"] = min(code_expires, time.time() + timeout)
        # Which limit ends the wait: --timeout, or the code's own life.
        stopped_by_timeout = timeout is not None and flow["expires_at"] < code_expires
        waited = max(0, round(float(flow.get("expires_at", time.time())) - time.time()))
        print(
            f"Sign in as the organizer of the meetings. Waiting up to {waited // 60} min {waited % 60} s "
            "(Ctrl-C to stop) ...",
            file=err,
            flush=True,
        )
        result = source.finish_device_flow(flow)
    except (ProviderError, ValueError) as error:
        # Our transport, config and token endpoint errors, MSAL's discovery errors: none carries a token.
        raise LoginFailed(f"cannot reach Entra ID for connection settings {settings.authority}: {error}") from None
    finally:
        source.close()
    if "refresh_token" in result:
        return result
    raise LoginFailed(_explain_failure(result, timeout if stopped_by_timeout else None))


def _no_mask(secret: str) -> None:
    """Masks nothing (see :func:`_sign_in`)."""


def _entra_error(result: dict[str, Any]) -> str:
    """Entra's error and the first line of its description (the AADSTS code and text)."""
    description = str(result.get("error_description") or "").strip().splitlines()
    return f"{result.get('error', 'unknown_error')}" + (f": {description[0]}" if description else "")


def _explain_failure(result: dict[str, Any], timeout: float | None) -> str:
    """What went wrong with the sign-in, and what to do (never the tokens: there are none).

    :param timeout: ``--timeout`` when it ended the wait, else ``None`` (the code's life did)

    The device code flow's own errors (``authorization_pending`` ...) are OAuth's
    (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code); Entra's AADSTS
    codes are read and explained where the token source reads them (auth/token_source.py).
    """
    from airflow_provider_meetings.auth.token_source import NO_PUBLIC_CLIENT, PUBLIC_CLIENT_FLOWS
    from airflow_provider_meetings.graph.errors import authentication_error_from_msal

    error = result.get("error")
    if "access_token" in result:
        return "Entra ID issued no refresh token (offline_access was not granted); ask an admin to allow it"
    if error == "authorization_declined":
        return "the sign-in was declined. Run the command again and approve it"
    expired = "the code expired before anyone signed in (codes live 15 minutes). Run the command again"
    if error == "expired_token":
        return expired
    if error == "authorization_pending":
        # MSAL stops polling at expires_at and returns its last answer, still "pending"
        # (oauth2cli/oauth2.py, obtain_token_by_device_flow's exit_condition).
        return f"nobody signed in within --timeout {timeout:g} s. Run the command again" if timeout else expired
    if error == "bad_verification_code":
        return "Entra ID no longer knows the code (already used?). Run the command again"
    if authentication_error_from_msal(result).aadsts_code == NO_PUBLIC_CLIENT:
        return f"{_entra_error(result)}. Turn on {PUBLIC_CLIENT_FLOWS}, then run the command again"
    return f"Entra ID refused the sign-in: {_entra_error(result)}"


def _print_result(args: argparse.Namespace, settings: Any, result: dict[str, Any], *, out: TextIO, err: TextIO) -> None:
    """Print the refresh token (standard output, once) and what to do with it (standard error)."""
    token = result["refresh_token"]
    claims = result.get("id_token_claims") or {}
    user = claims.get("preferred_username") or claims.get("upn") or claims.get("oid") or "the user"
    now = datetime.datetime.now(datetime.timezone.utc)
    ends = (now + datetime.timedelta(days=DEFAULT_REFRESH_TOKEN_DAYS)).date().isoformat()
    credential = None if settings.public_client else settings.credential_kind
    if args.json:
        json.dump(
            {
                "conn_id": args.conn_id,
                "refresh_token": token,
                "user": user,
                "tenant_id": settings.tenant_id,
                "client_id": settings.client_id,
                "minted_at": now.isoformat(timespec="seconds"),
                "default_expiry": ends,
                "connection_has_credential": credential,
            },
            out,
        )
        out.write("\n")
    else:
        print(f"\nSigned in as {user}. Set this as the refresh_token extra of connection {args.conn_id!r}:\n", file=err)
        print(token, file=out, flush=True)
        print(
            f'\nIn the UI: Admin > Connections > {args.conn_id} > "Refresh token (delegated)"; in the extra '
            'JSON: "refresh_token": "<the token above>". Treat it like a password.',
            file=err,
        )
    if credential is not None:
        print(
            f"warning: connection {args.conn_id!r} has a client credential ({credential}). This token is a public "
            "client's and Entra ID refuses it when a credential comes with it (AADSTS700025): remove the password, "
            "certificate_path and federated_token_file from the connection when you set refresh_token.",
            file=err,
        )
    print(
        f"Entra ID ends this token {DEFAULT_REFRESH_TOKEN_DAYS} days after today (about {ends}), sooner by tenant "
        "policy. With the extra token_cache_path, tasks go on with its newest rotated successor instead; "
        f"otherwise run 'airflow-provider-meetings login --conn-id {args.conn_id}' again before then.",
        file=err,
    )
