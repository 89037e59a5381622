"""Plain helpers of the sample DAGs: no Airflow imports, no I/O at import time.

Kept out of DAG parsing by ``dags/.airflowignore``; the DAG files import them because
Airflow puts the DAGs folder on ``sys.path``. Unit tests: ``tests/unit/dags/``.
"""
