"""The ``redis`` backend: one key per budget, changed in a ``WATCH``/``MULTI`` transaction.

Redis is what Celery deployments already run (the broker). The clock is Redis ``TIME``
(https://redis.io/docs/latest/commands/time/), read inside the transaction: one clock for
every worker, whatever their own clocks say. A transaction whose key another worker changed
meanwhile is not executed (``EXEC`` returns nil, https://redis.io/docs/latest/develop/interact/transactions/)
and redis-py runs it again (``Redis.transaction``). The key expires after a day unused.

redis-py is imported on first use: a connection without ``rate_budget: redis`` never needs it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_meetings.graph.budget.store import StoreUnavailable, Update
from airflow_provider_meetings.graph.settings import is_password, query_passwords

#: Seconds a connect or a command may take before the store counts as down.
SOCKET_TIMEOUT = 0.5
#: Seconds an unused budget stays in Redis.
KEY_TTL = 24 * 3600
KEY_PREFIX = "airflow-provider-meetings:rate-budget:"


def redact_url(url: str) -> str:
    """``url`` without its passwords, in the user part or the query (``?password=``, which
    redis-py also reads), for logs and the connection check."""
    parts = urlsplit(url)
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        netloc = (f"{parts.username}:***@" if parts.username else ":***@") + host
    if query_passwords(query):
        pairs = (item.partition("=") for item in query.split("&"))
        query = "&".join(f"{n}{eq}***" if is_password(n) and v else f"{n}{eq}{v}" for n, eq, v in pairs)
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    # Not urlunsplit: it drops the "//" of unix:///path (a scheme it does not know to have a netloc).
    return (
        f"{parts.scheme}://{netloc}{parts.path}"
        + (f"?{query}" if query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


class RedisStore:
    """Budgets as Redis keys.

    :param url: ``redis://[user:password@]host:port/db`` (``rediss://`` for TLS)
    :param socket_timeout: seconds a connect or command may take
    """

    kind = "redis"

    def __init__(self, url: str, *, socket_timeout: float = SOCKET_TIMEOUT) -> None:
        self.url = url
        self.socket_timeout = socket_timeout
        self._client: Any = None

    def describe(self) -> str:
        """The URL without its password."""
        return redact_url(self.url)

    def _redis(self) -> Any:
        if self._client is None:
            try:
                import redis
            except ImportError:
                raise StoreUnavailable("redis-py is not installed (pip install redis)") from None
            self._client = redis.Redis.from_url(
                self.url, socket_timeout=self.socket_timeout, socket_connect_timeout=self.socket_timeout
            )
        return self._client

    def transact(self, key: str, update: Update) -> None:
        """Read, update and write the key of ``key`` on Redis's clock, atomically."""
        client = self._redis()
        name = KEY_PREFIX + key

        def attempt(pipe: Any) -> None:
            seconds, micros = pipe.time()
            raw = pipe.get(name)
            state = json.loads(raw) if raw else None
            new = update(state if isinstance(state, dict) else None, seconds + micros / 1e6)
            pipe.multi()
            pipe.set(name, json.dumps(new), ex=KEY_TTL)

        import redis

        try:
            client.transaction(attempt, name)
        except redis.RedisError as error:
            raise StoreUnavailable(f"{self.describe()}: {error}") from None

    def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None
