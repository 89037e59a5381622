"""Unit tests of ``airflow_provider_meetings/artifacts/``."""
