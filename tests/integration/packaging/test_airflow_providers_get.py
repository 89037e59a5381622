"""What ``airflow providers get`` shows of the installed package (real Airflow, own process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

from airflow_provider_meetings import __version__

pytestmark = pytest.mark.integration


def test_airflow_shows_version_and_documentation_url() -> None:
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run(
        [str(airflow), "providers", "get", "airflow-provider-meetings", "--full", "-o", "json"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    (output,) = [line for line in done.stdout.splitlines() if line.startswith("[{")]  # past any log lines
    (info,) = json.loads(output)
    # "Label, URL"; the space after the comma differs between build backends' metadata versions.
    entries = distribution("airflow-provider-meetings").metadata.get_all("Project-URL")
    urls = {label.strip(): url.strip() for label, url in (entry.split(",", 1) for entry in entries)}
    # Airflow 3.2 splits "Label, URL" at the comma and keeps the space (shown, harmless).
    assert info["documentation-url"].strip() == urls["Documentation"]
    assert info["versions"] == [__version__]
    assert info["package-name"] == "airflow-provider-meetings"
