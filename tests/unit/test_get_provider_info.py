"""The provider metadata Airflow discovers through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

import importlib
import json
from importlib.metadata import distribution, entry_points
from pathlib import Path

import pytest
from import_cost_testlib import HEAVY, loaded_by

from airflow_provider_meetings.diagnostics import CHECK_EXTRAS
from airflow_provider_meetings.get_provider_info import get_provider_info
from airflow_provider_meetings.graph.settings import KNOWN_EXTRAS

INFO = get_provider_info()
(CONN_TYPE,) = INFO["connection-types"]


def airflow_schema(name: str) -> dict:
    import airflow

    return json.loads((Path(airflow.__file__).parent / name).read_text())


def test_entry_point_points_here_and_package_name_is_the_distribution():
    (ep,) = [ep for ep in entry_points(group="apache_airflow_provider") if ep.dist.name == "airflow-provider-meetings"]
    assert ep.load() is get_provider_info
    assert (
        INFO["package-name"]
        == distribution("airflow-provider-meetings").metadata["Name"]
        == "airflow-provider-meetings"
    )


def test_matches_airflows_runtime_schema():
    import jsonschema

    jsonschema.validate(INFO, airflow_schema("provider_info.schema.json"))


def test_connection_form_matches_provider_yaml_schema():
    import jsonschema

    item_schema = airflow_schema("provider.yaml.schema.json")["properties"]["connection-types"]["items"]
    jsonschema.validate(CONN_TYPE, item_schema)


def test_every_extra_the_provider_reads_has_a_form_field():
    assert set(CONN_TYPE["conn-fields"]) == KNOWN_EXTRAS | set(CHECK_EXTRAS)


def test_form_defaults_and_choices_are_the_ones_the_provider_applies():
    # get_provider_info.py writes them out rather than importing them: Airflow imports it for
    # every provider, and graph/settings.py brings cryptography (auth/certificate.py).
    from airflow_provider_meetings.graph import settings
    from airflow_provider_meetings.graph.retry import RetryPolicy

    fields = {name: spec["schema"] for name, spec in CONN_TYPE["conn-fields"].items()}
    described = {name: spec["description"] for name, spec in CONN_TYPE["conn-fields"].items()}

    assert fields["bulk_concurrency"]["default"] == settings.DEFAULT_BULK_CONCURRENCY
    assert fields["bulk_concurrency"]["maximum"] == settings.MAX_BULK_CONCURRENCY
    assert f"(1-{settings.MAX_BULK_CONCURRENCY})" in described["bulk_concurrency"]
    assert fields["max_retries"]["default"] == RetryPolicy.max_retries
    assert fields["max_retry_wait"]["default"] == RetryPolicy.max_total_wait
    assert f"(default {settings.DEFAULT_TIMEOUT:g})" in described["timeout"]
    assert fields["rate_budget"]["enum"] == list(settings.RATE_BUDGETS)
    assert fields["rate_budget"]["default"] == settings.DEFAULT_RATE_BUDGET
    assert fields["cloud"]["enum"] == list(settings.CLOUDS) and fields["cloud"]["default"] == "global"
    assert fields["api_version"]["enum"] == list(settings.API_VERSIONS)
    assert fields["api_version"]["default"] == settings.API_VERSIONS[0]


def test_reading_the_provider_info_imports_nothing_heavy():
    module = "airflow_provider_meetings.get_provider_info"
    assert loaded_by([module], [*HEAVY, "cryptography", "airflow"], then=f"{module}.get_provider_info()") == []


@pytest.mark.parametrize(
    ("field", "secret"),
    [(name, name in {"private_key_password", "refresh_token", "rate_budget_url"}) for name in sorted(KNOWN_EXTRAS)],
)
def test_secret_fields_are_password_fields(field, secret):
    spec = CONN_TYPE["conn-fields"][field]
    assert spec["label"] and spec["description"]
    assert (spec["schema"].get("format") == "password") is secret


@pytest.mark.parametrize(
    ("standard_field", "label"),
    [("login", "Client ID"), ("password", "Client secret"), ("host", "Graph URL override")],
)
def test_standard_fields_are_relabelled(standard_field, label):
    behaviour = CONN_TYPE["ui-field-behaviour"]
    assert behaviour["relabeling"][standard_field] == label
    assert behaviour["placeholders"][standard_field]
    assert standard_field not in behaviour["hidden-fields"]


def test_hook_class_agrees_with_connection_type():
    module_name, _, class_name = CONN_TYPE["hook-class-name"].rpartition(".")
    hook = getattr(importlib.import_module(module_name), class_name)

    assert (CONN_TYPE["connection-type"], CONN_TYPE["hook-name"]) == (hook.conn_type, hook.hook_name)
    assert (hook.conn_name_attr, hook.default_conn_name) == ("conn_id", "msgraph_meetings_default")
    assert module_name in INFO["hooks"][0]["python-modules"]


def test_declared_modules_and_links_import():
    from airflow.sdk import BaseOperatorLink

    for section in ("hooks", "operators"):
        for module in INFO[section][0]["python-modules"]:
            importlib.import_module(module)
    for path in INFO["extra-links"]:
        module_name, _, class_name = path.rpartition(".")
        assert issubclass(getattr(importlib.import_module(module_name), class_name), BaseOperatorLink)
    integrations = {i["integration-name"] for i in INFO["integrations"]}
    assert {INFO["hooks"][0]["integration-name"], INFO["operators"][0]["integration-name"]} <= integrations


def test_airflow_providers_manager_registers_the_connection_form():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-meetings" in manager.providers
    assert "airflow_provider_meetings.links.online_meetings.JoinTeamsMeetingLink" in manager.extra_links_class_names
    widgets = manager.connection_form_widgets
    assert widgets["extra__msgraph_meetings__refresh_token"].is_sensitive
    assert not widgets["extra__msgraph_meetings__tenant_id"].is_sensitive
    assert manager.field_behaviours["msgraph_meetings"]["relabeling"]["login"] == "Client ID"


# -- the package as users find it ---------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]


def pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_version_is_written_once_and_read_everywhere():
    from airflow_provider_meetings import __version__
    from airflow_provider_meetings.graph.transport import USER_AGENT

    project = pyproject()
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "airflow_provider_meetings/__init__.py"
    assert distribution("airflow-provider-meetings").version == __version__
    assert INFO["versions"] == [__version__]
    assert USER_AGENT == f"airflow-provider-meetings/{__version__}"


def test_changelog_names_the_version_at_the_top():
    from airflow_provider_meetings import __version__

    headings = [line for line in (REPO / "CHANGELOG.md").read_text().splitlines() if line.startswith("## ")]
    assert headings[0].split()[1] == __version__


def test_project_urls_name_documentation_source_and_changelog():
    urls = dict(
        entry.split(", ", 1) for entry in distribution("airflow-provider-meetings").metadata.get_all("Project-URL")
    )

    assert set(urls) == {"Documentation", "Source", "Changelog"}
    assert urls == pyproject()["project"]["urls"]
    assert all(url.startswith("https://") for url in urls.values())


@pytest.mark.parametrize(
    ("section", "class_name"),
    [
        ("sensors", "TeamsMeetingArtifactsSensor"),
        ("triggers", "TeamsMeetingArtifactsTrigger"),
        ("operators", "FetchTeamsMeetingArtifactsOperator"),
    ],
)
def test_artifact_modules_are_listed_and_hold_their_class(section, class_name):
    modules = [m for entry in INFO[section] for m in entry["python-modules"]]
    assert any(hasattr(importlib.import_module(m), class_name) for m in modules)
    assert {entry["integration-name"] for entry in INFO[section]} <= {
        i["integration-name"] for i in INFO["integrations"]
    }
