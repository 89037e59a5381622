"""The rate budget a connection names (its extra ``rate_budget``)."""

from __future__ import annotations

import os
from typing import Any

from airflow_provider_meetings.graph.budget.database_store import TABLE, DatabaseStore
from airflow_provider_meetings.graph.budget.file_store import FileStore, default_folder
from airflow_provider_meetings.graph.budget.redis_store import RedisStore, redact_url
from airflow_provider_meetings.graph.budget.shared import RateBudget
from airflow_provider_meetings.graph.budget.store import BudgetStore
from airflow_provider_meetings.graph.settings import ConnectionSettings

#: Seconds a batch's slot outlives the connection's timeout (the answer's own latency).
LEASE_MARGIN = 5.0


def budget_key(settings: ConnectionSettings) -> str:
    """The budget's name: Graph throttles per app and tenant; the Graph root tells clouds (and
    stand-ins such as the emulator) apart."""
    return f"{settings.graph_url}|{settings.tenant_id}|{settings.client_id}".lower()


def budget_folder(settings: ConnectionSettings) -> str:
    """Where ``rate_budget: file`` keeps its files: beside the token cache, else :func:`default_folder`."""
    if settings.token_cache_path:
        return os.path.dirname(settings.token_cache_path) or "."
    return default_folder()


def describe_backend(settings: ConnectionSettings) -> str:
    """The connection's budget backend and where it lives, without opening it (the connection check)."""
    kind = settings.rate_budget
    if kind == "file":
        return f"file (shared by the processes of each machine, in {budget_folder(settings)})"
    if kind == "redis":
        return f"redis ({redact_url(settings.rate_budget_url or '')})"
    if kind == "database":
        return f"database (table {TABLE} in Airflow's metadata database)"
    return "off (each process paces itself)"


def open_store(settings: ConnectionSettings, *, database_url: str | None = None) -> BudgetStore | None:
    """The store of the connection's ``rate_budget`` (``None`` for ``off``).

    :param settings: the connection's settings
    :param database_url: the SQLAlchemy URL of ``rate_budget: database`` (Airflow's metadata
        database: the hook reads it from Airflow's configuration)
    """
    kind = settings.rate_budget
    if kind == "file":
        return FileStore(budget_folder(settings))
    if kind == "redis":
        assert settings.rate_budget_url is not None  # parse_connection requires it
        return RedisStore(settings.rate_budget_url)
    if kind == "database":
        if not database_url:
            return None
        return DatabaseStore(database_url)
    return None


def open_rate_budget(settings: ConnectionSettings, *, log: Any, database_url: str | None = None) -> RateBudget:
    """The connection's shared rate budget (see :mod:`airflow_provider_meetings.graph.budget`).

    :param settings: the connection's settings
    :param log: where the budget's warning and INFO lines go
    :param database_url: for ``rate_budget: database``: the metadata database's SQLAlchemy URL
    """
    store = open_store(settings, database_url=database_url)
    if store is None and settings.rate_budget == "database":
        log.warning("rate budget: no database URL for rate_budget 'database'; each process paces itself")
    return RateBudget(store, budget_key(settings), log=log, lease_seconds=settings.timeout + LEASE_MARGIN)
