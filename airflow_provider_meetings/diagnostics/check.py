"""The connection check: ordered steps that name the first misconfiguration and how to fix it.

One check serves :meth:`OnlineMeetingsHook.test_connection()
<airflow_provider_meetings.hooks.online_meetings.OnlineMeetingsHook.test_connection>` (Airflow's
*Test* button) and the console command ``airflow-provider-meetings check``. The steps run in
order and stop at the first failure; each failure carries one message and one fix:

1. ``settings``: the connection's fields parse, no secret is Airflow's mask ``***`` (what the
   UI's *Test* button may post), the CA bundle exists, the cloud has createOrGet;
2. ``token``: Entra ID issues an access token (each known refusal or network failure by name);
3. ``permission``: the token carries createOrGet's permission
   (:data:`~airflow_provider_meetings.meetings.permissions.CREATE_OR_GET`) in ``roles``
   (app-only) or ``scp`` (delegated), read from the JWT without verifying it; the step's
   message also says whether the token carries calendar events' ``Calendars.ReadWrite``
   (:mod:`~airflow_provider_meetings.events.permissions`), as information only: a
   connection used for createOrGet alone does not need it;
4. ``audience``: the Graph the connection talks to takes tokens of the token's audience (a
   national-cloud mix-up);
5. ``organizer``: the organizer exists and the application access policy covers them, from one
   read-only Graph request that creates nothing (:mod:`~airflow_provider_meetings.diagnostics.probes`);
   when the token carries ``Calendars.ReadWrite``, one more read-only GET of the organizer's
   calendar says whether it offers Teams meetings (``allowedOnlineMeetingProviders``), as
   information only;
6. ``artifacts``: only when asked (the extra ``check_artifacts`` or the command's
   ``--artifacts``): the token carries the permission of each meeting artifact the DAGs fetch
   (:mod:`~airflow_provider_meetings.artifacts.permissions`), read from the JWT;
7. ``rate_budget``: the store of the shared rate budget (the extra ``rate_budget``) answers one
   read-modify-write that changes nothing (:func:`~airflow_provider_meetings.diagnostics.probes.probe_rate_budget`).

Step 4 comes before step 5 because Graph checks a token's audience before anything else: a
401 "Invalid audience" answer to the request of step 5 is the audience's failure, not the
organizer's. Both steps read the same answer; the request is sent once (Graph's one 401
refresh aside, which the Graph client applies to every call).

This module holds the steps and their order; the requests are in
:mod:`~airflow_provider_meetings.diagnostics.probes` (sent through the Graph client with no
retries), the texts in :mod:`~airflow_provider_meetings.diagnostics.advice`, the results in
:mod:`~airflow_provider_meetings.diagnostics.report`. Nothing secret leaves: messages are built
from the provider's own errors, which never carry secrets, and every text is scrubbed of the
connection's secrets and of every token the check saw before it is returned.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_provider_meetings.artifact_args import check_artifacts
from airflow_provider_meetings.artifacts.permissions import permission_for
from airflow_provider_meetings.diagnostics import advice
from airflow_provider_meetings.diagnostics.claims import granted, holds, read_claims, signed_in_user_id
from airflow_provider_meetings.diagnostics.probes import (
    OrganizerProbe,
    attempt_error,
    check_client,
    fetch_openid_configuration,
    probe_rate_budget,
    read_online_meeting_providers,
    send_organizer_probe,
)
from airflow_provider_meetings.diagnostics.report import CheckReport, Failed, Outcome, Status, StepResult, scrub
from airflow_provider_meetings.events.permissions import CALENDAR_EVENTS
from airflow_provider_meetings.graph.budget.factory import describe_backend
from airflow_provider_meetings.graph.budget.store import StoreUnavailable
from airflow_provider_meetings.graph.client import GraphClient
from airflow_provider_meetings.graph.errors import (
    AuthenticationError,
    ConnectionConfigError,
    GraphAPIError,
    ProviderError,
    TransportError,
)
from airflow_provider_meetings.graph.settings import (
    CLOUDS,
    ConnectionSettings,
    parse_extra,
    parse_proxies,
    url_passwords,
)
from airflow_provider_meetings.meetings.availability import has_create_or_get
from airflow_provider_meetings.meetings.permissions import CREATE_OR_GET

__all__ = ["GRAPH_APP_ID", "STEPS", "CheckRun", "CheckableHook", "check_connection"]

#: Microsoft Graph's application id: the ``aud`` of a token whose scope named Graph by this id.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


class CheckableHook(Protocol):
    """What the check needs of a hook; :class:`OnlineMeetingsHook` has all of it."""

    conn_id: str

    @property
    def settings(self) -> ConnectionSettings: ...

    @property
    def log(self) -> Any: ...

    def get_connection(self, conn_id: str) -> Any: ...


@dataclass
class CheckRun:
    """The state of one check run: what earlier steps learned, for the later ones.

    :param hook: the hook whose connection is checked
    :param mask: also receives every secret the check's client sees
    :param artifacts: the artifacts whose permissions step 6 checks (``None``: the extra
        ``check_artifacts``)
    :param database_url: the metadata database's SQLAlchemy URL, for ``rate_budget: database``
    """

    hook: CheckableHook
    mask: Callable[[str], None] | None = None
    artifacts: tuple[str, ...] | None = None
    database_url: str | None = None
    secrets: list[str] = field(default_factory=list)
    settings: ConnectionSettings | None = None
    token: str | None = None
    claims: dict[str, Any] | None = None
    roles_checked: bool = False
    probe_result: OrganizerProbe | None = None
    probe_sent: bool = False
    graph: GraphClient | None = None

    @property
    def cfg(self) -> ConnectionSettings:
        """The settings (steps after the first run only once it passed)."""
        assert self.settings is not None
        return self.settings

    @property
    def client(self) -> GraphClient:
        """The check's own Graph client, without retries (built on first use)."""
        if self.graph is None:
            self.graph = check_client(self.cfg, log=self.hook.log, mask=self.keep_secret, conn_id=self.hook.conn_id)
        return self.graph

    def keep_secret(self, secret: str) -> None:
        """A secret the check's client saw (a token): scrubbed from the texts, and masked."""
        self.secrets.append(secret)
        if self.mask is not None:
            self.mask(secret)

    def probe(self) -> OrganizerProbe | None:
        """Step 5's requests, sent once (``None`` when there is nobody to ask about)."""
        if not self.probe_sent:
            self.probe_sent = True
            self.probe_result = send_organizer_probe(
                self.client, self.cfg, signed_in_user=signed_in_user_id(self.claims)
            )
        return self.probe_result

    def close(self) -> None:
        """Close the check's client, if one was built."""
        if self.graph is not None:
            self.graph.close()


# -- step 1: the connection's fields ----------------------------------------------------------


def _stored_connection(hook: CheckableHook) -> Any | None:
    """The stored connection, read once for step 1's looks at its raw fields (``None`` when it
    cannot be read: reading it again through ``hook.settings`` names why)."""
    try:
        return hook.get_connection(hook.conn_id)
    except Exception:  # the failure itself is step 1's finding
        return None


def _connection_secrets(conn: Any) -> list[str]:
    """The secrets of the stored connection, to scrub from texts even when it does not parse."""
    try:
        extra = parse_extra(conn.extra)  # not extra_dejson, which logs a traceback for bad JSON
    except Exception:  # an extra that is not JSON: step 1's finding
        return [str(conn.password)] if conn.password else []
    values = [conn.password, extra.get("private_key_password"), extra.get("refresh_token")]
    try:
        proxies = parse_proxies(extra.get("proxies")) or {}  # a mapping, or JSON text (the UI form's field)
    except ConnectionConfigError:
        proxies = {}
    urls = [extra.get("rate_budget_url"), *proxies.values()]
    return [str(v) for v in values if v] + [p for url in urls for p in url_passwords(str(url or ""))]


#: What Airflow's API and UI show in place of a secret (``airflow.sdk`` secrets masker's
#: replacement); a connection whose secret *is* this text came from a masked form.
MASKED_VALUE = "***"


def _masked_fields(conn: Any) -> list[str]:
    """The fields of the connection whose value is Airflow's mask, ``***``.

    The UI's *Test* button posts the form as the API showed it: the secret masked. Airflow
    3.3 then tests those values instead of the stored ones when the host or port differ
    (``port: 0`` for an empty port; apache/airflow#73298), so Entra ID would be handed
    ``***`` and answer "invalid client secret": the connection is blamed for the form. Every
    extra counts, as Airflow masks extras by parts of their names (``token`` masks
    ``refresh_token`` and ``federated_token_file``; secrets_masker.DEFAULT_SENSITIVE_FIELDS).
    """
    try:
        extra = parse_extra(conn.extra)
    except ConnectionConfigError:  # step 1 reports an unreadable extra itself
        extra = {}
    found = ["password"] if conn.password == MASKED_VALUE else []
    return found + sorted(key for key, value in extra.items() if value == MASKED_VALUE)


def parse_artifact_list(value: Any) -> tuple[str, ...]:
    """``check_artifacts`` (a list, or text such as ``"attendance, transcript"``) as artifact names.

    :raises ValueError: an unknown name, or none at all
    """
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return check_artifacts(value)


def _artifacts_of_connection(conn: Any, conn_id: str) -> tuple[str, ...]:
    """The extra ``check_artifacts`` (empty when not set): which artifacts step 6 checks."""
    value = parse_extra(conn.extra).get("check_artifacts")
    if value in (None, "", []):
        return ()
    try:
        return parse_artifact_list(value)
    except ValueError as error:
        raise advice.invalid_field(ConnectionConfigError("check_artifacts", str(error)), conn_id) from None


def step_settings(run: CheckRun) -> Outcome:
    """1. The connection exists and its fields parse."""
    hook = run.hook
    conn = _stored_connection(hook)
    if conn is not None:
        run.secrets.extend(_connection_secrets(conn))
        masked = _masked_fields(conn)
        if masked:
            raise advice.masked_secret(masked, hook.conn_id)
    try:
        settings = hook.settings
    except ConnectionConfigError as error:
        raise advice.invalid_field(error, hook.conn_id) from None
    except Exception as error:
        # airflow.sdk.exceptions.AirflowNotFoundException in Airflow 3.3; matched by name, as
        # earlier Airflow 3 releases raise a class of that name from another module.
        if type(error).__name__ != "AirflowNotFoundException":
            raise
        raise advice.connection_not_found(hook.conn_id) from None
    run.settings = settings
    run.secrets.extend(settings.secrets())
    if isinstance(settings.verify, str) and not os.path.isfile(settings.verify):
        raise advice.ca_bundle_missing(settings.verify)
    if not has_create_or_get(settings.cloud):
        raise advice.cloud_without_create_or_get(settings.cloud)
    message = (
        f"Client id {settings.client_id}, tenant {settings.tenant_id}, {settings.cloud} cloud, "
        f"{settings.credential.description}, Graph {settings.graph_base}."
    )
    message += f" Rate budget: {describe_backend(settings)}."
    if run.artifacts is None:
        run.artifacts = () if conn is None else _artifacts_of_connection(conn, hook.conn_id)
    if settings.unknown_extras:
        message += f" Extras this provider does not read (typo?): {', '.join(settings.unknown_extras)}."
    return Outcome(message)


# -- step 2: the access token -----------------------------------------------------------------


def _token_failure(run: CheckRun, error: ProviderError) -> Failed:
    cause = attempt_error(error)
    if isinstance(cause, AuthenticationError) and cause.error == "invalid_authority":
        # MSAL could not read the tenant's OpenID configuration; Entra's answer says why.
        status, body = fetch_openid_configuration(run.client, run.cfg)
        return advice.discovery_refused(run.cfg, status, body)
    failed = advice.token_refused(cause, run.cfg, conn_id=run.hook.conn_id)
    if failed is None:
        raise cause
    return failed


def step_token(run: CheckRun) -> Outcome:
    """2. Entra ID issues an access token."""
    settings = run.cfg
    try:
        run.token = run.client.tokens.get()  # the check's client retries nothing
    except ProviderError as error:
        raise _token_failure(run, error) from None
    run.secrets.append(run.token)
    run.claims = read_claims(run.token)
    kind = "a delegated" if settings.delegated else "an app-only"
    message = f"Entra ID at {settings.authority_host} issued {kind} access token"
    expires = (run.claims or {}).get("exp")
    if isinstance(expires, (int, float)):
        message += f" (valid for {max(0, round((expires - time.time()) / 60))} min)"
    return Outcome(message + ".")


# -- step 3: the permission in the token ------------------------------------------------------


def step_permission(run: CheckRun) -> Outcome:
    """3. The token carries createOrGet's permission."""
    settings, claims = run.cfg, run.claims
    if claims is None:
        return Outcome(
            "The access token is not a JWT this check can read; Graph's answer in check 5 shows whether the "
            "permission is missing.",
            skipped=True,
        )
    run.roles_checked = True
    if settings.delegated:
        scopes = granted(claims, delegated=True)
        if holds(scopes, CREATE_OR_GET.delegated):
            return Outcome(
                f"The delegated token carries the permission {CREATE_OR_GET.delegated} (scp). "
                + advice.calendar_events_note(scopes, delegated=True)
            )
        raise advice.scope_missing(scopes)
    roles = granted(claims, delegated=False)
    if holds(roles, CREATE_OR_GET.application):
        return Outcome(
            f"The app token carries the application permission {CREATE_OR_GET.application} (roles). "
            + advice.calendar_events_note(roles, delegated=False)
        )
    raise advice.permission_missing(roles, settings)


# -- step 4: the Graph host and the token's audience ------------------------------------------


def _cloud_of_graph(url: str) -> str | None:
    for name, cloud in CLOUDS.items():
        if cloud.graph.lower() == url.rstrip("/").lower():
            return name
    return None


def _audience_refused(error: GraphAPIError | None) -> bool:
    # Graph's text for a token of another resource, as users report it ("Access token validation
    # failure. Invalid audience."); Microsoft does not document it.
    return error is not None and error.status == 401 and "audience" in error.message.lower()


def step_audience(run: CheckRun) -> Outcome:
    """4. The Graph the connection talks to takes tokens of this audience."""
    settings = run.cfg
    expected = CLOUDS[settings.cloud].graph
    host = settings.graph_url
    host_cloud = _cloud_of_graph(host)
    if host_cloud is not None and host_cloud != settings.cloud:
        raise advice.cloud_mismatch(settings, expected, host_cloud)
    audience = str((run.claims or {}).get("aud") or "")
    if audience and audience.rstrip("/").lower() not in (expected.lower(), GRAPH_APP_ID):
        raise advice.token_audience(settings, expected, audience)
    shown = audience or expected
    probe = run.probe()
    if probe is not None and probe.error is not None and _audience_refused(probe.error):
        raise advice.audience_refused(settings, shown, probe.error)
    if host_cloud is not None:
        return Outcome(f"Tokens for {shown} go to {host}, the {settings.cloud} cloud's Graph.")
    if probe is not None and probe.status is not None and probe.status != 401:
        return Outcome(f"Tokens for {shown} go to {host} (host override); Graph there accepted the token.")
    return Outcome(
        f"Tokens for {shown} go to {host} (host override); not confirmed by Graph"
        + ("." if probe is not None else " (no default_user_id to ask about).")
    )


# -- step 5: the organizer and the access policy ----------------------------------------------


def step_organizer(run: CheckRun) -> Outcome:
    """5. The organizer exists and the application access policy covers them (one read-only GET)."""
    settings = run.cfg
    probe = run.probe()
    if probe is None:
        return Outcome(
            "No default_user_id: tasks name their organizer (user_id), and Graph checks the access policy for "
            "each when the task runs. Set default_user_id to check one organizer here.",
            skipped=True,
        )
    if probe.failure is not None:
        failure = probe.failure
        if isinstance(failure, (TransportError, ConnectionConfigError)):
            raise advice.network_failure(failure, where="graph", settings=settings)
        raise failure
    if probe.error is not None:
        found = advice.graph_refused(
            settings,
            probe.error,
            user=probe.user,
            lookup=probe.lookup,
            roles_checked=run.roles_checked,
            organizer_in_url=probe.organizer_in_url,
        )
        if isinstance(found, Failed):
            raise found
        return found
    if settings.delegated and not probe.user:
        message = "Graph answered the signed-in user's meetings lookup; delegated tokens need no access policy."
    else:
        who = probe.user if probe.object_id == probe.user else f"{probe.user} (object id {probe.object_id})"
        message = (
            f"Organizer {who} exists and an application access policy lets the app act for them "
            "(a read-only meetings lookup answered 200; nothing was created)."
        )
    return Outcome(_with_calendar_providers(run, probe, message))


def _with_calendar_providers(run: CheckRun, probe: OrganizerProbe, message: str) -> str:
    """``message`` plus the organizer calendar's Teams provider, when the token may read it.

    Only a token with calendar events' permission asks (one more read-only GET); whatever
    the answer, the step does not fail for it.
    """
    delegated = run.cfg.delegated
    if not holds(granted(run.claims, delegated), CALENDAR_EVENTS.for_token(delegated=delegated)):
        return message
    note = advice.calendar_providers_note(read_online_meeting_providers(run.client, probe.object_id))
    return f"{message} {note}" if note else message


# -- step 6: the artifacts' permissions --------------------------------------------------------


def step_artifacts(run: CheckRun) -> Outcome:
    """6. The token carries the permissions of the artifacts asked for (skipped when none is)."""
    if not run.artifacts:
        return Outcome(
            "Not asked. To check the permissions of meeting artifacts, name the ones your DAGs fetch in the "
            'extra check_artifacts (e.g. "attendance, transcript, recording") or with '
            "airflow-provider-meetings check --artifacts.",
            skipped=True,
        )
    if run.claims is None:
        return Outcome(
            "The access token is not a JWT this check can read; a missing artifact permission shows as a 403 "
            "naming it when a DAG asks.",
            skipped=True,
        )
    delegated = run.cfg.delegated
    carried = granted(run.claims, delegated)
    needed = {kind: permission_for(kind).for_token(delegated=delegated) for kind in run.artifacts}
    missing = {kind: permission for kind, permission in needed.items() if not holds(carried, permission)}
    if missing:
        raise advice.artifact_permissions_missing(missing, carried, run.cfg)
    return Outcome(advice.artifacts_granted(needed, carried, delegated=delegated))


# -- step 7: the shared rate budget's store ---------------------------------------------------


def step_rate_budget(run: CheckRun) -> Outcome:
    """7. The shared rate budget's store answers (skipped for ``rate_budget: off``)."""
    settings = run.cfg
    try:
        found = probe_rate_budget(settings, database_url=run.database_url)
    except StoreUnavailable as error:
        raise advice.store_unavailable(describe_backend(settings), str(error), settings.rate_budget) from None
    if found is None:
        reason = (
            "rate_budget is 'off'"
            if settings.rate_budget == "off"
            else "this process has no metadata database URL to reach it"
        )
        return Outcome(f"Not checked: {reason}; each process paces its own requests.", skipped=True)
    where, seconds = found
    return Outcome(
        f"The shared rate budget ({where}) answered a read-modify-write in {seconds * 1000:.0f} ms; "
        "every process of this connection paces against it."
    )


#: The steps, in order: key, title, function.
STEPS: tuple[tuple[str, str, Callable[[CheckRun], Outcome]], ...] = (
    ("settings", "Connection fields", step_settings),
    ("token", "Access token from Entra ID", step_token),
    ("permission", "Permission in the token", step_permission),
    ("audience", "Graph host and token audience", step_audience),
    ("organizer", "Organizer and application access policy", step_organizer),
    ("artifacts", "Permissions of meeting artifacts", step_artifacts),
    ("rate_budget", "Shared rate budget", step_rate_budget),
)


def _run_step(number: int, key: str, title: str, step: Callable[[CheckRun], Outcome], run: CheckRun) -> StepResult:
    try:
        outcome = step(run)
    except Failed as failure:
        return StepResult(number, key, title, Status.FAILED, failure.message, failure.fix, failure.problem)
    except Exception as error:  # a failure the check has no name for: still one finding, still secret-free
        return StepResult(
            number,
            key,
            title,
            Status.FAILED,
            f"{type(error).__name__}: {error}",
            "An unexpected error; the message above is all the check knows.",
            "unexpected_error",
        )
    return StepResult(number, key, title, Status.SKIPPED if outcome.skipped else Status.PASSED, outcome.message)


def check_connection(
    hook: CheckableHook,
    *,
    mask: Callable[[str], None] | None = None,
    artifacts: tuple[str, ...] | None = None,
    database_url: str | None = None,
) -> CheckReport:
    """Run the steps in order against a hook's connection; stop at the first failure.

    The check sends its requests on a Graph client of its own that retries nothing
    (:func:`~airflow_provider_meetings.diagnostics.probes.check_client`); the hook's client is
    neither built nor used.

    :param hook: an :class:`~airflow_provider_meetings.hooks.online_meetings.OnlineMeetingsHook`
        or anything else with its ``conn_id``, ``settings``, ``log`` and ``get_connection``
    :param mask: also receives every secret the check's client sees (the tokens), e.g.
        Airflow's ``mask_secret``; they are scrubbed from the report either way
    :param artifacts: the meeting artifacts whose permissions to check (``attendance``,
        ``transcript``, ``recording``); ``None``: the connection's extra ``check_artifacts``
    :param database_url: Airflow's metadata database (SQLAlchemy URL), where ``rate_budget:
        database`` lives
    :return: one result per step; steps after a failure are ``not run``
    """
    run = CheckRun(
        hook, mask=mask, artifacts=None if artifacts is None else check_artifacts(artifacts), database_url=database_url
    )
    run.secrets.extend(url_passwords(database_url))
    results: list[StepResult] = []
    try:
        for number, (key, title, step) in enumerate(STEPS, start=1):
            if results and results[-1].status in (Status.FAILED, Status.NOT_RUN):
                results.append(StepResult(number, key, title, Status.NOT_RUN))
                continue
            results.append(_run_step(number, key, title, step, run))
    finally:
        run.close()
    scrubbed = tuple(
        StepResult(
            r.number,
            r.key,
            r.title,
            r.status,
            scrub(r.message, run.secrets) or "",
            scrub(r.fix, run.secrets),
            r.problem,
        )
        for r in results
    )
    return CheckReport(conn_id=hook.conn_id, steps=scrubbed)
