"""Unit tests of ``airflow_provider_meetings/cli/``."""
