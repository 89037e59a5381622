"""The ``database`` backend: one row per budget in a SQL database (Airflow's metadata database).

For deployments without Redis (Kubernetes): the database every Airflow component already
reaches. One table, ``msgraph_meetings_rate_budget`` (created on first use; it is no part of
Airflow's schema and Airflow's migrations leave it alone), one row per budget. A transaction
takes the row's lock first (a no-op ``UPDATE``: a row lock in PostgreSQL, the write lock in
SQLite), then reads, computes and writes it, so transactions of different workers run one
after the other. The clock is the database's (PostgreSQL ``clock_timestamp()``, SQLite
``julianday('now')``, https://www.postgresql.org/docs/current/functions-datetime.html,
https://sqlite.org/lang_datefunc.html): one clock for every worker. PostgreSQL and SQLite
are supported (``INSERT ... ON CONFLICT DO NOTHING``); on others the budget falls back.

SQLAlchemy is imported on first use (Airflow brings it).
"""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_meetings.graph.budget.store import StoreUnavailable, Update

TABLE = "msgraph_meetings_rate_budget"
#: Milliseconds a statement or a row lock may take before the store counts as slow.
STATEMENT_TIMEOUT_MS = 1000
_NOW = {
    "postgresql": "SELECT EXTRACT(EPOCH FROM clock_timestamp())",
    "sqlite": "SELECT (julianday('now') - 2440587.5) * 86400.0",
}


class DatabaseStore:
    """Budgets as rows of :data:`TABLE`.

    :param url: a SQLAlchemy URL (the hook passes Airflow's ``[database] sql_alchemy_conn``)
    :param engine: an engine to use instead of building one from ``url``
    """

    kind = "database"

    def __init__(self, url: str | None = None, *, engine: Any = None) -> None:
        if url is None and engine is None:
            raise ValueError("a URL or an engine is needed")
        self.url = url
        self._engine = engine
        self._table_ready = False

    def describe(self) -> str:
        """The database's dialect, host and name (no password)."""
        try:
            engine = self._connect()
        except StoreUnavailable as error:
            return str(error)
        return f"table {TABLE} in {engine.url.render_as_string(hide_password=True)}"

    def _connect(self) -> Any:
        if self._engine is None:
            try:
                import sqlalchemy
            except ImportError:  # pragma: no cover - Airflow brings it
                raise StoreUnavailable("SQLAlchemy is not installed") from None
            assert self.url is not None
            connect_args = {"connect_timeout": 2} if self.url.startswith("postgres") else {}
            try:
                self._engine = sqlalchemy.create_engine(
                    self.url, pool_size=1, max_overflow=1, pool_pre_ping=True, connect_args=connect_args
                )
            except Exception as error:  # a bad URL, a driver missing
                raise StoreUnavailable(f"{type(error).__name__}: {error}") from None
        return self._engine

    def transact(self, key: str, update: Update) -> None:
        """Lock, read, update and write the row of ``key`` in one database transaction."""
        import sqlalchemy
        from sqlalchemy import text

        engine = self._connect()
        dialect = engine.dialect.name
        if dialect not in _NOW:
            raise StoreUnavailable(f"{dialect} databases are not supported (PostgreSQL, SQLite)")
        if not self._table_ready:
            self._create_table(engine)
        try:
            with engine.begin() as connection:
                if dialect == "postgresql":
                    connection.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
                    connection.execute(text(f"SET LOCAL lock_timeout = {STATEMENT_TIMEOUT_MS}"))
                else:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {STATEMENT_TIMEOUT_MS}")
                connection.execute(
                    text(f"INSERT INTO {TABLE} (budget_key, state) VALUES (:key, NULL) ON CONFLICT DO NOTHING"),
                    {"key": key},
                )
                connection.execute(text(f"UPDATE {TABLE} SET state = state WHERE budget_key = :key"), {"key": key})
                raw = connection.execute(
                    text(f"SELECT state FROM {TABLE} WHERE budget_key = :key"), {"key": key}
                ).scalar()
                now = float(connection.execute(text(_NOW[dialect])).scalar())
                try:
                    state = json.loads(raw) if raw else None
                except ValueError:
                    state = None
                new = update(state if isinstance(state, dict) else None, now)
                connection.execute(
                    text(f"UPDATE {TABLE} SET state = :state WHERE budget_key = :key"),
                    {"key": key, "state": json.dumps(new)},
                )
        except sqlalchemy.exc.SQLAlchemyError as error:
            raise StoreUnavailable(f"{type(error).__name__}: {str(error).splitlines()[0]}") from None

    def _create_table(self, engine: Any) -> None:
        """Create :data:`TABLE` if missing, in a transaction of its own.

        Two workers creating it at the same moment may both pass ``IF NOT EXISTS`` in
        PostgreSQL, and one then fails on the catalog's unique index; the table is there
        either way, so that failure is ignored and the transaction that follows tells.
        """
        import sqlalchemy
        from sqlalchemy import text

        try:
            with engine.begin() as connection:
                connection.execute(
                    text(f"CREATE TABLE IF NOT EXISTS {TABLE} (budget_key VARCHAR(255) PRIMARY KEY, state TEXT)")
                )
        except sqlalchemy.exc.IntegrityError:
            pass
        except sqlalchemy.exc.SQLAlchemyError as error:
            raise StoreUnavailable(f"{type(error).__name__}: {str(error).splitlines()[0]}") from None
        self._table_ready = True

    def close(self) -> None:
        """Dispose of the engine's connections."""
        if self._engine is not None and self.url is not None:
            self._engine.dispose()
