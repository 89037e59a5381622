"""Unit tests of ``airflow_provider_meetings/graph/``."""
