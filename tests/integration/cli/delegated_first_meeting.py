"""The first delegated DAG of docs/connection.md (quoted there), run by ``test_login.py`` after ``login``."""

# [START delegated_first_dag]
from airflow.sdk import DAG

from airflow_provider_meetings.operators.online_meetings import CreateOrGetOnlineMeetingOperator

with DAG(dag_id="my_first_delegated_meeting", schedule=None) as dag:
    CreateOrGetOnlineMeetingOperator(
        task_id="meeting",
        conn_id="msgraph_meetings_delegated",
        external_id="{{ dag.dag_id }}-{{ ds }}",
        subject="Planning {{ ds }}",
    )
# [END delegated_first_dag]
