import pendulum
from airflow.sdk import DAG

from airflow_provider_meetings.operators.online_meetings import CreateOrGetOnlineMeetingOperator

with DAG(
    "standup",
    schedule="0 9 * * MON-FRI",
    start_date=pendulum.datetime(2030, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    CreateOrGetOnlineMeetingOperator(
        task_id="create_meeting",
        external_id="{{ dag.dag_id }}-{{ ds }}",
        subject="Daily stand-up {{ ds }}",
        start_date_time="{{ data_interval_end }}",
        end_date_time="{{ data_interval_end.add(minutes=15) }}",
        participants={"attendees": [{"upn": "alexw@contoso.example"}]},
    )
