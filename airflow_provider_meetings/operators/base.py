"""What the provider's tasks share: the hook of ``conn_id``, the template an invalid argument
was rendered from, the options and progress line of a bulk call, and the base of the artifacts
tasks (the meeting they name).

Importing this module loads neither msal nor requests, nor the hook module: the artifacts
sensor and operator import it, and a DAG file that uses them pays for no resource (the hook
is imported when a task first uses it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_meetings.artifact_args import ARTIFACTS, REFERENCE_KEYS, check_artifacts, meeting_reference
from airflow_provider_meetings.operators.task_outcome import template_hint

if TYPE_CHECKING:
    import logging

    from airflow_provider_meetings.graph.batch import BulkProgress
    from airflow_provider_meetings.graph.errors import ProviderError
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

__all__ = ["BulkOptions", "MeetingArtifactsTask", "ProviderOperator", "bulk_items"]


class ProviderOperator(BaseOperator):
    """An operator on a ``msgraph_meetings`` connection: its hook, and the template an invalid
    argument was rendered from in the task's error.

    :param conn_id: id of a ``msgraph_meetings`` connection
    :param unrendered: templated arguments as given, before rendering: an error about one of
        them shows its template
    """

    # A templated value ending in ".json" is a value, not the name of a file to read.
    template_ext: Sequence[str] = ()

    def __init__(self, *, conn_id: str, unrendered: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.unrendered = dict(unrendered or {})

    @property
    def max_single_wait(self) -> float | None:
        """Seconds: a longer pause Graph asks for ends a call of the hook at once (the hook's
        ``max_single_wait``); ``None``: every pause within the connection's bound is slept."""
        return None

    @cached_property
    def hook(self) -> OnlineMeetingsHook:
        """The hook of ``conn_id`` (with :attr:`max_single_wait`)."""
        # Imported here: the artifacts operator's module must not import the hook's.
        from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

        return OnlineMeetingsHook(conn_id=self.conn_id, max_single_wait=self.max_single_wait)

    def _show_template(self, error: ProviderError) -> str:
        """The template an invalid argument was rendered from, for the task's error message."""
        for field, template in self.unrendered.items():
            hint = template_hint(error, field, template, getattr(self, field, None))
            if hint:
                return hint
        return ""


def bulk_items(value: Any, *, field: str, noun: str) -> Sequence[Any]:
    """The items of a bulk operator: a list (rendered, or an XCom), not text or one mapping.

    :param value: the rendered argument
    :param field: the argument's name, for the error: ``meetings``, ``events``
    :param noun: what an item is, for the error: ``meeting``, ``event``
    :raises AirflowFailException: not a list (no task retries: a retry renders the same)
    """
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise AirflowFailException(
            f"{field} must be a list of {noun} mappings (or an XCom of one), got {type(value).__name__}"
        )
    return value


class BulkOptions:
    """The options a bulk operator passes to the hook's bulk call, and its progress log line.

    A mixin of the bulk operators, as their last base (their operator base stays first).
    """

    log: logging.Logger
    user_id: str | None
    update_existing: bool
    max_concurrency: int | None
    progress_interval: float

    def _with_default_organizer(self, item: Any) -> Any:
        """A mapping item with the operator's ``user_id`` where it names no organizer (an
        empty one included: a template rendered to ``""``); other items as given, for the
        hook to report with their position."""
        if isinstance(item, Mapping) and self.user_id and not item.get("user_id"):
            return {**item, "user_id": self.user_id}
        return item

    def _bulk_options(self) -> dict[str, Any]:
        """The hook's keyword arguments of a bulk call: progress logged every ``progress_interval``."""
        return {
            "update_existing": self.update_existing,
            "max_concurrency": self.max_concurrency,
            "progress": self._log_progress,
            "progress_interval": self.progress_interval,
        }

    def _log_progress(self, progress: BulkProgress) -> None:
        # What happened (batches sent, the most in flight at once) beside what was allowed.
        self.log.info(
            "%s: %d/%d done (%.1f/s), %d ok, %d failed, %d retries, %d throttled (429); "
            "%d batch(es) sent, at most %d in flight (allowed %d%s)",
            progress.operation,
            progress.done,
            progress.total,
            progress.rate,
            progress.succeeded,
            progress.failed,
            progress.retries,
            progress.throttled,
            progress.batches,
            progress.peak_in_flight,
            progress.max_concurrency,
            f", now {progress.concurrency} and paced at {progress.paced_rate:.1f}/s"
            if progress.paced_rate
            else (f", now {progress.concurrency}" if progress.concurrency != progress.max_concurrency else ""),
        )


class MeetingArtifactsTask(ProviderOperator):
    """A task on what one meeting left behind: the meeting it names, which artifacts, and the
    hook of ``conn_id``. The base of the artifacts sensor and the fetch operator, as Airflow's
    ``BaseSQLOperator`` is of its SQL operators: a BaseOperator, so ``default_args`` fill its
    keywords too.

    The meeting is named by exactly one of ``meeting_id``, ``join_url`` or ``external_id``,
    checked when the task runs (after rendering); see docs/artifacts.md, "Naming the meeting".

    :param meeting_id: the online meeting's id (templated)
    :param join_url: the meeting's join URL (templated)
    :param external_id: the external id of the calendar event that holds the meeting
        (templated); a createOrGet meeting: pass its id or join URL from the creating task's XCom
    :param user_id: the organizer, Entra object id or UPN (templated); default: the
        connection's ``default_user_id`` (``/me`` with a delegated connection)
    :param not_before: only what the sessions that started at or after this time left
        (templated; an aware datetime or ISO-8601 text with an offset, e.g.
        ``"{{ (dag_run.data_interval_end or dag_run.run_after) - macros.timedelta(minutes=30) }}"``):
        a recurring meeting's sessions share one join URL, and its earlier sessions' reports
        and files stay there; empty: every session's. Without ``before``, later sessions count
        too (docs/artifacts.md, "Sessions of a series")
    :param before: the same kind of value (templated): only what the sessions that started
        earlier left, e.g. the next session's ``not_before``; with ``not_before``, a backfilled
        or cleared run sees its own session only
    :param artifacts: which of ``attendance``, ``transcript``, ``recording`` (checked when
        the DAG file is parsed)
    :param conn_id: the Airflow connection of the Graph app
    """

    template_fields: Sequence[str] = REFERENCE_KEYS

    def __init__(
        self,
        *,
        meeting_id: str | None = None,
        join_url: str | None = None,
        external_id: str | None = None,
        user_id: str | None = None,
        not_before: Any = None,
        before: Any = None,
        artifacts: Sequence[str] = ARTIFACTS,
        conn_id: str = "msgraph_meetings_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, **kwargs)
        self.meeting_id = meeting_id
        self.join_url = join_url
        self.external_id = external_id
        self.user_id = user_id
        self.not_before = not_before
        self.before = before
        self.artifacts = check_artifacts(artifacts)

    def _reference(self) -> dict[str, str]:
        """The rendered identifiers, checked (a bad combination fails without retries)."""
        try:
            return meeting_reference(**{key: getattr(self, key) for key in REFERENCE_KEYS})
        except ValueError as err:
            raise AirflowFailException(str(err)) from err
