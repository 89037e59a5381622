"""Apache Airflow provider for Microsoft Teams online meetings (Graph ``onlineMeetings/createOrGet``).

Importing this package is deliberately cheap: Airflow parses DAG files over and over,
so msal, requests and the emulator load only when a task or test uses them.
"""

from airflow_provider_meetings.version_check import require_supported_airflow

#: The one place the version is written: the build (hatch, ``[tool.hatch.version]``), the
#: provider metadata Airflow reads and the HTTP User-Agent take it from here.
__version__ = "0.1.0"

# Airflow older than the supported floor fails here, with the version it needs, instead of
# with an ImportError of some airflow.sdk name deep inside the hook.
require_supported_airflow()
