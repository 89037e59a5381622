"""Fixtures for the emulator's own integration tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import emulator_testlib
import pytest
from emulator_testlib import GRAPH_SCOPE, make_app, make_session

PLUGIN = "meetings_emulator.pytest_plugin"


def pytest_configure(config: pytest.Config) -> None:
    # The entry point registers the plugin once the package is installed; from a source
    # checkout it is not, so register it here.
    if not config.pluginmanager.has_plugin("meetings_emulator") and not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)


@pytest.fixture
def emu(graph_emulator: Any) -> Iterator[Any]:
    """The session emulator, reset before and after the test."""
    graph_emulator.reset(tokens=True, users=True)
    yield graph_emulator
    graph_emulator.reset(tokens=True, users=True)


@pytest.fixture
def session(emu: Any) -> Any:
    return make_session(emu.ca_path)


@pytest.fixture
def app_token(emu: Any) -> str:
    return emulator_testlib.app_token(emu)


@pytest.fixture
def delegated_token(emu: Any) -> str:
    result = make_app(emu).acquire_token_by_refresh_token(emu.refresh_token, GRAPH_SCOPE)
    return result["access_token"]


@pytest.fixture
def graph(emu: Any, session: Any, app_token: str) -> Callable[..., Any]:
    """``graph(method, path, json=..., token=..., **kw)`` against ``/v1.0``."""

    def call(method: str, path: str, token: str | None = app_token, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        version = kwargs.pop("version", "v1.0")
        kwargs.setdefault("timeout", 10)
        return session.request(method, f"{emu.url}/{version}{path}", headers=headers, **kwargs)

    return call
