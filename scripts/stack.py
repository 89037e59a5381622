#!/usr/bin/env python
"""``make stack`` / ``make stack-down``: a real Airflow deployment on this machine.

PostgreSQL, Redis (with ``EXECUTOR=celery``), the meetings emulator, and Airflow's
api-server, scheduler, dag-processor, triggerer (and two Celery workers), with the sample
DAGs, the pool ``teams_meetings`` and the connection ``msgraph_meetings_default`` set up.
See ``scripts/meetings_stack/`` and docs/tutorial.md ("A real deployment: make stack").

    python scripts/stack.py up [--executor local|celery]
    python scripts/stack.py status
    python scripts/stack.py down [--wipe]
"""

import sys

from meetings_stack.cli import main

if __name__ == "__main__":
    sys.exit(main())
