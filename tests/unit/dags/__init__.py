"""Unit tests of the sample DAGs in ``dags/`` and of ``scripts/demo.py``."""
