"""Shared helpers of the connection check's unit tests: settings, JWTs, a Graph client stand-in."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_meetings.graph.answer import HttpAnswer
from airflow_provider_meetings.graph.settings import ConnectionSettings, parse_connection


def _jwt_of(claims: object) -> str:
    def part(data: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


def _settings(**extra: object) -> ConnectionSettings:
    return parse_connection(
        login="8a2d4c6e-1b3f-4e5a-9c7d-2f4b6d8e0a13",
        password="a-secret-value",
        host=None,
        extra={"tenant_id": "contoso.example", **extra},
    )


@pytest.fixture
def jwt_of() -> Callable[[object], str]:
    """``jwt_of(claims)``: an unsigned JWT carrying ``claims``."""
    return _jwt_of


@pytest.fixture
def make_settings() -> Callable[..., ConnectionSettings]:
    """``make_settings(**extra)``: an app-only connection's settings with these extras."""
    return _settings


class FakeGraph:
    """Answers the check's Graph requests from a handler, and records their paths.

    :param handler: ``handler(path)`` returns an :class:`HttpAnswer` (2xx) or raises the
        error ``GraphClient.request`` would raise
    """

    def __init__(self, handler: Callable[[str], HttpAnswer]) -> None:
        self.handler = handler
        self.paths: list[str] = []

    def request(self, method: str, path: str, *, what: str, user_id: str | None = None, json: Any = None) -> Any:
        assert method == "GET"
        self.paths.append(path)
        return self.handler(path)


@pytest.fixture
def fake_graph() -> Callable[[Callable[[str], HttpAnswer]], FakeGraph]:
    """``fake_graph(handler)``: a stand-in for the check's Graph client."""
    return FakeGraph
