"""Fixtures of the integration tests: hooks on fresh connections to the session emulator, federated tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from meetings_emulator import run_emulator


@pytest.fixture
def make_hook(graph_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Build a hook on a fresh connection to the session emulator.

    Keyword arguments override connection fields (``password=...``) or extras
    (``max_retries=...``); an override of ``None`` removes the extra.
    """
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    graph_emulator.reset()
    hooks: list[Any] = []

    def factory(emulator: Any = None, **overrides: Any) -> OnlineMeetingsHook:
        emulator = emulator or graph_emulator
        conn_id = f"meetings_it_{len(hooks)}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", emulator.connection_json(**overrides))
        hook = OnlineMeetingsHook(conn_id=conn_id)
        hooks.append(hook)
        return hook

    yield factory
    for hook in hooks:
        hook.close()
    graph_emulator.clear_faults()


def _write_federated_token(
    path: Path, *, issuer: str, subject: str, audience: str = "api://AzureADTokenExchange"
) -> str:
    import time

    import jwt

    now = int(time.time())
    token = jwt.encode(
        {"iss": issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now, "exp": now + 600, "jti": str(now)},
        "federation-test-signing-key-of-enough-length",
        algorithm="HS256",
    )
    path.write_text(token)
    return token


@pytest.fixture
def write_federated_token() -> Callable[..., str]:
    """``write(path, issuer=, subject=)``: a signed, unexpired workload-identity JWT in ``path``."""
    return _write_federated_token


@pytest.fixture(scope="module")
def quick_device_codes() -> Iterator[Any]:
    """An emulator of the module's own whose device codes ask for one-second polling, for the
    tests that sign in with the device code flow."""
    with run_emulator(device_code_interval=1) as emulator:
        yield emulator
