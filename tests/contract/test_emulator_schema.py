"""The emulator's property lists are the official SDK models' (so the emulator cannot drift)."""

from __future__ import annotations

import importlib.metadata

import pytest
from fresh_interpreter_testlib import run_in_fresh_interpreter
from graph_models import type_name

from meetings_emulator.graph_schema import PROPERTIES, SDK_VERSIONS

DISTRIBUTIONS = {"v1.0": "msgraph-sdk", "beta": "msgraph-beta-sdk"}
CASES = [(version, name) for version, types in PROPERTIES.items() for name in types]


def test_both_versions_and_their_sdk_are_named():
    assert set(PROPERTIES) == set(SDK_VERSIONS) == {"v1.0", "beta"}
    for version, distribution in DISTRIBUTIONS.items():
        assert SDK_VERSIONS[version].startswith(f"{distribution} ")


@pytest.mark.parametrize(("version", "name"), CASES, ids=[f"{v}-{n}" for v, n in CASES])
def test_emulator_properties_equal_the_sdk_model(graph_contract, version, name):
    sdk = {
        prop: (type_name(field.model) if field.model else None)
        for prop, field in graph_contract.properties(name, version).items()
    }
    emulator = PROPERTIES[version][name]
    assert emulator == sdk, (
        f"{name} in {version} differs from {DISTRIBUTIONS[version]} "
        f"{importlib.metadata.version(DISTRIBUTIONS[version])} (lists taken from {SDK_VERSIONS[version]}): "
        f"only in the emulator {sorted(set(emulator) - set(sdk))}, only in the SDK {sorted(set(sdk) - set(emulator))}, "
        f"other types {sorted(k for k in set(sdk) & set(emulator) if sdk[k] != emulator[k])}"
    )


def test_the_emulator_does_not_import_the_sdks():
    run_in_fresh_interpreter(
        "import sys",
        "import meetings_emulator.server",
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('msgraph', 'msgraph_beta', 'kiota_abstractions')]",
        "assert not loaded, loaded",
    )
