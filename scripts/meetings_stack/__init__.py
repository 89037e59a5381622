"""A real Airflow deployment on this machine, for trying the provider and for the e2e tests.

``make stack`` (``scripts/stack.py up``) starts, each as a background process with its log
under the state folder (default ``.stack/``):

- PostgreSQL (Debian's package): a throwaway cluster, the metadata database;
- Redis (Debian's package): Celery's broker, only with ``EXECUTOR=celery``, and (database 1)
  the connection's shared rate budget;
- the meetings emulator (``meetings-emulator``), its meetings kept in a state file;
- Airflow's ``api-server`` (UI and REST API), ``scheduler``, ``dag-processor`` and
  ``triggerer``, plus two ``celery worker`` processes with ``EXECUTOR=celery``.

Modules, one job each:

- :mod:`meetings_stack.config`: ports, folders and settings (from the environment);
- :mod:`meetings_stack.processes`: start, find and stop background processes;
- :mod:`meetings_stack.services`: PostgreSQL, Redis and the emulator;
- :mod:`meetings_stack.airflow_components`: Airflow's environment and its components;
- :mod:`meetings_stack.airflow_api`: a small client of Airflow's REST API v2 (also used by
  the e2e tests);
- :mod:`meetings_stack.cli`: ``up``, ``down``, ``status``.
"""
