"""The connection's ``rate_budget`` and ``rate_budget_url``, and the store each one opens."""

from __future__ import annotations

import logging
import os

import pytest

from airflow_provider_meetings.graph.budget.database_store import DatabaseStore
from airflow_provider_meetings.graph.budget.factory import budget_folder, budget_key, open_rate_budget
from airflow_provider_meetings.graph.budget.file_store import FileStore, budget_file, default_folder
from airflow_provider_meetings.graph.budget.redis_store import RedisStore, redact_url
from airflow_provider_meetings.graph.errors import ConnectionConfigError
from airflow_provider_meetings.graph.settings import parse_connection

LOG = logging.getLogger("factory-test")


def settings(**extra):
    return parse_connection(
        login="99999999-8888-7777-6666-555555555555",
        password="s3cr3t-value",
        host=None,
        extra={"tenant_id": "11111111-2222-3333-4444-555555555555", **extra},
        environ={},
    )


def test_the_default_is_a_file_beside_the_token_cache_or_in_a_private_temporary_folder() -> None:
    assert settings().rate_budget == "file"
    budget = open_rate_budget(settings(token_cache_path="/var/lib/airflow/meetings/cache.json"), log=LOG)
    assert isinstance(budget.store, FileStore) and budget.store.folder == "/var/lib/airflow/meetings"
    assert budget_folder(settings()) == default_folder() and str(os.getuid()) in default_folder()
    assert budget.lease_seconds == settings().timeout + 5


def test_off_shares_nothing() -> None:
    assert open_rate_budget(settings(rate_budget="off"), log=LOG).store is None


def test_redis_needs_a_redis_url_and_keeps_it_out_of_repr_and_logs() -> None:
    with pytest.raises(ConnectionConfigError, match="rate_budget_url"):
        settings(rate_budget="redis")
    with pytest.raises(ConnectionConfigError, match="rate_budget_url") as caught:
        settings(rate_budget="redis", rate_budget_url="http://user:hunter2@redis:6379")
    assert "hunter2" not in str(caught.value)
    checked = settings(rate_budget="Redis", rate_budget_url="redis://:hunter2@redis:6379/2")
    assert checked.rate_budget == "redis" and "hunter2" not in repr(checked)
    budget = open_rate_budget(checked, log=LOG)
    assert isinstance(budget.store, RedisStore) and budget.describe() == "redis (redis://:***@redis:6379/2)"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://redis:6379/0", "redis://redis:6379/0"),
        ("redis://default:pw@redis:6379/0", "redis://default:***@redis:6379/0"),
        ("rediss://:pw@redis/1", "rediss://:***@redis/1"),
        # redis-py reads a query password too (its docs give this form for sockets)
        ("unix:///run/redis.sock?db=2&password=pw%21", "unix:///run/redis.sock?db=2&password=***"),
        ("redis://:a@redis/0?password=b#x", "redis://:***@redis/0?password=***#x"),
    ],
)
def test_redis_urls_are_shown_without_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ConnectionConfigError, match="rate_budget"):
        settings(rate_budget="memcached")


def test_database_uses_the_url_the_hook_gives_and_falls_back_without_one(caplog) -> None:
    budget = open_rate_budget(settings(rate_budget="database"), log=LOG, database_url="sqlite:////tmp/x.db")
    assert isinstance(budget.store, DatabaseStore)
    with caplog.at_level(logging.WARNING, logger="factory-test"):
        alone = open_rate_budget(settings(rate_budget="database"), log=LOG)
    assert alone.store is None and "no database URL" in caplog.text


def test_one_budget_per_graph_root_tenant_and_app() -> None:
    key = budget_key(settings())
    assert (
        key == "https://graph.microsoft.com|11111111-2222-3333-4444-555555555555|99999999-8888-7777-6666-555555555555"
    )
    other_cloud = parse_connection(
        login="99999999-8888-7777-6666-555555555555",
        password="x",
        host=None,
        extra={"tenant_id": "11111111-2222-3333-4444-555555555555", "cloud": "usgov"},
        environ={},
    )
    assert budget_key(other_cloud) != key
    assert budget_file("/f", key) == budget_file("/f", key.upper().lower()) != budget_file("/f", key + "x")


def test_the_connection_check_names_each_backend_without_opening_it() -> None:
    from airflow_provider_meetings.graph.budget.factory import describe_backend

    assert describe_backend(settings()).startswith(
        f"file (shared by the processes of each machine, in {default_folder()}"
    )
    assert describe_backend(settings(rate_budget="database")) == (
        "database (table msgraph_meetings_rate_budget in Airflow's metadata database)"
    )
    assert describe_backend(settings(rate_budget="redis", rate_budget_url="redis://:pw@r:6379/2")) == (
        "redis (redis://:***@r:6379/2)"
    )
    assert describe_backend(settings(rate_budget="off")) == "off (each process paces itself)"
