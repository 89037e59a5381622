"""HTTP transport: one ``requests.Session`` for Entra ID and Graph, answers as plain data.

* TLS, proxy and timeout settings come from the connection and win on every request, for
  Graph calls and for MSAL alike: MSAL ignores its own ``verify``/``proxies``/``timeout``
  once given an ``http_client`` (msal/application.py, ``http_client`` parameter), and
  requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` replace a *session's* ``verify``
  (``Session.merge_environment_settings``); a per-request value is kept as given.
* :func:`map_transport_errors` is the one place where requests' exceptions become ours.
* :meth:`Transport.send` returns an :class:`~airflow_provider_meetings.graph.answer.HttpAnswer`
  (plain data; nothing about an answer is stored on the session);
  :meth:`Transport.raw_response` returns requests' ``Response``, for MSAL only.
* :class:`MsalHttpClient` is what MSAL gets as ``http_client``. MSAL reads the body of a
  token answer itself, so the status and content type of each answer are recorded for the
  call that is running (:func:`recording_exchanges`, a context variable: per call, per
  thread), which the token source reads to explain a failure.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter
from urllib3.exceptions import InsecureRequestWarning

from airflow_provider_meetings import __version__
from airflow_provider_meetings.graph.answer import HttpAnswer, StreamedAnswer, media_type, url_without_query
from airflow_provider_meetings.graph.errors import ConnectionConfigError, TransportError

USER_AGENT = f"airflow-provider-meetings/{__version__}"
_ERRNO_RE = re.compile(r"\[Errno -?\d+\][^'\")\]]*")
_REASON_CHARS = 160


def _short_reason(error: BaseException) -> str:
    """The useful part of a requests/urllib3 error text (``[Errno 111] Connection refused``)."""
    text = str(error)
    match = _ERRNO_RE.search(text)
    if match:
        return match.group(0).strip()
    text = " ".join(text.split())
    return text if len(text) <= _REASON_CHARS else text[:_REASON_CHARS] + "..."


@contextlib.contextmanager
def map_transport_errors(url: str) -> Iterator[None]:
    """Turn requests' exceptions into the provider's, for a request to ``url``.

    An untrusted certificate and a malformed proxy URL are configuration errors (retrying
    cannot fix them); everything else that left no answer is a transient
    :class:`~airflow_provider_meetings.graph.errors.TransportError`.
    """
    where = url_without_query(url)
    try:
        yield
    except requests.exceptions.SSLError as error:
        if "CERTIFICATE_VERIFY_FAILED" in str(error):
            raise ConnectionConfigError(
                "verify",
                f"the TLS certificate of {urlsplit(url).netloc} is not trusted (CERTIFICATE_VERIFY_FAILED); "
                "set the extra verify to the path of the CA bundle that signed it (REQUESTS_CA_BUNDLE "
                "applies only while verify is true)",
            ) from None
        raise TransportError("connection", where, _short_reason(error)) from error
    except requests.exceptions.InvalidProxyURL as error:
        raise ConnectionConfigError("proxies", f"is not a usable proxy URL: {_short_reason(error)}") from None
    except requests.exceptions.ProxyError as error:
        raise TransportError("proxy", where, _short_reason(error)) from error
    except requests.exceptions.Timeout as error:
        raise TransportError("timeout", where, _short_reason(error)) from error
    except requests.exceptions.ChunkedEncodingError as error:
        raise TransportError("dropped", where, _short_reason(error)) from error
    except requests.exceptions.ConnectionError as error:
        # "Connection aborted." (RemoteDisconnected, reset): the request may have been processed.
        kind = "dropped" if "aborted" in str(error).lower() else "connection"
        raise TransportError(kind, where, _short_reason(error)) from error
    except (
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidURL,
    ) as error:
        # Retrying cannot fix these: most often a proxy scheme requests cannot use (socks5h://
        # without PySocks: "Missing dependencies for SOCKS support").
        raise ConnectionConfigError(
            "proxies", f"{where} cannot be sent through the configured URLs: {_short_reason(error)}"
        ) from None
    except requests.exceptions.RequestException as error:
        # The rest left no usable answer either: a body that does not decode (a proxy's broken
        # gzip: ContentDecodingError), TooManyRedirects... A bulk call counts on our errors only.
        raise TransportError("connection", where, f"{type(error).__name__}: {_short_reason(error)}") from error


class Transport:
    """One HTTP session with the connection's TLS, proxy and timeout settings pinned.

    :param verify: ``True``, ``False`` or a CA bundle path
    :param proxies: scheme -> proxy URL, or ``None`` (then the environment's apply)
    :param timeout: seconds per request (connect and read)
    :param pool_size: kept-alive connections per host
    """

    def __init__(
        self,
        *,
        verify: bool | str,
        proxies: Mapping[str, str] | None,
        timeout: float,
        pool_size: int = DEFAULT_POOLSIZE,
    ) -> None:
        self.verify = verify
        self.proxies = dict(proxies or {})
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.pool_size = 0
        self.ensure_pool(pool_size)

    def ensure_pool(self, size: int) -> None:
        """Keep at least ``size`` connections per host alive (one per ``$batch`` in flight)."""
        if size > self.pool_size:
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=size)
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
            self.pool_size = size

    def raw_response(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request with the pinned settings and mapped errors, as requests' ``Response``
        (for MSAL, which reads it itself; everything else uses :meth:`send`); the body is read."""
        kwargs["verify"] = self.verify
        kwargs["proxies"] = {**(kwargs.get("proxies") or {}), **self.proxies}
        kwargs["timeout"] = self.timeout
        # The hook warned once about verify=false; urllib3 would warn on every request.
        # (catch_warnings is not thread-safe, so it is used only in that case.)
        quiet = warnings.catch_warnings() if self.verify is False else contextlib.nullcontext()
        with map_transport_errors(url), quiet:
            if self.verify is False:
                warnings.simplefilter("ignore", InsecureRequestWarning)
            response = self.session.request(method, url, **kwargs)
            _ = response.content  # a drop while reading the body is mapped here too
        return response

    def send(self, method: str, url: str, *, headers: Mapping[str, str] | None = None, json: Any = None) -> HttpAnswer:
        """Send one request and return its answer as plain data (any status).

        :raises TransportError: when no answer arrived
        :raises ConnectionConfigError: for an untrusted certificate or a bad proxy URL
        """
        response = self.raw_response(method, url, headers=dict(headers or {}), json=json)
        return HttpAnswer(response.status_code, response.headers, response.content, url)

    def stream(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, chunk_size: int = 1 << 20
    ) -> StreamedAnswer:
        """Send one request and return its answer with the body still to read, chunk by chunk.

        For downloads too large for memory (``requests``' ``stream=True``): the body is read
        as it is iterated, and a connection that drops while it is read raises a
        :class:`~airflow_provider_meetings.graph.errors.TransportError` from the iteration.
        Call the answer's ``close()`` when done.

        :param chunk_size: bytes per chunk at most
        :raises TransportError: when no answer arrived
        """
        quiet = warnings.catch_warnings() if self.verify is False else contextlib.nullcontext()
        with map_transport_errors(url), quiet:
            if self.verify is False:
                warnings.simplefilter("ignore", InsecureRequestWarning)
            response = self.session.request(
                method,
                url,
                headers=dict(headers or {}),
                verify=self.verify,
                proxies=self.proxies,
                timeout=self.timeout,
                stream=True,
            )

        def chunks() -> Iterator[bytes]:
            with map_transport_errors(url):
                yield from response.iter_content(chunk_size)

        return StreamedAnswer(response.status_code, response.headers, chunks(), url, response.close)

    @property
    def msal_client(self) -> MsalHttpClient:
        """The ``http_client`` to give MSAL."""
        return MsalHttpClient(self)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()


@dataclass(frozen=True)
class Exchange:
    """One answer of the token endpoint (or OIDC discovery), as MSAL received it.

    :param url: where the request went (without query)
    :param status: HTTP status
    :param content_type: the answer's media type
    :param retry_after: the raw ``Retry-After`` header, if any
    :param at: when it arrived (``time.monotonic()``)
    """

    url: str
    status: int
    content_type: str
    retry_after: str | None
    at: float


_EXCHANGES: contextvars.ContextVar[list[Exchange] | None] = contextvars.ContextVar(
    "airflow_provider_meetings_exchanges", default=None
)


@contextlib.contextmanager
def recording_exchanges() -> Iterator[list[Exchange]]:
    """Collect the answers MSAL receives during the block (in this thread/context only).

    An empty list after an MSAL call that failed means MSAL answered from memory: it
    replays a recent 429/5xx for a while instead of sending again
    (msal/throttled_http_client.py, ``ThrottledHttpClient``).
    """
    exchanges: list[Exchange] = []
    token = _EXCHANGES.set(exchanges)
    try:
        yield exchanges
    finally:
        _EXCHANGES.reset(token)


class MsalHttpClient:
    """MSAL's ``http_client``: requests through the :class:`Transport`, answers recorded.

    MSAL calls ``post(url, params=, data=, headers=, ...)`` and ``get(url, params=,
    headers=, ...)`` and reads ``status_code``, ``text`` and ``headers`` of what they return.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self._send("POST", url, kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self._send("GET", url, kwargs)

    def close(self) -> None:
        """The transport belongs to the hook, which closes it."""

    def _send(self, method: str, url: str, kwargs: dict[str, Any]) -> requests.Response:
        response = self.transport.raw_response(method, url, **kwargs)
        exchanges = _EXCHANGES.get()
        if exchanges is not None:
            content_type = media_type(response.headers.get("Content-Type"))
            exchanges.append(
                Exchange(
                    url_without_query(url),
                    response.status_code,
                    content_type,
                    response.headers.get("Retry-After"),
                    time.monotonic(),
                )
            )
        return response
