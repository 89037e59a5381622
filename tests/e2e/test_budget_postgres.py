"""The ``database`` rate budget on PostgreSQL: the backend tests of tests/integration/budget run
against the stack's metadata database (Debian's PostgreSQL, as users run Airflow).

``make test`` runs the same tests on SQLite; these are the ones with the ``postgresql``
backend (``MEETINGS_TEST_POSTGRES_URL``): worker processes sharing one pace and one hold
(one of them on a clock an hour ahead), holds read alike on clocks a day apart, and a worker
killed while it holds batch slots. They run in a pytest of their own, with the stack's
database URL, in the same interpreter.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BACKEND_TESTS = "tests/integration/budget/test_budget_backends.py"


def test_the_database_budget_shares_one_pace_on_postgresql(local_stack) -> None:
    url = local_stack.airflow_env()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert url.startswith("postgresql"), url.split("@")[-1]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", BACKEND_TESTS, "-k", "postgresql"],
        env={**os.environ, "MEETINGS_TEST_POSTGRES_URL": url},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    password = local_stack.secrets()["postgres_password"]
    assert password not in output
    assert result.returncode == 0, output[-6000:]
    summary = re.search(r"(\d+) passed", output)
    # the pace shared by three processes, the hold on two skewed clocks, the killed worker
    assert summary and int(summary.group(1)) == 4 and "skipped" not in output.splitlines()[-1], output[-3000:]
