"""Fixtures of the contract tests: the official Graph SDK models as an oracle."""

from __future__ import annotations

import pytest
from graph_models import GraphContract


@pytest.fixture(scope="session")
def graph_contract() -> GraphContract:
    """Checks JSON bodies against the official model of a Graph API version (see ``graph_models``)."""
    return GraphContract()
