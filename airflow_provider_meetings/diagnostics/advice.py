"""The connection check's advice: from what a step found to one message and one fix.

Each function turns a finding (a field that does not parse, Entra's refusal, Graph's error
answer) into a :class:`~airflow_provider_meetings.diagnostics.report.Failed` with a stable
``problem`` name, or, where the finding decides nothing, a skipped
:class:`~airflow_provider_meetings.diagnostics.report.Outcome`. Nothing here sends a request;
the texts are built from the provider's own errors, which never carry secrets.
"""

from __future__ import annotations

import urllib.request
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_meetings.artifacts.permissions import MEETING_LOOKUP
from airflow_provider_meetings.auth.token_source import refresh_token_ended, remint_advice
from airflow_provider_meetings.diagnostics.claims import claim_name, holds
from airflow_provider_meetings.diagnostics.report import Failed, Outcome
from airflow_provider_meetings.events.permissions import CALENDAR_EVENTS, CALENDAR_EVENTS_SHARED
from airflow_provider_meetings.graph.errors import (
    ApplicationAccessPolicyError,
    AuthenticationError,
    ConnectionConfigError,
    GraphAPIError,
    TransportError,
)
from airflow_provider_meetings.graph.settings import ConnectionSettings
from airflow_provider_meetings.meetings.permissions import CREATE_OR_GET, USER_LOOKUP

__all__ = [
    "artifact_permissions_missing",
    "artifacts_granted",
    "audience_refused",
    "ca_bundle_missing",
    "calendar_events_note",
    "calendar_providers_note",
    "cloud_mismatch",
    "cloud_without_create_or_get",
    "connection_not_found",
    "discovery_refused",
    "graph_refused",
    "invalid_field",
    "masked_secret",
    "network_failure",
    "permission_missing",
    "proxy_for",
    "scope_missing",
    "sentence",
    "store_unavailable",
    "token_audience",
    "token_refused",
]

_ENTRA_ERROR_PAGE = "https://login.microsoftonline.com/error?code={code}"
_ROLES = {"login": "the Entra ID login host", "graph": "Graph"}


def sentence(text: object) -> str:
    """``text`` ending with a full stop (the provider's error texts mostly end without one)."""
    text = str(text).rstrip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _where_to_edit(conn_id: str) -> str:
    return (
        f"Edit connection {conn_id!r} where it is stored (Admin > Connections, the variable "
        f"AIRFLOW_CONN_{conn_id.upper()}, or your secrets backend)"
    )


# -- step 1: the connection's fields ----------------------------------------------------------


def invalid_field(error: ConnectionConfigError, conn_id: str) -> Failed:
    """A field of the stored connection that does not parse."""
    return Failed("invalid_field", sentence(error), f"{_where_to_edit(conn_id)}: correct {error.field}.")


def connection_not_found(conn_id: str) -> Failed:
    """No connection of that id anywhere Airflow looks."""
    return Failed(
        "connection_not_found",
        f"Connection {conn_id!r} is not defined (looked in AIRFLOW_CONN_* variables, the "
        "secrets backends and the metadata database).",
        "Create it with conn_type msgraph_meetings: Admin > Connections, `airflow connections add`, "
        f"an AIRFLOW_CONN_{conn_id.upper()} variable, or your secrets backend.",
    )


def ca_bundle_missing(path: str) -> Failed:
    """The extra ``verify`` names a CA bundle that is not on this machine."""
    return Failed(
        "ca_bundle_missing",
        f"The CA bundle {path!r} of the extra verify does not exist on this machine.",
        "Set verify to the path of a PEM file with the CA certificates that sign the login and Graph "
        "hosts (the file must exist where tasks run), or remove verify to use the system's CAs.",
    )


def masked_secret(fields: list[str], conn_id: str) -> Failed:
    """The secret to test is Airflow's mask ``***``: the UI's Test button sent the masked form."""
    return Failed(
        "masked_secret",
        f"The connection to test has {' and '.join(fields)} set to '***', Airflow's mask for a secret, "
        "not the secret itself: Airflow's UI Test button posts the masked form, and Airflow 3.3 then "
        "tests those values instead of the stored ones (apache/airflow#73298). Nothing was sent to Entra ID.",
        f"Test the stored connection with `airflow connections test {conn_id}`, or with the REST API "
        f'by its id alone (POST /api/v2/connections/test {{"connection_id": "{conn_id}", '
        '"conn_type": "msgraph_meetings"}), or type the real secret into the form before pressing Test.',
    )


def cloud_without_create_or_get(cloud: str) -> Failed:
    """A national cloud whose Graph has no createOrGet."""
    return Failed(
        "cloud_without_create_or_get",
        f"The {cloud!r} cloud has no onlineMeetings/createOrGet in Graph v1.0.",
        "This provider cannot create meetings there; if the tenant is in another cloud, set the extra "
        "cloud to it (global, usgov, dod).",
    )


# -- no answer: network, proxy, TLS -----------------------------------------------------------


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def proxy_for(settings: ConnectionSettings) -> str:
    """The proxy in use for https, without credentials: ``proxy.corp:3128``, or where it comes from."""
    proxies = settings.proxies or urllib.request.getproxies()
    url = proxies.get("https") or proxies.get("all")
    source = "the extra proxies" if settings.proxies else "the environment (HTTPS_PROXY)"
    if not url:
        return f"set in {source}"
    parts = urlsplit(url if "://" in url else f"http://{url}")
    where = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    return f"{where} (from {source})"


def network_failure(
    error: TransportError | ConnectionConfigError, *, where: str, settings: ConnectionSettings
) -> Failed:
    """A request that got no usable answer: unreachable host or proxy, timeout, untrusted TLS.

    :param error: what the transport raised
    :param where: ``login`` (Entra ID) or ``graph``
    :param settings: the connection's settings
    """
    host = settings.authority_host if where == "login" else _host(settings.graph_url)
    role = _ROLES[where]
    if isinstance(error, ConnectionConfigError):
        if error.field == "verify":
            return Failed(
                "untrusted_certificate",
                f"The TLS certificate of {role} {host} is not trusted (CERTIFICATE_VERIFY_FAILED).",
                "If a proxy or firewall inspects TLS, set the extra verify to the path of its CA bundle (PEM); "
                "your network team has it. verify=false is no fix: it lets anyone on the way read the tokens.",
            )
        return Failed("invalid_field", sentence(error), f"Correct {error.field} in the connection.")
    if error.kind == "proxy":
        return Failed(
            "proxy_unreachable",
            f"Could not reach the proxy {proxy_for(settings)} on the way to {role} {host} ({error.reason}).",
            "Correct the extra proxies (or HTTPS_PROXY) to a proxy this machine reaches, or remove it if "
            f"{host} is reachable directly (then list it in NO_PROXY).",
        )
    if error.kind == "timeout":
        return Failed(
            f"{where}_timeout",
            f"{role[0].upper()}{role[1:]} {host} did not answer within {settings.timeout:g} s.",
            f"Check the network path to {host}: a firewall that drops packets times out instead of refusing. "
            "Raise the extra timeout only if the network is merely slow.",
        )
    return Failed(
        f"{where}_unreachable",
        f"Could not connect to {role} {host} ({error.reason}).",
        f"Check that this machine reaches {host} over HTTPS (DNS, firewall, NO_PROXY); behind a proxy set "
        "the extra proxies. For a national cloud set the extra cloud rather than a host override.",
    )


# -- step 2: the access token -----------------------------------------------------------------


def discovery_refused(settings: ConnectionSettings, status: int | None, body: Any) -> Failed:
    """Why MSAL could not read the tenant's OpenID configuration, from Entra's own answer.

    MSAL reports a refused discovery as a bare ``ValueError`` (msal/authority.py,
    ``tenant_discovery``); Entra's answer says which: AADSTS90002 for an unknown tenant.

    :param status: the discovery answer's status (``None``: no answer)
    :param body: its JSON (``None``: not JSON)
    """
    codes = body.get("error_codes") if isinstance(body, dict) else None
    if isinstance(body, dict) and (body.get("error") == "invalid_tenant" or 90002 in (codes or [])):
        return Failed(
            "wrong_tenant",
            f"Entra ID at {settings.authority_host} does not know the tenant {settings.tenant_id!r} (AADSTS90002).",
            "Set the extra tenant_id to the Directory (tenant) ID on the app registration's Overview page (or a "
            "verified domain of the tenant). A tenant of a national cloud exists only at its cloud's login host: "
            "set the extra cloud (usgov, dod, china).",
        )
    shown = f"HTTP {status}" if status is not None else "no answer"
    return Failed(
        "login_host_wrong",
        f"{settings.authority_host} did not serve the OpenID configuration of tenant {settings.tenant_id!r} ({shown}).",
        "Check the extras tenant_id and authority_host; leave authority_host empty to use the cloud's login host.",
    )


def token_refused(error: BaseException, settings: ConnectionSettings, *, conn_id: str) -> Failed | None:
    """Entra ID's refusal (or no answer) to the token request, by its AADSTS code
    (:attr:`~airflow_provider_meetings.graph.errors.AuthenticationError.aadsts_code`).

    :param error: what the token source raised (a retry wrapper already removed)
    :return: the advice, or ``None`` for an error the check has no name for
    """
    if isinstance(error, (TransportError, ConnectionConfigError)):
        if isinstance(error, ConnectionConfigError) and error.field != "verify":
            return Failed("invalid_credential", sentence(error), f"{_where_to_edit(conn_id)}: correct {error.field}.")
        return network_failure(error, where="login", settings=settings)
    if not isinstance(error, AuthenticationError):
        return None
    code = error.aadsts_code
    app = settings.client_id
    if code == "AADSTS7000215":
        return Failed(
            "wrong_secret",
            f"Entra ID refused the client secret of app {app} (AADSTS7000215: invalid client secret).",
            "Put the secret's Value, not its Secret ID, in the connection's password (Entra admin center > "
            "App registrations > the app > Certificates & secrets). The value is shown only when the secret "
            "is created: if it is lost, create a new secret.",
        )
    if code == "AADSTS7000222":
        return Failed(
            "expired_secret",
            f"The client secret of app {app} has expired (AADSTS7000222).",
            "Create a new client secret (App registrations > the app > Certificates & secrets > New client "
            "secret), put its Value in the connection's password, and delete the expired one.",
        )
    if code == "AADSTS700027":
        return Failed(
            "certificate_not_registered",
            f"Entra ID does not accept the certificate of {settings.certificate_path} for app {app} "
            "(AADSTS700027): it is not registered on the app, or the key does not belong to it.",
            "Upload the certificate's public part to App registrations > the app > Certificates & secrets > "
            "Certificates, or point certificate_path at the PEM of a certificate registered there (and clear "
            "certificate_thumbprint if it names another certificate).",
        )
    if code == "AADSTS90002":
        return Failed(
            "wrong_tenant",
            f"Entra ID at {settings.authority_host} does not know the tenant {settings.tenant_id!r} (AADSTS90002).",
            "Set the extra tenant_id to the Directory (tenant) ID on the app registration's Overview page.",
        )
    if code == "AADSTS700016":
        return Failed(
            "unknown_client",
            f"Tenant {settings.tenant_id} has no application with client id {app} (AADSTS700016).",
            "Set login to the Application (client) ID on the app registration's Overview page, and tenant_id "
            "to the tenant the app is registered in.",
        )
    ended = refresh_token_ended(error) if settings.delegated else None
    if ended is not None:  # the task's error gives the same advice (auth/token_source.py delegated_hint)
        return Failed(
            "refresh_token_expired" if code == "AADSTS700082" else "refresh_token_invalid",
            f"The connection's refresh token {ended} ({code or error.error}).",
            f"Sign in again: {remint_advice(settings, conn_id)} (docs/connection.md, Delegated mode).",
        )
    if error.error == "invalid_response":
        return Failed(
            "not_entra",
            sentence(error),
            f"Make sure requests to {settings.authority_host} reach Entra ID (directly, or through the proxy "
            "of the extra proxies).",
        )
    if not error.permanent:
        return Failed(
            "entra_unavailable",
            f"Entra ID could not issue a token right now: {sentence(error)}",
            "Throttling or an outage, not a setting: run the check again in a few minutes.",
        )
    lookup = f" Microsoft explains {code} at {_ENTRA_ERROR_PAGE.format(code=code[len('AADSTS') :])}." if code else ""
    return Failed("token_refused", sentence(error), f"Follow Entra's message above.{lookup}")


# -- step 3: the permission in the token ------------------------------------------------------


def scope_missing(scopes: list[str]) -> Failed:
    """A delegated token without createOrGet's delegated permission."""
    needed = CREATE_OR_GET.delegated
    return Failed(
        "scope_missing",
        f"The delegated token's scopes are {', '.join(scopes) or 'none'}; {CREATE_OR_GET.operation} needs {needed}.",
        f"Add the delegated permission {needed} (App registrations > the app > API permissions > "
        "Microsoft Graph > Delegated permissions), let the user or an admin consent, and store a new "
        "refresh token (docs/connection.md, Delegated mode).",
    )


def permission_missing(roles: list[str], settings: ConnectionSettings) -> Failed:
    """An app-only token without createOrGet's application permission."""
    needed = CREATE_OR_GET.application
    found = (
        f"the app token's application permissions are {', '.join(roles)}"
        if roles
        else "the app token carries no application permission (no roles claim)"
    )
    return Failed(
        "permission_missing",
        f"{found[0].upper()}{found[1:]}; {CREATE_OR_GET.operation} needs {needed}.",
        f"App registrations > {settings.client_id} > API permissions > Add a permission > Microsoft Graph > "
        f"Application permissions > {needed}, then Grant admin consent for the tenant (a delegated "
        "permission of the same name does not count for app-only tokens). Run the check again afterwards: "
        "tokens issued before the consent keep their old roles.",
    )


# -- step 4: the Graph host and the token's audience ------------------------------------------


def cloud_mismatch(settings: ConnectionSettings, expected: str, host_cloud: str) -> Failed:
    """``host`` is the Graph of another national cloud than the connection's."""
    return Failed(
        "cloud_mismatch",
        f"The connection's cloud is {settings.cloud!r}, so tokens are for {expected}, but host sends the "
        f"requests to {settings.graph_url}, the Graph of the {host_cloud!r} cloud, which refuses them (401 Invalid "
        "audience).",
        f"If the tenant is in the {host_cloud!r} cloud, set the extra cloud to {host_cloud!r} and clear host; "
        f"otherwise clear host (it defaults to the {settings.cloud!r} cloud's Graph).",
    )


def token_audience(settings: ConnectionSettings, expected: str, audience: str) -> Failed:
    """The token's ``aud`` is not the connection's Graph."""
    return Failed(
        "token_audience",
        f"The token is for {audience}, not for the {settings.cloud!r} cloud's Graph {expected}.",
        "Check the extras cloud and authority_host: the login host must belong to the same cloud as Graph.",
    )


def audience_refused(settings: ConnectionSettings, shown: str, error: GraphAPIError) -> Failed:
    """Graph at ``host`` answered 401 "Invalid audience": it serves another cloud."""
    return Failed(
        "audience_refused",
        f"Graph at {settings.graph_url} refused the token for {shown} with {error.status} {error.code} "
        f"({error.message.rstrip('.')}): that Graph serves another cloud than {settings.cloud!r}.",
        "Set the extra cloud to the cloud of the Graph at host (usgov for graph.microsoft.us, dod for "
        f"dod-graph.microsoft.us), or point host at the {settings.cloud!r} cloud's Graph.",
    )


# -- step 5: the organizer and the access policy ----------------------------------------------


def _lookup_refused(settings: ConnectionSettings, user: str, error: GraphAPIError, said: str) -> Failed:
    """The organizer's ``GET /users/{upn}`` answered 403 or 404 (the hook sends the same request)."""
    if error.status == 403:
        # https://learn.microsoft.com/graph/api/user-get#permissions: application
        # User.Read.All; delegated User.ReadBasic.All (least privileged).
        needed = USER_LOOKUP.for_token(delegated=settings.delegated)
        grant = (
            f"Grant the delegated permission {needed} and consent to it"
            if settings.delegated
            else f"Grant the application permission {needed} with admin consent"
        )
        return Failed(
            "organizer_lookup_denied",
            f"Graph answered {said} to GET /users/{user}: organizer {user} is a user principal "
            f"name, and the app may not look up its object id ({needed} missing).",
            f"{grant}, or set default_user_id to the organizer's object id, which needs no lookup.",
        )
    return Failed(
        "organizer_not_found",
        f"Graph answered {said} to GET /users/{user}: no user of the tenant has the user principal name {user}.",
        f"Set default_user_id to the object id (or the exact user principal name) of a user of tenant "
        f"{settings.tenant_id} (Entra admin center > Users > the user).",
    )


def _signed_in_user_unconfirmed(error: GraphAPIError, said: str, organizer_in_url: str | None) -> Outcome:
    """A 404 to ``/me``'s meetings lookup: the signed-in user exists, so nothing is confirmed.

    Graph matches the organizer in the join URL's context against the user asked about
    (microsoftgraph/microsoft-graph-docs#10770: "Organizer Id mismatch", 404); a token whose
    ``oid`` could not be read leaves the join URL without the right organizer.
    """
    named = f" (organizer {organizer_in_url} in the join URL)" if organizer_in_url else ""
    return Outcome(
        f"Graph answered {said} to the signed-in user's read-only meetings lookup{named}, so the check could "
        "not confirm that Graph serves meetings for this user; createOrGet will tell. If tasks fail with 404 "
        "too, check that the signed-in user has a Teams licence and that the access token's oid is that user.",
        skipped=True,
    )


def graph_refused(
    settings: ConnectionSettings,
    error: GraphAPIError,
    *,
    user: str | None,
    lookup: bool,
    roles_checked: bool,
    organizer_in_url: str | None = None,
) -> Failed | Outcome:
    """Graph's error answer to step 5's probe: what it says about the organizer and the policy.

    :param error: Graph's answer
    :param user: the organizer as configured (``None``: the signed-in user)
    :param lookup: the answer was to the organizer's user lookup
    :param roles_checked: step 3 read the permission from the token
    :param organizer_in_url: the ``Oid`` the probe's join URL named
    """
    who = f"organizer {user}" if user else "the signed-in user"
    said = f"{error.status} {error.code} ({error.message.rstrip('.')})"
    app_permission = CREATE_OR_GET.application
    if lookup and error.status in (403, 404) and user:
        return _lookup_refused(settings, user, error, said)
    if isinstance(error, ApplicationAccessPolicyError):  # graph_error_from_response's 403 of a missing policy
        return Failed(
            "no_access_policy",
            f"Graph answered {said} for {who}: no application access policy lets app {settings.client_id} "
            "act for them.",
            "A Teams administrator runs (PowerShell, MicrosoftTeams module): New-CsApplicationAccessPolicy "
            f'-Identity Airflow-Meetings -AppIds "{settings.client_id}", then Grant-CsApplicationAccessPolicy '
            f'-PolicyName Airflow-Meetings -Identity "{user}" (or -Global for every user). Changes take up '
            "to 30 minutes to apply.",
        )
    if error.status == 403 and settings.delegated and user:
        return Failed(
            "delegated_other_user",
            f"Graph answered {said} for {who}: a delegated token acts only as the user who signed in.",
            "Clear default_user_id (meetings are then created as the signed-in user), or set it to that "
            "user's object id.",
        )
    if error.status == 403 and not roles_checked:
        return Failed(
            "permission_missing",
            f"Graph answered {said} for {who}: the token lacks the permission.",
            f"Grant the application permission {app_permission} with admin consent (API permissions of the app "
            "registration).",
        )
    if error.status == 403:
        return Failed(
            "organizer_forbidden",
            f"Graph answered {said} for {who}, although the token carries {app_permission}.",
            f"Check that {user} is a user of tenant {settings.tenant_id} with a Teams licence and that the "
            f"access policy granted to them names app {settings.client_id}.",
        )
    if error.status == 404 and user is None:
        return _signed_in_user_unconfirmed(error, said, organizer_in_url)
    if error.status == 404:
        return Failed(
            "organizer_not_found",
            f"Graph answered {said} for {who}.",
            f"Set default_user_id to the object id of a user of tenant {settings.tenant_id} (Entra admin center > "
            "Users > the user > Object ID). Graph also answers 404 for users without a Teams licence.",
        )
    if error.status == 401:
        return Failed(
            "graph_token_refused",
            f"Graph at {settings.graph_url} refused the access token: {said}.",
            "Run the check again (the token may have expired meanwhile); if it persists, check that host points "
            "at Microsoft Graph.",
        )
    if not error.permanent:
        return Failed(
            "graph_unavailable",
            f"Graph could not answer right now: {said}.",
            "Throttling or an outage, not a setting: run the check again in a few minutes.",
        )
    if error.status == 400:
        # Microsoft documents no answer for a join URL that matches nothing; a 400 means Graph
        # accepted the token and permission but leaves the access policy unconfirmed.
        return Outcome(
            f"Graph answered {said} to the read-only lookup for {who}, so the access policy could not be "
            "confirmed; createOrGet will tell.",
            skipped=True,
        )
    return Failed("graph_error", f"Graph answered {said} for {who}.", "Follow Graph's message above.")


def calendar_events_note(granted: list[str], *, delegated: bool) -> str:
    """One sentence on the calendar events' permission: information, never a failure.

    A connection used for createOrGet only does not need ``Calendars.ReadWrite``; one used
    for calendar events (``docs/events.md``) does, and a delegated one that writes to another
    user's calendar also needs ``Calendars.ReadWrite.Shared``.

    :param granted: the permission names of the token's ``scp`` (delegated) or ``roles`` claim
    :param delegated: whether the token acts as a signed-in user
    """
    wanted = CALENDAR_EVENTS.for_token(delegated=delegated)
    if not holds(granted, wanted):
        kind = "delegated" if delegated else "application"
        return (
            f"Calendar events: the token lacks the {kind} permission {wanted}, which calendar events "
            "(CreateOrGetTeamsEventOperator, create_or_get_event) need; createOrGet alone does not. "
            f"Grant {wanted} ({'with admin consent' if not delegated else 'and sign in again'}) to use them."
        )
    note = f"Calendar events: the token also carries {wanted} ({claim_name(delegated)})"
    shared = CALENDAR_EVENTS_SHARED.delegated
    if delegated and not holds(granted, shared):
        note += f"; writing to another user's calendar (user_id=) also needs {shared} and their delegation"
    return note + "."


def calendar_providers_note(providers: list[str] | None) -> str:
    """One sentence on the organizer calendar's Teams provider: information, never a failure.

    :param providers: the calendar's ``allowedOnlineMeetingProviders``, ``None`` when unread
    """
    if providers is None:
        return ""
    if "teamsforbusiness" in {p.lower() for p in providers}:
        return "Calendar events: the organizer's calendar offers Teams meetings (teamsForBusiness)."
    shown = ", ".join(providers) or "none"
    return (
        f"Warning: the organizer's calendar does not offer teamsForBusiness (allowedOnlineMeetingProviders: "
        f"{shown}): calendar events there would get no Teams link (MissingJoinUrlError). The mailbox needs a "
        "work account with a Teams licence; createOrGet meetings are not affected."
    )


# -- step 6: the artifacts' permissions (when asked) ------------------------------------------


def artifact_permissions_missing(missing: dict[str, str], granted: list[str], settings: ConnectionSettings) -> Failed:
    """The token lacks the permission of an artifact the connection's DAGs fetch.

    :param missing: each artifact asked for whose permission the token lacks, and that permission
    :param granted: the permission names of the token's ``roles`` or ``scp``
    :param settings: the connection's settings
    """
    claim = claim_name(settings.delegated)
    listed = "; ".join(f"{kind} needs {permission}" for kind, permission in missing.items())
    wanted = ", ".join(dict.fromkeys(missing.values()))
    if settings.delegated:
        fix = (
            f"Add the delegated permission(s) {wanted} (App registrations > {settings.client_id} > API "
            "permissions > Microsoft Graph > Delegated permissions), let the user or an admin consent, and store a "
            "new refresh token (airflow-provider-meetings login). See docs/artifacts.md, Permissions."
        )
    else:
        fix = (
            f"App registrations > {settings.client_id} > API permissions > Add a permission > Microsoft Graph > "
            f"Application permissions > {wanted}, then Grant admin consent for the tenant. Run the check again "
            "afterwards: tokens issued before the consent keep their old roles. See docs/artifacts.md, Permissions."
        )
    return Failed(
        "artifact_permission_missing",
        f"The token ({claim}: {', '.join(granted) or 'none'}) lacks what the artifacts asked for need: {listed}.",
        fix,
    )


def artifacts_granted(needed: dict[str, str], granted: list[str], *, delegated: bool) -> str:
    """What step 6 found when every artifact's permission is there, and what else artifacts need.

    :param needed: each artifact asked for and its permission (all granted)
    :param granted: the permission names of the token's ``roles`` or ``scp``
    :param delegated: whether the token acts as a signed-in user
    """
    found = ", ".join(f"{permission} ({kind})" for kind, permission in needed.items())
    message = f"The token carries {found} in {claim_name(delegated)}."
    lookup = MEETING_LOOKUP.for_token(delegated=delegated)
    if not holds(granted, lookup):
        message += (
            f" Naming a meeting by join_url or external_id also needs {lookup}, which the token lacks; "
            "meeting_id works without it."
        )
    if not delegated:
        message += " App-only artifact requests also need the organizer's application access policy (step 5)."
    if "transcript" in needed or "recording" in needed:
        message += " Transcripts and recordings exist only for meetings of calendar events."
    return message


# -- step 7: the shared rate budget's store ---------------------------------------------------


def store_unavailable(description: str, reason: str, kind: str) -> Failed:
    """The rate budget's store did not answer.

    :param description: where the budget lives (no password)
    :param reason: what the store said
    :param kind: the connection's ``rate_budget``
    """
    fixes = {
        "file": "Make the folder writable by the user Airflow's workers run as, or set token_cache_path to a "
        "writable folder (the budget's files live beside the token cache).",
        "redis": "Check rate_budget_url (host, port, database, password) and that the workers reach that Redis; "
        "the Celery broker's Redis serves well (another database number).",
        "database": "Check Airflow's [database] sql_alchemy_conn and that this process reaches the database.",
    }
    return Failed(
        "rate_budget_unavailable",
        f"The shared rate budget ({description}) did not answer: {sentence(reason)} Bulk calls still work, but "
        "each process paces itself (a WARNING says so in task logs) and several workers throttle each other.",
        fixes.get(kind, "") + " Or set the extra rate_budget to 'off' to pace each process alone on purpose.",
    )
