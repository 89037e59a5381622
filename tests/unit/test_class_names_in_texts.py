"""Every operator, sensor, hook and trigger class that the package's texts or the docs name exists.

Error messages and docs point users to classes by name ("use CreateOrGetTeamsEventOperator");
a renamed or misremembered class there sends a user looking for something that is not there.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import airflow_provider_meetings

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "airflow_provider_meetings"
NAME_RE = re.compile(r"\b[A-Z][A-Za-z]+(?:Operator|Sensor|Hook|Trigger)\b")
#: Airflow's own classes that texts may name.
AIRFLOW_CLASSES = {
    "BaseOperator",
    "BaseHook",
    "BaseSensorOperator",
    "BaseTrigger",
    "DateTimeTrigger",
    "BaseSQLOperator",
}


def provider_classes() -> set[str]:
    names: set[str] = set()
    for info in pkgutil.walk_packages(airflow_provider_meetings.__path__, "airflow_provider_meetings."):
        if info.name.split(".")[1] not in {"operators", "sensors", "hooks", "triggers", "diagnostics"}:
            continue
        module = importlib.import_module(info.name)
        names.update(name for name, value in vars(module).items() if isinstance(value, type))
    return names


def test_named_classes_exist() -> None:
    texts = [*PACKAGE.rglob("*.py"), *(REPO / "docs").glob("*.md"), REPO / "README.md", *(REPO / "dags").rglob("*.py")]
    named = {(name, path.relative_to(REPO).as_posix()) for path in texts for name in NAME_RE.findall(path.read_text())}
    known = provider_classes() | AIRFLOW_CLASSES
    assert sorted(pair for pair in named if pair[0] not in known) == []
