"""The Graph client: settings, a token source and a transport, and the calls the hook makes.

Layers with one job each, as in requests (build, token, transport, one retry decision):

* :class:`~airflow_provider_meetings.graph.transport.Transport` sends and returns answers;
* :class:`~airflow_provider_meetings.auth.token_source.TokenSource` supplies access tokens;
* :meth:`GraphClient.request` is one Graph call: a token, a request, a 401 refresh, and
  the retry loop (:func:`~airflow_provider_meetings.graph.retry_loop.run_with_retries`);
* bulk calls hand this client, as a
  :class:`~airflow_provider_meetings.graph.batch_engine.BatchTransport`, to the bulk engine;
* sync and cancel compose these: createOrGet, then a PATCH or DELETE of the meeting found
  (:mod:`~airflow_provider_meetings.meetings.diff` decides what differs; for bulk calls
  :class:`~airflow_provider_meetings.meetings.bulk.BulkSync` plans a second engine run).

The hook imports this module only when a task runs (it loads msal and requests).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from airflow_provider_meetings.auth.token_source import TokenSource
from airflow_provider_meetings.graph.answer import HttpAnswer
from airflow_provider_meetings.graph.batch_engine import BulkEngine
from airflow_provider_meetings.graph.errors import (
    GraphAPIError,
    TransportError,
    graph_error_from_response,
)
from airflow_provider_meetings.graph.retry import RetryPolicy, needs_fresh_token
from airflow_provider_meetings.graph.retry_loop import run_with_retries
from airflow_provider_meetings.graph.settings import ConnectionSettings
from airflow_provider_meetings.graph.transport import USER_AGENT, Transport
from airflow_provider_meetings.meetings.bulk import BulkSync
from airflow_provider_meetings.meetings.diff import check_organizer, delete_request, meeting_changes, update_request
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest
from airflow_provider_meetings.meetings.results import (
    CREATED,
    UNCHANGED,
    UPDATED,
    BulkItemResult,
    BulkProgress,
    MeetingResult,
    SyncResult,
)


class AnswerTransport(Protocol):
    """What the client sends through: :class:`~airflow_provider_meetings.graph.transport.Transport`
    or :class:`~airflow_provider_meetings.graph.mock_transport.MockTransport`."""

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, json: Any = None
    ) -> HttpAnswer: ...

    def ensure_pool(self, size: int) -> None: ...

    def close(self) -> None: ...


class TokenProvider(Protocol):
    """Where access tokens come from: :class:`~airflow_provider_meetings.auth.token_source.TokenSource`."""

    def get(self, policy: RetryPolicy | None = None) -> str: ...

    def invalidate(self) -> None: ...


def _meeting_id(found: MeetingResult) -> str:
    """The id of the meeting createOrGet returned (a PATCH or DELETE needs it)."""
    meeting_id = found.meeting_id
    if not isinstance(meeting_id, str) or not meeting_id:
        raise GraphAPIError(
            201 if found.created else 200, "InvalidResponse", "the createOrGet answer had no meeting id"
        )
    return meeting_id


def _meeting_of(answer: HttpAnswer) -> dict[str, Any]:
    """The onlineMeeting of a createOrGet or PATCH answer."""
    meeting = answer.json()
    if not isinstance(meeting, dict):
        raise GraphAPIError(answer.status, "InvalidResponse", "the answer was not a JSON onlineMeeting")
    return meeting


class GraphClient:
    """Graph calls of one connection, on one transport and one token source; thread-safe.

    :param settings: the connection's settings
    :param mask: registers secrets (Airflow's ``mask_secret``)
    :param log: where retries are logged (the hook's logger)
    :param sleep: how to wait between retries
    :param conn_id: the connection's id, named in advice on refresh tokens
    :param transport: what sends (default: a :class:`~airflow_provider_meetings.graph.transport.Transport`
        with the connection's TLS, proxy and timeout; tests pass a
        :class:`~airflow_provider_meetings.graph.mock_transport.MockTransport`)
    :param tokens: where access tokens come from (default: a
        :class:`~airflow_provider_meetings.auth.token_source.TokenSource` on ``transport``)
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        mask: Callable[[str], None],
        log: Any,
        sleep: Callable[[float], None] = time.sleep,
        conn_id: str | None = None,
        transport: AnswerTransport | None = None,
        tokens: TokenProvider | None = None,
    ) -> None:
        self.settings = settings
        self.log = log
        self.sleep = sleep
        self.transport: AnswerTransport = transport or Transport(
            verify=settings.verify,
            proxies=settings.proxies,
            timeout=settings.timeout,
            pool_size=settings.bulk_concurrency,
        )
        self.tokens: TokenProvider = tokens or TokenSource(
            settings, self.transport, mask=mask, log=log, sleep=sleep, conn_id=conn_id
        )

    def close(self) -> None:
        """Close the transport's connections."""
        self.transport.close()

    def url(self, path: str) -> str:
        """Absolute URL of a Graph path such as ``users/<id>/onlineMeetings/createOrGet``."""
        return f"{self.settings.graph_base}/{path.lstrip('/')}"

    @staticmethod
    def headers(token: str, *, has_body: bool) -> dict[str, str]:
        """Request headers: the token, a fresh ``client-request-id`` (Graph logs it), JSON."""
        headers = {
            "Authorization": f"Bearer {token}",
            "client-request-id": str(uuid.uuid4()),
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    # -- single calls --------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json: Any = None, what: str, user_id: str | None = None) -> HttpAnswer:
        """One Graph call with a token, one refresh after a 401, and retries.

        :param method: HTTP method
        :param path: path below the versioned Graph root
        :param json: JSON body, if any
        :param what: the call in logs and errors, e.g. ``createOrGet external_id=abc``
        :param user_id: the organizer, named in access-policy and not-found errors
        :return: the 2xx answer
        :raises GraphAPIError: for an error answer that retrying cannot fix
        :raises RetriesExhaustedError: when transient failures outlast the retry bound
        """
        url = self.url(path)
        refreshes = 0

        def attempt() -> HttpAnswer:
            nonlocal refreshes
            while True:
                token = self.tokens.get()
                answer = self.transport.send(
                    method, url, headers=self.headers(token, has_body=json is not None), json=json
                )
                if answer.ok:
                    return answer
                error = graph_error_from_response(
                    answer.status, answer.headers, answer.content, user_id=user_id, retry_after=answer.retry_after
                )
                if needs_fresh_token(error.status, refreshes):
                    refreshes += 1
                    self.log.info("%s: 401 %s, getting a fresh token and trying once more", what, error.code)
                    self.tokens.invalidate()
                    continue
                raise error

        # Token errors are not retried here: the token source has retried them already.
        return run_with_retries(
            attempt,
            policy=self.settings.retry,
            what=what,
            log=self.log,
            sleep=self.sleep,
            retry_on=(GraphAPIError, TransportError),
        )

    def create_or_get(self, prepared: PreparedRequest) -> MeetingResult:
        """Send a prepared createOrGet request."""
        answer = self.request(
            "POST",
            prepared.path,
            json=prepared.body,
            what=f"createOrGet external_id={prepared.external_id}",
            user_id=prepared.user_id,
        )
        return MeetingResult(meeting=_meeting_of(answer), created=answer.status == 201)

    def sync(self, prepared: PreparedRequest) -> SyncResult:
        """createOrGet, then one PATCH of what differs from ``prepared`` (none when nothing does)."""
        found = self.create_or_get(prepared)
        wanted = prepared.body or {}
        if found.created:  # made as asked
            check_organizer(wanted, found.meeting)
            return SyncResult(found.meeting, created=True, status=CREATED)
        changes = meeting_changes(wanted, found.meeting)
        if not changes:
            return SyncResult(found.meeting, created=False, status=UNCHANGED)
        patch = update_request(prepared, _meeting_id(found), changes)
        answer = self.request(
            "PATCH",
            patch.path,
            json=patch.body,
            what=f"PATCH external_id={prepared.external_id} ({', '.join(changes)})",
            user_id=prepared.user_id,
        )
        return SyncResult(_meeting_of(answer), created=False, status=UPDATED)

    def cancel(self, prepared: PreparedRequest) -> bool:
        """Delete the meeting of ``prepared``; ``True`` if there was one, ``False`` if not.

        Graph has no lookup by ``externalId``: createOrGet finds the meeting (and creates one
        when there is none, deleted at once), then ``DELETE`` removes it. A 404 to the DELETE
        means the meeting is gone already (e.g. a retried DELETE whose first answer was lost).
        """
        found = self.create_or_get(prepared)
        self.delete(prepared, _meeting_id(found))
        return not found.created

    def delete(self, prepared: PreparedRequest, meeting_id: str) -> bool:
        """``DELETE`` the meeting ``meeting_id`` below the organizer path of ``prepared``.

        :return: ``True`` when it was deleted, ``False`` when Graph answered 404 (gone already)
        """
        delete = delete_request(prepared, meeting_id)
        try:
            self.request(
                "DELETE", delete.path, what=f"DELETE external_id={prepared.external_id}", user_id=prepared.user_id
            )
        except GraphAPIError as error:
            if error.status != 404:
                raise
            return False
        return True

    # -- bulk (the engine's BatchTransport) -----------------------------------------------------

    def token(self) -> str:
        """An access token for a batch (see :class:`~airflow_provider_meetings.graph.batch_engine.BatchTransport`)."""
        return self.tokens.get()

    def send_batch(self, payload: Mapping[str, Any], token: str) -> HttpAnswer:
        """One ``POST $batch`` attempt."""
        return self.transport.send("POST", self.url("$batch"), headers=self.headers(token, has_body=True), json=payload)

    def invalidate_token(self) -> None:
        """Forget the token after a 401."""
        self.tokens.invalidate()

    def create_or_get_many(
        self,
        meetings: Iterable[Mapping[str, Any] | MeetingSpec],
        *,
        prepare: Callable[[MeetingSpec], PreparedRequest],
        max_concurrency: int,
        meeting_fields: Sequence[str] | None,
        progress: Callable[[BulkProgress], None] | None,
        progress_interval: float,
    ) -> list[BulkItemResult]:
        """Create or get many meetings through ``$batch`` (see the hook's method)."""
        self.transport.ensure_pool(max_concurrency)
        engine = BulkEngine(
            self,
            prepare=prepare,
            max_concurrency=max_concurrency,
            retry_policy=self.settings.retry,
            meeting_fields=meeting_fields,
            progress=progress,
            progress_interval=progress_interval,
            sleep=self.sleep,
            log=self.log,
        )
        return engine.run(meetings)

    def sync_many(
        self,
        plan: BulkSync,
        *,
        prepare: Callable[[MeetingSpec], PreparedRequest],
        max_concurrency: int,
        progress: Callable[[BulkProgress], None] | None,
        progress_interval: float,
    ) -> list[BulkItemResult]:
        """createOrGet every item of ``plan``, then PATCH what differs and DELETE what is
        cancelled, in a second engine run (see the hook's ``create_or_get_meetings``).

        :param plan: the call's items and their bookkeeping
        :param prepare: the preparer of step 1 (organizers resolved); step 2 addresses the
            meetings below the same organizer path
        """
        first = self.create_or_get_many(
            plan.specs,
            prepare=prepare,
            max_concurrency=max_concurrency,
            meeting_fields=plan.first_fields,
            progress=progress,
            progress_interval=progress_interval,
        )
        requests = plan.second_step(first, prepare)
        second: list[BulkItemResult] = []
        if requests:
            methods = sorted({request.method for request in requests}, reverse=True)
            engine = BulkEngine(
                self,
                max_concurrency=max_concurrency,
                retry_policy=self.settings.retry,
                meeting_fields=plan.meeting_fields,
                progress=progress,
                progress_interval=progress_interval,
                sleep=self.sleep,
                log=self.log,
                operation="/".join(methods),
                dedupe=False,  # one request per meeting already
            )
            second = engine.run(requests)
        return plan.results(second)
