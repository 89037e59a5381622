"""A small client of Airflow 3's REST API v2, authenticated as a SimpleAuthManager user.

The stack uses it to set up the pool and the connection; the e2e tests use it to trigger
runs and to read task states, XComs and extra links, the way an operator of Airflow would.

.. seealso:: Airflow's REST API reference, ``/docs`` on the api-server (OpenAPI).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import requests

#: States after which a DAG run or task instance does not change by itself.
FINISHED_RUN_STATES = frozenset({"success", "failed"})
FINISHED_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


class ApiError(RuntimeError):
    """Airflow answered an error.

    :param status: HTTP status.
    :param method: the request's method.
    :param path: the request's path.
    :param detail: Airflow's ``detail`` (or the body's text).
    """

    def __init__(self, status: int, method: str, path: str, detail: Any) -> None:
        super().__init__(f"{method} {path} -> {status}: {detail}")
        self.status = status
        self.detail = detail


def _quote(value: str) -> str:
    return quote(value, safe="")


class AirflowApi:
    """Calls ``/api/v2`` with a bearer token from ``/auth/token``.

    :param base_url: the api-server, e.g. ``http://127.0.0.1:28080``.
    :param username: a SimpleAuthManager user.
    :param password: its password.
    :param timeout: seconds per HTTP request.
    """

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.timeout = timeout
        self._session = requests.Session()
        self._session.trust_env = False  # loopback only; no proxies from the environment
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"AirflowApi({self.base_url!r}, user={self.username!r})"

    # -- transport ----------------------------------------------------------------------------

    def token(self) -> str:
        """A JWT for the user (``POST /auth/token``), fetched once and kept."""
        if self._token is None:
            response = self._session.post(
                f"{self.base_url}/auth/token",
                json={"username": self.username, "password": self._password},
                timeout=self.timeout,
            )
            if response.status_code != 201:
                raise ApiError(response.status_code, "POST", "/auth/token", _detail(response))
            self._token = response.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, *, expect: Iterable[int] = (200,), **kwargs: Any) -> Any:
        """``method /api/v2<path>``; the decoded JSON body (``None`` when empty).

        :param expect: statuses that count as success; any other raises :class:`ApiError`.
        """
        response = self._session.request(
            method,
            f"{self.base_url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=self.timeout,
            **kwargs,
        )
        if response.status_code not in set(expect):
            raise ApiError(response.status_code, method, path, _detail(response))
        return response.json() if response.content else None

    def health(self) -> dict[str, Any]:
        """``GET /api/v2/monitor/health`` (no login needed)."""
        response = self._session.get(f"{self.base_url}/api/v2/monitor/health", timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    # -- DAGs and runs ------------------------------------------------------------------------

    def dag(self, dag_id: str) -> dict[str, Any]:
        return self.request("GET", f"/dags/{_quote(dag_id)}")

    def set_paused(self, dag_id: str, paused: bool) -> dict[str, Any]:
        return self.request("PATCH", f"/dags/{_quote(dag_id)}", json={"is_paused": paused})

    def trigger(
        self, dag_id: str, *, logical_date: str | None, conf: Mapping[str, Any] | None = None, run_id: str | None = None
    ) -> dict[str, Any]:
        """Create a DAG run (``POST /dags/{dag_id}/dagRuns``); returns it."""
        body: dict[str, Any] = {"logical_date": logical_date, "conf": dict(conf or {})}
        if run_id is not None:
            body["dag_run_id"] = run_id
        return self.request("POST", f"/dags/{_quote(dag_id)}/dagRuns", json=body)

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.request("GET", f"/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}")

    def wait_for_run(self, dag_id: str, run_id: str, *, timeout: float, every: float = 2.0) -> dict[str, Any]:
        """Poll the run until it is ``success`` or ``failed``; :class:`TimeoutError` names the task states."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.dag_run(dag_id, run_id)
            if run["state"] in FINISHED_RUN_STATES:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"run {run_id} of {dag_id} is still {run['state']} after {timeout:.0f} s; "
                    f"task states: {self.task_states(dag_id, run_id)}"
                )
            time.sleep(every)

    # -- task instances -----------------------------------------------------------------------

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of a run, mapped ones included (one per map index)."""
        result: list[dict[str, Any]] = []
        while True:
            page = self.request(
                "GET",
                f"/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}/taskInstances",
                params={"limit": 100, "offset": len(result)},
            )
            result.extend(page["task_instances"])
            if len(result) >= page["total_entries"] or not page["task_instances"]:
                return result

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        """``{"task_id" or "task_id[i]": state}`` of a run, for assertions and messages."""
        return {_ti_name(ti): ti["state"] for ti in self.task_instances(dag_id, run_id)}

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        path = f"/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}/taskInstances/{_quote(task_id)}"
        return self.request("GET", path if map_index < 0 else f"{path}/{map_index}")

    def task_tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict[str, Any]]:
        """Every try of a task instance (``.../tries``), oldest first."""
        path = f"/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}/taskInstances/{_quote(task_id)}"
        path = f"{path}/tries" if map_index < 0 else f"{path}/{map_index}/tries"
        return self.request("GET", path)["task_instances"]

    def wait_for_task_states(
        self,
        dag_id: str,
        run_id: str,
        predicate: Any,
        *,
        timeout: float,
        what: str,
        every: float = 1.0,
    ) -> list[dict[str, Any]]:
        """Poll the run's task instances until ``predicate(task_instances)`` is true; return them.

        A deferral test can wait for ``deferred`` the same way.
        """
        deadline = time.monotonic() + timeout
        while True:
            instances = self.task_instances(dag_id, run_id)
            if predicate(instances):
                return instances
            if time.monotonic() > deadline:
                states = {_ti_name(ti): ti["state"] for ti in instances}
                raise TimeoutError(f"{what}: not seen after {timeout:.0f} s; task states: {states}")
            time.sleep(every)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        """An XCom's value, deserialised."""
        path = (
            f"/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}/taskInstances/{_quote(task_id)}/xcomEntries/{_quote(key)}"
        )
        entry = self.request("GET", path, params={"map_index": map_index, "deserialize": "true"})
        value = entry["value"]
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def extra_links(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, str | None]:
        """``{link name: URL}`` of a task instance."""
        path = f"/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}/taskInstances/{_quote(task_id)}/links"
        return self.request("GET", path, params={"map_index": map_index})["extra_links"]

    # -- pools and connections ----------------------------------------------------------------

    def set_pool(self, name: str, slots: int, description: str) -> None:
        """Create or update a pool."""
        body = {"name": name, "slots": slots, "description": description, "include_deferred": False}
        try:
            self.request("POST", "/pools", json=body, expect=(201,))
        except ApiError as err:
            if err.status != 409:
                raise
            self.request("PATCH", f"/pools/{_quote(name)}", json=body)

    def connection(self, conn_id: str) -> dict[str, Any]:
        return self.request("GET", f"/connections/{_quote(conn_id)}")

    def delete_connection(self, conn_id: str) -> bool:
        """Delete a connection; ``False`` if there was none."""
        try:
            self.request("DELETE", f"/connections/{_quote(conn_id)}", expect=(204,))
        except ApiError as err:
            if err.status == 404:
                return False
            raise
        return True

    def put_connection(self, conn_id: str, connection: Mapping[str, Any]) -> None:
        """Replace ``conn_id`` with ``connection`` (Airflow's JSON form: ``conn_type``, ``extra`` as a dict...)."""
        self.delete_connection(conn_id)
        self.request("POST", "/connections", json=connection_body(conn_id, connection), expect=(201,))

    def test_connection(self, conn_id: str, connection: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /connections/test`` with every field of the connection (its credentials included)."""
        return self.request("POST", "/connections/test", json=connection_body(conn_id, connection))


def connection_body(conn_id: str, connection: Mapping[str, Any]) -> dict[str, Any]:
    """The REST API's connection body from Airflow's JSON form (``extra`` becomes a JSON string)."""
    body: dict[str, Any] = {"connection_id": conn_id}
    for key in ("conn_type", "description", "host", "login", "schema", "port", "password"):
        if connection.get(key) not in (None, ""):
            body[key] = connection[key]
    extra = connection.get("extra")
    if extra:
        body["extra"] = extra if isinstance(extra, str) else json.dumps(extra)
    return body


def _ti_name(ti: Mapping[str, Any]) -> str:
    index = ti.get("map_index", -1)
    return ti["task_id"] if index is None or index < 0 else f"{ti['task_id']}[{index}]"


def _detail(response: requests.Response) -> Any:
    try:
        return response.json().get("detail", response.text)
    except ValueError:
        return response.text[:500]
