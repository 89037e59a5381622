"""The Graph REST client: settings, a token source and a transport, one call at a time or in ``$batch``.

Layers with one job each, as in requests (build, token, transport, one retry decision):

* :class:`~airflow_provider_meetings.graph.transport.Transport` sends and returns answers;
* :class:`~airflow_provider_meetings.auth.token_source.TokenSource` supplies access tokens;
* :meth:`GraphRestClient.request` is one Graph call: a token, a request, the 401 rule and
  the retries of :mod:`~airflow_provider_meetings.graph.retry` (applied by
  :func:`~airflow_provider_meetings.graph.retry_loop.run_with_retries`), all in
  :meth:`GraphRestClient.call`, which downloads share;
* :meth:`GraphRestClient.pages` follows ``@odata.nextLink``;
* :meth:`GraphRestClient.download` streams a large body into a sink (:mod:`~airflow_provider_meetings.graph.download`);
* :meth:`GraphRestClient.bulk_engine` builds the ``$batch`` engine on this client (as its
  :class:`~airflow_provider_meetings.graph.batch_engine.BatchTransport`).

Nothing here knows a resource: resources (``airflow_provider_meetings.meetings``) send
their requests through this client. It is named ``GraphRestClient`` so as not to be taken
for the Microsoft Graph SDK's ``GraphClient``. The hook imports this module only when a
task runs (it loads msal and requests).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from airflow_provider_meetings.auth.token_source import TokenSource
from airflow_provider_meetings.graph.answer import HttpAnswer, StreamedAnswer
from airflow_provider_meetings.graph.batch import BulkProgress
from airflow_provider_meetings.graph.batch_engine import BulkEngine
from airflow_provider_meetings.graph.budget.shared import RateBudget
from airflow_provider_meetings.graph.download import DownloadOutcome, DownloadSink, download
from airflow_provider_meetings.graph.errors import (
    GraphAPIError,
    TransportError,
    graph_error_from_response,
)
from airflow_provider_meetings.graph.retry import RetryPolicy, needs_fresh_token
from airflow_provider_meetings.graph.retry_loop import run_with_retries
from airflow_provider_meetings.graph.settings import ConnectionSettings
from airflow_provider_meetings.graph.transport import USER_AGENT, Transport

#: The annotation of a page that names the next one (https://learn.microsoft.com/graph/paging).
NEXT_LINK = "@odata.nextLink"

T = TypeVar("T")
A = TypeVar("A", HttpAnswer, StreamedAnswer)


class AnswerTransport(Protocol):
    """What the client sends through: :class:`~airflow_provider_meetings.graph.transport.Transport`
    or :class:`~airflow_provider_meetings.graph.mock_transport.MockTransport`."""

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, json: Any = None
    ) -> HttpAnswer: ...

    def stream(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, chunk_size: int = ...
    ) -> StreamedAnswer: ...

    def ensure_pool(self, size: int) -> None: ...

    def close(self) -> None: ...


class TokenProvider(Protocol):
    """Where access tokens come from: :class:`~airflow_provider_meetings.auth.token_source.TokenSource`."""

    def get(self, policy: RetryPolicy | None = None) -> str: ...

    def invalidate(self) -> None: ...


class GraphRestClient:
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
    :param rate_budget: the rate budget shared by the connection's processes (the hook opens
        the one the connection names, :func:`~airflow_provider_meetings.graph.budget.factory.open_rate_budget`);
        default: none, each bulk call paces itself
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
        rate_budget: RateBudget | None = None,
    ) -> None:
        self.settings = settings
        #: the pace shared with the connection's other processes (default: this process alone)
        self.rate_budget = rate_budget or RateBudget(None, "", log=log)
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
        """Close the transport's and the rate budget's connections."""
        self.transport.close()
        self.rate_budget.close()

    def url(self, path: str) -> str:
        """The absolute URL a request for ``path`` goes to, with the access token.

        :param path: a Graph path such as ``users/<id>``, or an absolute URL on the Graph host
            of the connection (an ``@odata.nextLink``)
        :raises GraphAPIError: ``UntrustedUrl`` for an absolute URL on another host: the
            token would be sent there
        """
        if "://" in path:
            return self._same_host_url(path)
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

    def with_retries(self, attempt: Callable[[], T], *, what: str) -> T:
        """``attempt()`` retried under the connection's retry policy (single calls and downloads).

        :param attempt: one try, which raises a Graph or transport error to be retried
        :param what: the call in logs and errors
        :raises RetriesExhaustedError: when transient failures outlast the retry bound
        """
        # Token errors are not retried here: the token source has retried them already.
        return run_with_retries(
            attempt,
            policy=self.settings.retry,
            what=what,
            log=self.log,
            sleep=self.sleep,
            retry_on=(GraphAPIError, TransportError),
        )

    def call(
        self,
        send: Callable[[str], A],
        *,
        what: str,
        user_id: str | None = None,
        receive: Callable[[A], T],
    ) -> T:
        """One Graph call (a single call or a download): a token, ``send``, the 401 rule, retries.

        Each try gets a token and sends with it; a 2xx answer goes to ``receive`` (within the
        try, so that a connection dropped while reading is retried), any other answer to
        :meth:`refusal`. The fresh tokens are counted per call, across its retries: a 401
        after a fresh token is final even when another failure (a 503) was retried in between
        (:func:`~airflow_provider_meetings.graph.retry.needs_fresh_token`).

        :param send: one request with the given access token; its answer, whatever the status
        :param what: the call in logs and errors
        :param user_id: the user the call is about, named in access-policy and not-found errors
        :param receive: what the call returns, from its 2xx answer
        :raises GraphAPIError: for an error answer that retrying cannot fix
        :raises RetriesExhaustedError: when transient failures outlast the retry bound
        """
        refreshes = 0

        def attempt() -> T:
            nonlocal refreshes
            while True:
                answer = send(self.tokens.get())
                if answer.ok:
                    return receive(answer)
                full = answer.read_all() if isinstance(answer, StreamedAnswer) else answer
                error = self.refusal(full, what=what, user_id=user_id, refreshes=refreshes)
                if error is None:
                    refreshes += 1
                    continue
                raise error

        return self.with_retries(attempt, what=what)

    def refusal(self, answer: HttpAnswer, *, what: str, user_id: str | None, refreshes: int) -> GraphAPIError | None:
        """The error of a refused single call, or ``None`` when the 401 rule asks for one more try.

        The one place the 401 rule (:func:`~airflow_provider_meetings.graph.retry.needs_fresh_token`)
        acts for single calls and downloads (through :meth:`call`): the cached token is dropped,
        so the next try gets a fresh one.

        :param answer: the non-2xx answer (a streamed one read in full)
        :param what: the call in logs and errors
        :param user_id: the user the call is about, named in access-policy and not-found errors
        :param refreshes: fresh tokens this call has had already
        """
        error = graph_error_from_response(
            answer.status, answer.headers, answer.content, user_id=user_id, retry_after=answer.retry_after
        )
        if not needs_fresh_token(error.status, refreshes):
            return error
        self.log.info("%s: 401 %s, getting a fresh token and trying once more", what, error.code)
        self.tokens.invalidate()
        return None

    # -- single calls --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        what: str | None = None,
        user_id: str | None = None,
    ) -> HttpAnswer:
        """One Graph call with a token, the 401 rule, and retries (:mod:`~airflow_provider_meetings.graph.retry`).

        :param method: HTTP method
        :param path: path below the versioned Graph root, or an absolute URL on the Graph
            host (an ``@odata.nextLink``)
        :param json: JSON body, if any
        :param what: the call in logs and errors (default: method and path)
        :param user_id: the user the call is about, named in access-policy and not-found errors
        :return: the 2xx answer
        :raises GraphAPIError: for an error answer that retrying cannot fix
        :raises RetriesExhaustedError: when transient failures outlast the retry bound
        """
        url = self.url(path)

        def send(token: str) -> HttpAnswer:
            return self.transport.send(method, url, headers=self.headers(token, has_body=json is not None), json=json)

        return self.call(send, what=what or f"{method} /{path.lstrip('/')}", user_id=user_id, receive=lambda a: a)

    def get(self, path: str, **kwargs: Any) -> HttpAnswer:
        """``GET`` (see :meth:`request` for the keywords)."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> HttpAnswer:
        """``POST`` with a JSON body (see :meth:`request`)."""
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> HttpAnswer:
        """``PATCH`` with a JSON body (see :meth:`request`)."""
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpAnswer:
        """``DELETE`` (see :meth:`request`)."""
        return self.request("DELETE", path, **kwargs)

    def download(
        self,
        path: str,
        sink: DownloadSink,
        *,
        headers: Mapping[str, str] | None = None,
        what: str | None = None,
        user_id: str | None = None,
    ) -> DownloadOutcome:
        """``GET`` a body too large for memory, streamed into ``sink``; a drop mid-answer is
        retried under the same policy, resumed with ``Range`` where the server allows
        (:func:`~airflow_provider_meetings.graph.download.download`).

        :param path: path below the versioned Graph root
        :param sink: where the bytes go
        :param headers: more request headers (e.g. ``Accept``)
        :param what: the call in logs and errors
        :param user_id: the user the call is about, named in access-policy errors
        """
        return download(self, path, sink, headers=headers, what=what, user_id=user_id)

    # -- paging --------------------------------------------------------------------------------

    def pages(self, path: str, *, what: str | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following ``@odata.nextLink`` (https://learn.microsoft.com/graph/paging).

        :param path: the first page's path (with its query, e.g. ``users?$select=id``)
        :param what: the call in logs and errors
        :raises GraphAPIError: for a page that is not a JSON object, a ``nextLink`` to
            another host (the token would go there), or one that repeats a page already read
        """
        link: str | None = path
        followed: set[str] = set()
        while link:
            answer = self.request("GET", link, what=what)
            page = answer.json()
            if not isinstance(page, dict):
                raise GraphAPIError(answer.status, "InvalidResponse", "the page was not a JSON object")
            yield page
            next_link = page.get(NEXT_LINK)
            link = next_link if isinstance(next_link, str) and next_link else None
            if link is not None and link in followed:
                # Graph has answered a nextLink that points at the same page again, empty
                # (microsoftgraph/microsoft-graph-docs#4897): following it never ends. An empty
                # page is the end; one with items would repeat them.
                if not page.get("value"):
                    return
                raise GraphAPIError(
                    answer.status, "InvalidResponse", f"@odata.nextLink repeats a page already read ({what or path})"
                )
            if link is not None:
                followed.add(link)

    def get_all(self, path: str, *, what: str | None = None) -> list[Any]:
        """The ``value`` items of every page of a collection (see :meth:`pages`)."""
        items: list[Any] = []
        for page in self.pages(path, what=what):
            value = page.get("value")
            if isinstance(value, list):
                items.extend(value)
        return items

    def _same_host_url(self, url: str) -> str:
        """``url`` if it is on the Graph host of the connection; a URL elsewhere (an
        ``@odata.nextLink``, a download's) is refused: the access token would go with it."""
        base, target = urlsplit(self.settings.graph_base), urlsplit(url)
        if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()):
            raise GraphAPIError(
                200,
                "UntrustedUrl",
                # The host alone: a URL's netloc may carry user:password@.
                f"refused to send the access token to {target.scheme}://{target.hostname}: it is not the "
                f"Graph host {base.hostname} of the connection",
            )
        return url

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

    def bulk_engine(
        self,
        *,
        max_concurrency: int,
        operation: str,
        keep_fields: Sequence[str] | None = None,
        progress: Callable[[BulkProgress], None] | None = None,
        progress_interval: float = 5.0,
        one_batch_per_user: bool = False,
    ) -> BulkEngine:
        """The ``$batch`` engine on this client, with the connection's retry policy and logger.

        :param max_concurrency: batches in flight at most (the connection pool grows to fit)
        :param operation: what the items are, in log lines and progress
        :param keep_fields: fields of each answer's body kept in the results (``None``: all)
        :param progress: called with a :class:`~airflow_provider_meetings.graph.batch.BulkProgress`
        :param progress_interval: seconds between progress calls
        :param one_batch_per_user: batches of one user's items, one in flight per user
            (for a service whose limit is per user and counts a batch's items)
        """
        self.transport.ensure_pool(max_concurrency)
        return BulkEngine(
            self,
            max_concurrency=max_concurrency,
            retry_policy=self.settings.retry,
            keep_fields=keep_fields,
            progress=progress,
            progress_interval=progress_interval,
            sleep=self.sleep,
            log=self.log,
            operation=operation,
            one_batch_per_user=one_batch_per_user,
            controller=self.rate_budget.controller,
        )


#: Deprecated name of :class:`GraphRestClient` (it clashed with the Microsoft Graph SDK's class).
GraphClient = GraphRestClient
