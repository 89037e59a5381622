"""The supported Airflow floor: the import-time check, and the places that declare the floor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_provider_meetings import version_check
from airflow_provider_meetings.version_check import MIN_AIRFLOW, release_tuple, unsupported_airflow

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.2.0", (3, 2, 0)),
        ("3.3.2", (3, 3, 2)),
        ("3.2.0rc1", (3, 2, 0)),
        ("3.2.1.dev0+local", (3, 2, 1)),
        ("1.2", (1, 2, 0)),
        ("3", (3, 0, 0)),
        ("nonsense", None),
    ],
)
def test_release_tuple(text: str, expected: tuple[int, int, int] | None) -> None:
    assert release_tuple(text) == expected


@pytest.mark.parametrize(
    ("installed", "too_old"),
    [
        pytest.param({"apache-airflow-core": "3.3.2", "apache-airflow-task-sdk": "1.3.2"}, [], id="3.3"),
        pytest.param({"apache-airflow-core": "3.2.0", "apache-airflow-task-sdk": "1.2.0"}, [], id="the-floor"),
        pytest.param({"apache-airflow-task-sdk": "1.2.1"}, [], id="worker-with-sdk-only"),
        pytest.param({}, [], id="nothing-installed"),
        pytest.param(
            {"apache-airflow-core": "3.1.8", "apache-airflow-task-sdk": "1.1.8"},
            ["apache-airflow-core 3.1.8", "apache-airflow-task-sdk 1.1.8"],
            id="3.1",
        ),
        pytest.param(
            {"apache-airflow-core": "3.0.6", "apache-airflow-task-sdk": "1.0.6"},
            ["apache-airflow-core 3.0.6", "apache-airflow-task-sdk 1.0.6"],
            id="3.0",
        ),
        pytest.param({"apache-airflow-core": "3.2.0rc1"}, [], id="release-candidate-of-the-floor"),
        pytest.param(
            {"apache-airflow-core": "3.2.2", "apache-airflow-task-sdk": "1.1.8"},
            ["apache-airflow-task-sdk 1.1.8"],
            id="old-sdk-beside-new-core",
        ),
    ],
)
def test_unsupported_airflow(installed: dict[str, str], too_old: list[str]) -> None:
    reason = unsupported_airflow(installed.get)
    if not too_old:
        assert reason is None
        return
    assert reason is not None
    for name in too_old:
        assert name in reason
    assert f"apache-airflow>={MIN_AIRFLOW}" in reason  # the fix
    assert "airflow.sdk.BaseHook" in reason  # and why


def test_the_package_import_names_the_needed_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(version_check, "_installed", {"apache-airflow-core": "3.1.8"}.get)
    with pytest.raises(ImportError, match=r"needs Apache Airflow 3\.2\.0 or newer.*apache-airflow-core 3\.1\.8"):
        version_check.require_supported_airflow()


def test_the_installed_airflow_is_supported() -> None:
    assert unsupported_airflow() is None


def test_pyproject_declares_the_same_floor() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert re.search(rf'"apache-airflow>={re.escape(MIN_AIRFLOW)}"', text), "pyproject's apache-airflow floor"


def test_the_floor_test_pins_the_same_version() -> None:
    match = re.search(r"^AIRFLOW_FLOOR \?= (\S+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert match is not None, "Makefile: AIRFLOW_FLOOR ?= <version>"
    assert match.group(1) == MIN_AIRFLOW


def test_the_msal_floor_test_pins_pyprojects_msal_floor() -> None:
    declared = re.search(r'"msal>=([0-9.]+)"', (REPO / "pyproject.toml").read_text())
    assert declared is not None, 'pyproject.toml: "msal>=<version>"'
    pinned = re.search(r"^MSAL_FLOOR \?= (\S+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert pinned is not None, "Makefile: MSAL_FLOOR ?= <version>"
    assert release_tuple(pinned.group(1)) == release_tuple(declared.group(1))


def test_ci_runs_the_msal_floor_test() -> None:
    assert "make test-msal-floor" in (REPO / ".ci" / "run").read_text()
