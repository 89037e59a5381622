"""What every emulator handle offers, in-process or remote: identity, connection, control."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import quote

CONN_TYPE = "msgraph_meetings"
#: The provider's default connection id (``OnlineMeetingsHook.default_conn_name``): what DAGs
#: use unless they name another connection.
DEFAULT_CONN_ID = "msgraph_meetings_default"


class EmulatorHandle(ABC):
    """Shared API of :class:`~.runtime.RunningEmulator` and :class:`~.client.EmulatorClient`.

    Where a call's arguments make a control API body (``hold_meeting``, ``add_user``,
    ``add_federated_credential``), this class builds the body once and a subclass only
    delivers it: to the service in process, or over HTTPS.
    """

    url: str
    ca_path: str

    @abstractmethod
    def info(self) -> dict[str, Any]:
        """``url``, ``tenant_id``, ``client_id``, ``client_secret``, ``users``, ..."""

    # -- identity -------------------------------------------------------------------------

    @property
    def tenant_id(self) -> str:
        """The emulated tenant GUID."""
        return self.info()["tenant_id"]

    @property
    def client_id(self) -> str:
        """The confidential client app id."""
        return self.info()["client_id"]

    @property
    def client_secret(self) -> str | None:
        """The app's (test) secret."""
        return self.info()["client_secret"]

    @property
    def expired_client_secret(self) -> str | None:
        """A secret of the app past its end date (Entra answers AADSTS7000222), if one is registered."""
        return next(iter(self.info().get("expired_client_secrets") or []), None)

    @property
    def users(self) -> list[dict[str, Any]]:
        """Seeded users: ``id``, ``userPrincipalName``, ``displayName``, ``hasPolicy``."""
        return self.info()["users"]

    @property
    def default_user_id(self) -> str:
        """Object id of the seeded organizer."""
        return self.info()["default_user_id"]

    @property
    def refresh_token(self) -> str:
        """The first configured confidential-client refresh token (redeemed with the client's credential)."""
        return next(iter(self.info()["refresh_tokens"]))

    @property
    def public_refresh_token(self) -> str:
        """The first configured public-client refresh token (redeemed without any client credential)."""
        return next(iter(self.info()["public_refresh_tokens"]))

    def user(self, name: str) -> dict[str, Any]:
        """A seeded user by id, UPN, or the part of the UPN before ``@``."""
        key = name.lower()
        for user in self.users:
            upn = user["userPrincipalName"].lower()
            if key in (user["id"].lower(), upn, upn.split("@")[0]):
                return user
        raise KeyError(name)

    # -- Airflow connection -------------------------------------------------------------------

    def connection_dict(self, **overrides: Any) -> dict[str, Any]:
        """The Airflow connection (JSON form) for the provider's hook.

        :param overrides: top-level keys (``login``, ``password``, ``host``) replace the
            defaults; any other key is put into ``extra``.
        """
        info = self.info()
        extra: dict[str, Any] = {
            "tenant_id": info["tenant_id"],
            "authority_host": self.url,
            "verify": self.ca_path,
            "default_user_id": info["default_user_id"],
            # Each test on its own pace: the limits of an emulator change from test to test,
            # and a rate budget shared between them would carry one test's learnt rate into
            # the next. Tests of the shared budget pass rate_budget="file" (or redis, database).
            "rate_budget": "off",
        }
        conn: dict[str, Any] = {
            "conn_type": CONN_TYPE,
            "login": info["client_id"],
            "password": info["client_secret"],
            "host": self.url,
        }
        for key, value in overrides.items():
            if key in ("conn_type", "login", "password", "host", "port", "schema", "description"):
                conn[key] = value
            elif key == "extra":
                extra.update(value)
            else:
                extra[key] = value
        conn["extra"] = extra
        return conn

    def connection_json(self, **overrides: Any) -> str:
        """:meth:`connection_dict` as the JSON string for ``AIRFLOW_CONN_<ID>``."""
        return json.dumps(self.connection_dict(**overrides))

    def connection_uri(self, **overrides: Any) -> str:
        """The same connection in Airflow's URI form (host with its ``https://`` protocol)."""
        conn = self.connection_dict(**overrides)
        protocol, _, hostport = conn["host"].partition("://")
        login = quote(str(conn.get("login") or ""), safe="")
        password = quote(str(conn.get("password") or ""), safe="")
        extra = quote(json.dumps(conn["extra"]), safe="")
        scheme = conn["conn_type"].replace("_", "-")
        return f"{scheme}://{protocol}://{login}:{password}@{hostport}/?__extra__={extra}"

    def environment(self, conn_id: str = DEFAULT_CONN_ID, **overrides: Any) -> dict[str, str]:
        """``{"AIRFLOW_CONN_<ID>": json}`` for a subprocess environment."""
        return {f"AIRFLOW_CONN_{conn_id.upper()}": self.connection_json(**overrides)}

    # -- control --------------------------------------------------------------------------------

    @abstractmethod
    def set_latency(self, ms: float) -> None:
        """Latency added to each Graph HTTP request (a ``$batch`` counts once)."""

    @abstractmethod
    def set_rate_limit(self, per_second: float | None, retry_after: float | None | str = "keep") -> None:
        """Graph requests per sliding second (throttled requests count too).

        :param per_second: the limit; ``None`` for unlimited.
        :param retry_after: ``Retry-After`` seconds on a rate-limit 429, decimals allowed
            (``2.128``); ``None`` omits the header; ``"keep"`` leaves it unchanged.
        """

    @abstractmethod
    def script(self, fault: Any, **options: Any) -> dict[str, Any]:
        """Queue a fault for the next matching requests.

        :param fault: ``429``/``503``/``504``, ``{"status": 429, "retry_after": "2"}``,
            ``"drop"``, ``"slow"``, ``"non_json"`` (an HTML 502 page) or
            ``{"kind": "non_json", "status": 200}`` (an HTML page with another status, as
            from a captive portal or proxy).
        :param options: ``times``, ``when`` (``before``/``after``), ``target``
            (``graph``/``token``), ``match`` (regex on ``METHOD path``), ``seconds``,
            ``retry_after``.
        """

    @abstractmethod
    def clear_faults(self) -> None:
        """Drop every queued fault and stop random faults."""

    @abstractmethod
    def set_random_faults(
        self,
        rate: float,
        faults: list[Any],
        *,
        seed: int | None = None,
        target: str = "graph",
        match: str | None = None,
    ) -> dict[str, Any]:
        """Give each top-level request (a Graph call, a ``$batch`` envelope) a fault with probability ``rate``.

        :param rate: 0 < rate <= 1, e.g. ``0.5`` for half of all requests.
        :param faults: the mix in :meth:`script`'s short forms, e.g.
            ``[{"status": 429, "retry_after": "1"}, 503, 504, "drop"]``; one is chosen uniformly.
        :param seed: for a repeatable sequence of draws.
        :param target: ``graph`` or ``token``.
        :param match: regular expression on ``METHOD path`` limiting which requests draw.
        """

    @abstractmethod
    def pending_faults(self) -> list[dict[str, Any]]:
        """Scripted faults still queued."""

    @abstractmethod
    def set_batch_order(self, order: str) -> None:
        """Answer ``$batch`` items ``inorder``, in ``reverse`` or ``shuffle``d (Graph promises no order)."""

    @abstractmethod
    def issued_tokens(self) -> list[str]:
        """Every access token issued so far, for leak checks in tests."""

    @abstractmethod
    def expire_tokens(self) -> int:
        """Expire every access token issued so far."""

    @abstractmethod
    def grant_policy(self, user: str) -> None:
        """Grant the application access policy to a user (id or UPN)."""

    @abstractmethod
    def revoke_policy(self, user: str) -> None:
        """Revoke a user's application access policy."""

    @abstractmethod
    def meetings(self) -> list[dict[str, Any]]:
        """Stored meetings: ``tenant_id``, ``user_id``, ``external_id``, ``meeting``."""

    @abstractmethod
    def events(self) -> list[dict[str, Any]]:
        """Stored calendar events: ``tenant_id``, ``user_id``, ``event``, ``state``, ``cancel_comment``, ..."""

    @abstractmethod
    def set_mailbox_concurrency(self, limit: int | None, retry_after: float | None | str = "keep") -> None:
        """Outlook's requests at a time per app and mailbox (Graph's limit is 4; ``None``: off).

        :param retry_after: ``Retry-After`` seconds of its 429 (``None``: no header; ``"keep"``: unchanged).
        """

    @abstractmethod
    def respond_to_event(self, event_id: str, address: str, response: str) -> list[dict[str, Any]]:
        """An attendee answers an event's invitation (``accepted``, ``declined``...); the event's attendees."""

    @abstractmethod
    def set_online_meeting_providers(self, user: str, providers: list[str]) -> dict[str, Any]:
        """A mailbox calendar's ``allowedOnlineMeetingProviders``; ``[]``: its events get no Teams link."""

    # -- meeting artifacts --------------------------------------------------------------------

    def hold_meeting(
        self,
        meeting: str,
        *,
        attendees: list[dict[str, Any]],
        start: str | None = None,
        end: str | None = None,
        ended: bool = True,
        transcript: str | None = None,
        recording_size: int | None = None,
    ) -> dict[str, Any]:
        """Hold one session of a stored meeting: its attendance, transcript and recording.

        Each call is one session (two calls, two attendance reports). Transcripts and
        recordings are served only for a meeting behind a calendar event (Graph's rule).

        :param meeting: an online meeting id or a join URL (of a createOrGet meeting or of
            the meeting behind a calendar event).
        :param attendees: ``{"id", "displayName", "email" (or None), "role" ("Organizer",
            "Presenter", "Attendee"), "tenantId"?, "intervals": [{"join": ISO, "leave": ISO}]}``.
        :param start: the session's start (default: the first join, else now).
        :param end: its end (default: the last leave, else now).
        :param ended: ``False``: in progress, no report, transcript or recording yet
            (:meth:`end_meeting` ends it).
        :param transcript: WebVTT text (served as its UTF-8 bytes).
        :param recording_size: bytes of the generated MP4-like recording (never stored).
        :returns: ``meetingId``, ``reportId`` (``None`` if not ended), ``transcriptId``,
            ``recordingId``, ``recordingSha256``, ``recordingSize``, ``start``, ``end``, ``ended``.
        """
        return self._hold_meeting(
            {
                "meeting": meeting,
                "attendees": list(attendees),
                "start": start,
                "end": end,
                "ended": ended,
                "transcript": transcript,
                "recording_size": recording_size,
            }
        )

    @abstractmethod
    def _hold_meeting(self, body: dict[str, Any]) -> dict[str, Any]:
        """:meth:`hold_meeting` with its arguments as the body of ``POST /_emulator/meetings/hold``."""

    @abstractmethod
    def end_meeting(self, meeting: str) -> list[dict[str, Any]]:
        """End the sessions of a meeting (id or join URL) still in progress; their summaries."""

    @abstractmethod
    def set_transcript_access(self, enabled: bool) -> None:
        """The tenant's Microsoft Graph access to transcripts (off: 403 ``GraphAccessToTranscriptsDisabled``)."""

    @abstractmethod
    def set_speaker_attribution(self, enabled: bool) -> None:
        """The tenant's speaker attribution (off: ``text/vtt`` answers 403 ``SpeakerAttributionNotAllowed``)."""

    @abstractmethod
    def set_page_size(self, n: int) -> None:
        """Attendance records per page of ``.../attendanceRecords``."""

    @abstractmethod
    def artifacts(self) -> list[dict[str, Any]]:
        """Every held session's summary (as :meth:`hold_meeting` answers)."""

    @abstractmethod
    def stats(self) -> dict[str, Any]:
        """Counters (token requests, Graph requests by route and status, 429s, batches...)."""

    @abstractmethod
    def reset(self, tokens: bool = False, users: bool = False) -> None:
        """Back to the start-up state (meetings, faults, counters, latency, limits, policies, app roles).

        :param tokens: also forget issued access tokens, minted refresh tokens and device codes.
        :param users: also remove users added at run time.
        """

    @abstractmethod
    def add_certificate(self, pem: str | bytes) -> dict[str, str]:
        """Register a PEM certificate on the app for certificate credentials."""

    def add_federated_credential(
        self, issuer: str, subject: str, audience: str | None = None, public_key_pem: str | None = None
    ) -> None:
        """Register a federated identity credential on the app."""
        body: dict[str, Any] = {"issuer": issuer, "subject": subject, "public_key_pem": public_key_pem}
        if audience is not None:  # absent: the credential's default audience
            body["audience"] = audience
        self._add_federated_credential(body)

    @abstractmethod
    def _add_federated_credential(self, body: dict[str, Any]) -> None:
        """:meth:`add_federated_credential` with the body of ``POST /_emulator/federated-credentials``."""

    # -- Entra ID: app registration, users, refresh tokens, device codes -----------------------

    @abstractmethod
    def set_app_roles(self, roles: list[str]) -> list[str]:
        """Application permissions granted with admin consent (``roles`` of app tokens issued from now on).

        ``[]`` reproduces "permission added but no admin consent": app tokens without ``roles``.
        """

    @abstractmethod
    def set_public_client_flows(self, enabled: bool) -> None:
        """The app registration's "Allow public client flows" (device code flow without a credential)."""

    def add_user(self, id: str, user_principal_name: str, display_name: str, has_policy: bool = True) -> dict[str, Any]:
        """Add a user to the tenant (kept by ``reset()``, persisted with the state file).

        :param id: the user's object id (a GUID).
        :param user_principal_name: UPN, e.g. ``dana@contoso.example``.
        :param display_name: shown as the organizer's ``displayName``.
        :param has_policy: whether an application access policy is granted to the user.
        """
        body = {"id": id, "userPrincipalName": user_principal_name, "displayName": display_name}
        return self._add_user({**body, "hasPolicy": has_policy})

    @abstractmethod
    def _add_user(self, body: dict[str, Any]) -> dict[str, Any]:
        """:meth:`add_user` with the body of ``POST /_emulator/users``."""

    @abstractmethod
    def expire_refresh_tokens(self) -> int:
        """Expire every refresh token now (redeeming one then answers AADSTS700082)."""

    @abstractmethod
    def issued_refresh_tokens(self) -> list[str]:
        """Refresh tokens handed out by the token endpoint so far, for leak checks in tests."""

    @abstractmethod
    def device_codes(self) -> list[dict[str, Any]]:
        """Device codes not yet redeemed: ``user_code``, ``scope``, ``state``, ``expires_in``, ``user_id``."""

    @abstractmethod
    def approve_device_code(self, user: str, user_code: str | None = None) -> dict[str, Any]:
        """Play the user: approve a pending device code, signing in as ``user`` (id or UPN).

        :param user: who signs in.
        :param user_code: the code shown to the user; ``None`` picks the only pending one.
        """

    @abstractmethod
    def decline_device_code(self, user_code: str | None = None) -> dict[str, Any]:
        """Play the user: decline a pending device code (``None``: the only pending one)."""
