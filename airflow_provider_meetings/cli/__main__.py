"""``python -m airflow_provider_meetings.cli``: the same as the ``airflow-provider-meetings`` command."""

import sys

from airflow_provider_meetings.cli import main

sys.exit(main())
