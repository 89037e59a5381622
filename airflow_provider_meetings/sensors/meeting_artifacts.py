"""A sensor that waits until a Teams meeting has ended and left the artifacts a DAG needs.

Importing this module loads neither msal nor requests: the hook is imported when the
sensor pokes (or in the triggerer), not when a DAG file is parsed.

.. seealso:: docs/artifacts.md
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_provider_meetings.artifact_args import describe_reference
from airflow_provider_meetings.graph.errors import ProviderError
from airflow_provider_meetings.operators.base import MeetingArtifactsTask
from airflow_provider_meetings.operators.task_outcome import fail_permanent_errors

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Default seconds between two checks: reports and recordings take minutes to appear after a meeting.
DEFAULT_POKE_INTERVAL = 300.0
#: Default seconds to wait in all: a day (a meeting can run late, processing takes a while).
DEFAULT_TIMEOUT = 24 * 3600.0


class TeamsMeetingArtifactsSensor(MeetingArtifactsTask, BaseSensorOperator):
    """Wait until a meeting has ended and its requested artifacts exist.

    Done means: for ``attendance`` an attendance report of a session that ended (Graph
    makes one when a session ends; there is no "meeting ended" flag), for ``transcript``
    and ``recording`` at least one of each. The XCom is the status the check saw
    (``meeting_id``, ``ended`` and the count of each artifact), so the next task can name
    the meeting by its id.

    With ``deferrable=True`` (the default) the sensor checks once, then waits in the
    triggerer (:class:`~airflow_provider_meetings.triggers.meeting_artifacts.TeamsMeetingArtifactsTrigger`)
    without holding a worker slot; with ``deferrable=False`` it works in ``mode="poke"`` or
    ``mode="reschedule"`` like any sensor. Permanent errors (a missing permission, a
    standalone meeting asked for its transcript, transcript access off in the tenant) fail
    the task without retries; transient ones are retried at the next poke. After
    ``timeout`` the task fails. With ``soft_fail=True`` it is skipped instead (use that when
    a meeting may have taken place without recording), and, as Airflow's sensors treat
    ``soft_fail``, so is a permanent error, in every mode; the error is logged first.

    :param artifacts: which of ``attendance``, ``transcript``, ``recording`` to wait for
        (default: attendance)
    :param deferrable: wait in the triggerer (needs a running triggerer); ``False``: poke
        in a worker (``mode="poke"`` or ``mode="reschedule"``)
    :param poke_interval: seconds between two checks (default 300)
    :param timeout: seconds to wait in all (default a day)

    The meeting is named by ``meeting_id``, ``join_url`` or ``external_id`` (with ``user_id``
    and ``conn_id``), the keywords of :class:`~airflow_provider_meetings.operators.base.MeetingArtifactsTask`.

    .. seealso:: docs/artifacts.md
    """

    ui_color: ClassVar[str] = "#e8e1f5"

    def __init__(
        self,
        *,
        artifacts: Sequence[str] = ("attendance",),
        deferrable: bool = True,
        poke_interval: float = DEFAULT_POKE_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(artifacts=artifacts, poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.deferrable = deferrable

    @property
    def max_single_wait(self) -> float | None:
        """Deferrable: a long ``Retry-After`` ends the worker's check (not ready yet), and the
        trigger waits it out instead of a worker slot."""
        from airflow_provider_meetings.triggers.meeting_artifacts import MAX_THREAD_WAIT

        return MAX_THREAD_WAIT if self.deferrable else None

    def _status(self, reference: dict[str, str]) -> dict[str, Any] | None:
        """The hook's status of the artifacts; ``None`` after a transient error (checked again later)."""
        with self.hook as hook:  # its connections closed after each check (pokes are minutes apart)
            try:
                with fail_permanent_errors():
                    return hook.meeting_artifacts_status(**reference, artifacts=self.artifacts)
            except ProviderError as err:  # transient: checked again at the next poke
                self.log.warning("Checking the artifacts failed, trying again at the next poke: %s", err)
                return None

    def _fail(self, error: AirflowFailException) -> NoReturn:
        """A permanent error: logged, then skipped with ``soft_fail`` or ``never_fail`` (as
        ``BaseSensorOperator`` does with a failing poke or resume, whose skip message names no
        cause), else failed."""
        for name in ("soft_fail", "never_fail"):
            if getattr(self, name, False):
                self.log.error("Skipping (%s=True) after a permanent error: %s", name, error)
                raise AirflowSkipException(f"Skipping due to {name} is set to True: {error}") from error
        raise error

    def _check(self) -> tuple[dict[str, str], dict[str, Any] | None]:
        """The meeting's reference and its status now (``None``: a transient error)."""
        try:
            reference = self._reference()
            return reference, self._status(reference)
        except AirflowFailException as error:  # a bad reference, or a permanent Graph error
            self._fail(error)

    def poke(self, context: Context) -> PokeReturnValue:
        """One check: done once the meeting has ended and the requested artifacts exist (the
        status is then the task's XCom)."""
        reference, status = self._check()
        if status is None:
            return PokeReturnValue(is_done=False)
        self.log.info("Artifacts of %s: %s", describe_reference(reference), status)
        return PokeReturnValue(is_done=bool(status.get("ready")), xcom_value=status)

    def execute(self, context: Context) -> Any:
        """Poke (or reschedule) as any sensor; deferrable: check once, then wait in the triggerer."""
        if not self.deferrable:
            return super().execute(context)
        reference, status = self._check()
        if status is not None and status.get("ready"):
            self.log.info(
                "Artifacts %s of %s are ready: %s", list(self.artifacts), describe_reference(reference), status
            )
            return status
        from airflow_provider_meetings.triggers.meeting_artifacts import TeamsMeetingArtifactsTrigger

        self.log.info(
            "Artifacts %s of %s not ready (%s): deferring, checking every %ss for at most %ss",
            list(self.artifacts),
            describe_reference(reference),
            status,
            self.poke_interval,
            self.timeout,
        )
        self.defer(
            trigger=TeamsMeetingArtifactsTrigger(
                conn_id=self.conn_id, reference=reference, artifacts=self.artifacts, poke_interval=self.poke_interval
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume from the trigger: the status when ready, else fail with the trigger's error."""
        from airflow_provider_meetings.triggers.meeting_artifacts import READY

        if event and event.get("status") == READY:
            status = dict(event.get("artifacts") or {})
            self.log.info("Artifacts %s are ready: %s", list(self.artifacts), status)
            return status
        error_type = (event or {}).get("error_type", "Error")
        message = (event or {}).get("message", f"unexpected trigger event {event!r}")
        # Permanent errors only reach here (the trigger retries transient ones).
        self._fail(AirflowFailException(f"{error_type}: {message}"))
