"""Apache Airflow provider for Microsoft Teams online meetings (Graph ``onlineMeetings/createOrGet``).

Importing this package is deliberately cheap: Airflow parses DAG files over and over,
so msal, requests and the emulator load only when a task or test uses them.
"""

__version__ = "0.1.0"
