"""The state of one emulator instance and the operations on it (moto's "backend").

:class:`EmulatorService` holds the directory, tokens, meetings, faults, rate limit and
counters behind one lock, restores and saves the optional state file (:meth:`persist`), and
offers the operations the control API and :class:`~meetings_emulator.runtime.RunningEmulator`
call. It knows no HTTP: the handlers (``entra.py``, ``graph*.py``, ``control.py``) read and
change this state, ``routes.py`` says which handler answers which request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from meetings_emulator.artifacts import ArtifactStore
from meetings_emulator.config import EmulatorConfig, FederatedCredential, SeedUser
from meetings_emulator.directory import Directory
from meetings_emulator.events import EventStore
from meetings_emulator.faults import (
    FaultPlan,
    RandomFaults,
    RateLimiter,
    ScriptedFault,
    Stats,
    parse_fault,
    parse_retry_after_seconds,
)
from meetings_emulator.mailboxes import MailboxSlots
from meetings_emulator.meetings import MeetingStore
from meetings_emulator.persistence import load_state, save_state
from meetings_emulator.tokens import TokenService

log = logging.getLogger("meetings_emulator")

BATCH_ORDERS = ("inorder", "reverse", "shuffle")


#: ``retry_after`` of a control call that leaves the setting as it is.
KEEP = "keep"


def retry_after_setting(value: Any, current: float | None = None) -> float | None:
    """The ``Retry-After`` seconds of a 429 (the rate limit's, the mailbox limit's) as configured.

    :param value: seconds (decimals allowed, checked), ``None`` (no header) or :data:`KEEP`.
    :param current: the setting :data:`KEEP` leaves.
    :raises ValueError: not a finite number of seconds >= 0.
    """
    if isinstance(value, str) and value == KEEP:
        return current
    return None if value is None else parse_retry_after_seconds(value)


class EmulatorService:
    """All state of one emulator instance.

    :param config: the start-up configuration.
    :param base_url: the URL clients reach the emulator at (set again once bound).
    """

    def __init__(self, config: EmulatorConfig, base_url: str = "https://127.0.0.1") -> None:
        self.config = config
        self.base_url = base_url.rstrip("/")
        self.lock = threading.RLock()
        self.directory = Directory.from_config(config)
        self.tokens = TokenService(self.directory, config)
        self.meetings = MeetingStore()
        self.events = EventStore()
        self.artifacts = ArtifactStore()
        self.mailboxes = MailboxSlots(config.mailbox_concurrency, retry_after_setting(config.mailbox_retry_after))
        self.faults = FaultPlan()
        self.limiter = RateLimiter(config.rate_limit)
        self.rate_limit_retry_after = retry_after_setting(config.rate_limit_retry_after)
        self.latency_ms = float(config.latency_ms)
        #: Order of ``$batch`` answers: Graph promises none, so clients must not rely on it.
        self.batch_order = "inorder"
        self.stats = Stats()
        self.sleep: Callable[[float], None] = time.sleep
        if config.state_file:
            self._restore(config.state_file)

    # -- persistence ------------------------------------------------------------------------

    def _restore(self, state_file: str) -> None:
        state = load_state(state_file)
        for user in state.users:
            try:
                self.directory.add_user(user)
            except ValueError as error:
                log.warning("state file: user %s not restored: %s", user.id, error)
        for meeting in state.meetings:
            self.meetings.add(meeting)
        for event in state.events:
            self.events.add(event)
        for user_id, granted in state.policies.items():
            if self.directory.find_user(user_id) is not None:
                self.directory.set_policy(user_id, granted)

    def persist(self) -> None:
        """Write meetings, changed policies and added users to the state file, if one is set.

        Call it with :attr:`lock` held, after a change that should survive a restart.
        """
        if self.config.state_file:
            default = {u.id for u in self.directory.users if u.has_policy}
            policies = {
                u.id: self.directory.has_policy(u)
                for u in self.directory.users
                if self.directory.has_policy(u) != (u.id in default)
            }
            save_state(
                self.config.state_file, self.meetings.all(), policies, self.directory.users.added(), self.events.all()
            )

    # -- faults -----------------------------------------------------------------------------

    def take_fault(self, target: str, method: str, path: str, *, top_level: bool = True) -> ScriptedFault | None:
        """Consume the next scripted fault matching a request, if any (or draw a random one)."""
        with self.lock:
            fault = self.faults.take(target, method, path, top_level=top_level)
            if fault is not None:
                self.stats.faults_applied += 1
            return fault

    def take_explicit_fault(self, target: str, method: str, path: str) -> ScriptedFault | None:
        """Consume the next scripted fault whose ``match`` names this request explicitly."""
        with self.lock:
            fault = self.faults.take_explicit(target, method, path)
            if fault is not None:
                self.stats.faults_applied += 1
            return fault

    def script(self, fault: Any, **options: Any) -> ScriptedFault:
        """Queue a scripted fault (see :func:`~.faults.parse_fault`)."""
        parsed = parse_fault(fault, **options)
        with self.lock:
            self.faults.add(parsed)
        return parsed

    def clear_faults(self) -> None:
        """Drop every queued fault and stop random faults."""
        with self.lock:
            self.faults.clear()

    def set_random_faults(self, rate: float, faults: list[Any], **options: Any) -> dict[str, Any]:
        """Start random faults (see :class:`~.faults.RandomFaults`); replaces earlier ones."""
        parsed = RandomFaults.parse(rate, faults, **options)
        with self.lock:
            self.faults.random = parsed
            return parsed.to_json()

    def random_faults(self) -> dict[str, Any] | None:
        """The random faults in force, with how many were applied, or ``None``."""
        with self.lock:
            return self.faults.random.to_json() if self.faults.random else None

    def pending_faults(self) -> list[dict[str, Any]]:
        """Faults still queued."""
        with self.lock:
            return self.faults.pending()

    # -- Graph behaviour ----------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Identity of the running emulator (URL, tenant, client, users)."""
        with self.lock:
            return {
                "url": self.base_url,
                "tenant_id": self.directory.tenant_id,
                "tenant_domain": self.directory.tenant_domain,
                "client_id": self.directory.client_id,
                "client_secret": self.directory.client_secret,
                "expired_client_secrets": list(self.directory.expired_client_secrets),
                "default_user_id": self.config.organizer.id,
                "refresh_tokens": dict(self.directory.refresh_tokens),
                "public_refresh_tokens": dict(self.directory.public_refresh_tokens),
                "app_roles": sorted(self.directory.app_roles),
                "delegated_scopes": sorted(self.directory.delegated_scopes),
                "allow_public_client": self.directory.allow_public_client,
                "graph_resource": self.config.graph_resource,
                "users": self.directory.users_json(),
            }

    def set_latency(self, ms: float) -> None:
        """Latency added to each Graph HTTP request."""
        if ms < 0:
            raise ValueError("latency must not be negative")
        with self.lock:
            self.latency_ms = float(ms)

    def set_batch_order(self, order: str) -> None:
        """Answer ``$batch`` items ``inorder``, in ``reverse`` or ``shuffle``d."""
        if order not in BATCH_ORDERS:
            raise ValueError(f"batch order must be one of {BATCH_ORDERS}")
        with self.lock:
            self.batch_order = order

    def set_rate_limit(self, per_second: float | None, retry_after: float | None | str = "keep") -> None:
        """Graph requests per second (``None``: unlimited).

        :param per_second: the limit, counted over a sliding second, throttled requests included.
        :param retry_after: seconds in ``Retry-After`` of a rate-limit 429 (decimals allowed,
            e.g. ``2.128``); ``None`` omits the header; ``"keep"`` leaves it as it is.
        """
        if per_second is not None and per_second <= 0:
            raise ValueError("rate limit must be positive or None")
        with self.lock:
            seconds = retry_after_setting(retry_after, self.rate_limit_retry_after)
            self.limiter.configure(per_second)
            self.rate_limit_retry_after = seconds

    def set_policy(self, user_id: str, granted: bool) -> dict[str, Any]:
        """Grant or revoke a user's application access policy; raises ``KeyError``."""
        with self.lock:
            user = self.directory.set_policy(user_id, granted)
            self.persist()
            return {"id": user.id, "hasPolicy": granted}

    def list_meetings(self) -> list[dict[str, Any]]:
        """Stored meetings with tenant, user and externalId."""
        with self.lock:
            return [m.to_json() for m in self.meetings.all()]

    def list_events(self) -> list[dict[str, Any]]:
        """Every stored calendar event: ``tenant_id``, ``user_id``, ``event`` (with its
        ``singleValueExtendedProperties``), ``state`` (``active``, ``cancelled``, ``deleted``),
        ``cancel_comment``, ``transaction_id``, ``start_ticks``, ``end_ticks``."""
        with self.lock:
            return [e.to_json() for e in self.events.all()]

    # -- meeting artifacts ----------------------------------------------------------------------

    def hold_meeting(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """One session of a stored meeting (see :meth:`~.artifacts.ArtifactStore.hold`).

        :param body: ``meeting`` (an online meeting id or join URL; a calendar event's meeting
            is found by its join URL too), ``attendees``, ``start``, ``end``, ``ended``,
            ``transcript``, ``recording_size``.
        :raises KeyError: no such meeting.
        """
        key = str(body["meeting"])
        with self.lock:
            stored = self.meetings.require(key)
            session = self.artifacts.hold(stored.resource, stored.tenant_id, stored.user_id, body)
        if session.ended:
            session.ended = False
            # Generates and hashes the recording (never stored): outside the lock, so Graph
            # requests go on meanwhile.
            session.finish()
        with self.lock:
            self.artifacts.add(session)
        return session.summary()

    def end_meeting(self, key: str) -> list[dict[str, Any]]:
        """End the sessions of a meeting still in progress (by id or join URL); their summaries."""
        with self.lock:
            stored = self.meetings.require(key)
            return [s.summary() for s in self.artifacts.end_sessions(stored.resource["id"])]

    def is_calendar_backed(self, meeting: Mapping[str, Any]) -> bool:
        """Whether a calendar event holds this meeting's join URL (transcripts and recordings need one)."""
        with self.lock:
            return any(
                (e.resource.get("onlineMeeting") or {}).get("joinUrl") == meeting.get("joinWebUrl")
                for e in self.events.all()
            )

    def set_transcript_settings(self, *, access: Any = None, attribution: Any = None) -> dict[str, bool]:
        """The tenant's Graph transcript access and speaker attribution (``None``: unchanged)."""
        for value in (access, attribution):
            if value is not None and not isinstance(value, bool):
                raise ValueError("enabled must be true or false")
        with self.lock:
            if access is not None:
                self.artifacts.transcript_access = access
            if attribution is not None:
                self.artifacts.speaker_attribution = attribution
            return {
                "transcript_access": self.artifacts.transcript_access,
                "speaker_attribution": self.artifacts.speaker_attribution,
            }

    def set_page_size(self, n: Any) -> int:
        """Attendance records per page."""
        with self.lock:
            return self.artifacts.set_page_size(n)

    def list_artifacts(self) -> list[dict[str, Any]]:
        """Every held session's summary."""
        with self.lock:
            return self.artifacts.listing()

    def respond_to_event(self, event_id: str, address: str, response: str) -> list[dict[str, Any]]:
        """An attendee's answer to an event's invitation (``KeyError``: no such event or attendee)."""
        with self.lock:
            event = self.events.respond(event_id, address, response)
            self.persist()
            return [dict(a) for a in event.resource["attendees"]]

    def set_online_meeting_providers(self, user: str, providers: Any) -> dict[str, Any]:
        """A mailbox calendar's ``allowedOnlineMeetingProviders`` (``[]``: events get no Teams link).

        :param user: object id or UPN; raises ``KeyError`` for an unknown user.
        """
        with self.lock:
            found = self.directory.require_user(user)
            return {
                "id": found.id,
                "allowedOnlineMeetingProviders": list(self.events.set_providers(found.id, providers)),
            }

    def set_mailbox_concurrency(self, limit: int | None, retry_after: float | None | str = "keep") -> None:
        """Outlook's requests at a time per app and mailbox on the events routes (``None``: off).

        :param limit: e.g. 4, Graph's documented limit.
        :param retry_after: seconds in ``Retry-After`` of its 429 (``None`` omits the header;
            ``"keep"`` leaves it as it is).
        """
        self.mailboxes.configure(limit, retry_after_setting(retry_after, self.mailboxes.retry_after))

    def stats_json(self) -> dict[str, Any]:
        """Counters, plus the current latency, rate limit and pending faults."""
        with self.lock:
            data = self.stats.to_json()
            data["meetings"] = len(self.meetings)
            data["events"] = len(self.events)
            data["mailbox_concurrency"] = self.mailboxes.limit
            data["mailbox_retry_after"] = self.mailboxes.retry_after
            data["mailbox_peaks"] = self.mailboxes.peaks()
            data["latency_ms"] = self.latency_ms
            data["rate_limit"] = self.limiter.per_second
            data["rate_limit_retry_after"] = self.rate_limit_retry_after
            data["pending_faults"] = len(self.faults.pending())
            data["batch_order"] = self.batch_order
            return data

    # -- Entra ID: tokens, app registration, users ----------------------------------------------

    def issued_tokens(self) -> list[str]:
        """Every access token issued so far (for leak checks in tests)."""
        with self.lock:
            return self.tokens.issued()

    def expire_tokens(self) -> int:
        """Expire every issued access token now."""
        with self.lock:
            return self.tokens.expire_all()

    def add_certificate(self, pem: str) -> dict[str, str]:
        """Register a certificate on the app; returns its thumbprints."""
        with self.lock:
            cert = self.directory.add_certificate(pem)
        return {"x5t": cert.sha1, "x5t#S256": cert.sha256}

    def add_federated_credential(self, credential: FederatedCredential | Mapping[str, Any]) -> None:
        """Register a federated identity credential on the app."""
        if not isinstance(credential, FederatedCredential):
            credential = FederatedCredential(**credential)
        with self.lock:
            self.directory.add_federated_credential(credential)

    def set_app_roles(self, roles: Any) -> list[str]:
        """Application permissions granted (with admin consent) to the app, for tokens issued from now on."""
        if not isinstance(roles, (list, tuple)) or not all(isinstance(r, str) and r.strip() for r in roles):
            raise ValueError("roles must be a list of permission names, e.g. ['OnlineMeetings.ReadWrite.All']")
        with self.lock:
            self.directory.app_roles = {r.strip() for r in roles}
            return sorted(self.directory.app_roles)

    def set_public_client_flows(self, enabled: bool) -> bool:
        """The app registration's "Allow public client flows" setting."""
        if not isinstance(enabled, bool):
            raise ValueError("enabled must be true or false")
        with self.lock:
            self.directory.allow_public_client = enabled
        return enabled

    def add_user(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Add a user (``id``, ``userPrincipalName``, ``displayName``, ``hasPolicy``) to the tenant."""
        user = SeedUser.from_json(dict(data))
        with self.lock:
            self.directory.add_user(user)
            self.persist()
            return self.directory.user_json(user)

    def expire_refresh_tokens(self) -> int:
        """Expire every refresh token (seeded and minted) now."""
        with self.lock:
            return self.tokens.refresh_tokens.expire_all()

    def issued_refresh_tokens(self) -> list[str]:
        """Refresh tokens handed out by the token endpoint so far (for leak checks in tests)."""
        with self.lock:
            return self.tokens.refresh_tokens.minted()

    def device_codes(self) -> list[dict[str, Any]]:
        """Device codes not yet redeemed: ``user_code``, ``scope``, ``state``, ``expires_in``, ``user_id``."""
        with self.lock:
            return self.tokens.device_codes.listing()

    def decide_device_code(self, approve: bool, user: str | None = None, user_code: str | None = None) -> dict:
        """Approve (as ``user``, id or UPN) or decline a pending device code; ``user_code=None``: the only one.

        :raises KeyError: unknown user or no such pending code.
        :raises ValueError: the code expired, or several are pending and none was named.
        """
        with self.lock:
            user_id = None
            if approve:
                if not user:
                    raise ValueError("name the user who approves, e.g. {'user': 'adelev@contoso.example'}")
                user_id = self.directory.require_user(user).id
            code = self.tokens.device_codes.decide(user_code, user_id, approve)
            return code.to_json()

    # -- reset ------------------------------------------------------------------------------

    def reset(self, tokens: bool = False, users: bool = False) -> None:
        """Back to the start-up state: no meetings, faults, counters; seeded policies, app roles,
        public client setting; seeded refresh tokens valid again.

        Issued access tokens, refresh tokens and device codes stay valid unless ``tokens=True``
        (clients cache them). Users added at run time stay (with the policy they were added
        with) unless ``users=True``.
        """
        with self.lock:
            self.meetings.clear()
            self.events.clear()
            self.artifacts.clear()
            self.mailboxes.configure(
                self.config.mailbox_concurrency, retry_after_setting(self.config.mailbox_retry_after)
            )
            self.mailboxes.reset_peaks()
            self.faults.clear()
            self.stats = Stats()
            self.latency_ms = float(self.config.latency_ms)
            self.batch_order = "inorder"
            self.limiter.configure(self.config.rate_limit)
            self.rate_limit_retry_after = retry_after_setting(self.config.rate_limit_retry_after)
            if users:
                self.directory.users.drop_added()
            self.directory.reset_policies()
            self.directory.app_roles = set(self.config.app_roles)
            self.directory.allow_public_client = self.config.allow_public_client
            if tokens:
                self.tokens.clear()
            else:
                self.tokens.refresh_tokens.reset(forget_minted=False)
            self.persist()
