"""Operators that create or reuse Microsoft Teams online meetings.

Importing this module loads neither msal nor requests: the hook imports them when a task
runs, not when a DAG file is parsed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_meetings.deferral import (
    DEFAULT_DEFER_AFTER,
    DEFAULT_MAX_DEFERRALS,
    XCOM_DEFERRAL,
    DeferralState,
    asked_wait,
    check_defer_after,
    check_max_deferrals,
    merge_results,
    resume_at,
)
from airflow_provider_meetings.graph.errors import InvalidRequestError, ProviderError
from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook
from airflow_provider_meetings.links.online_meetings import JoinTeamsMeetingLink
from airflow_provider_meetings.meetings.results import (
    CANCELLED,
    CREATED,
    EXISTING,
    NOT_FOUND,
    BulkItemResult,
    MeetingResult,
    MeetingStatus,
    SyncResult,
)
from airflow_provider_meetings.operators.base import BulkOptions, ProviderOperator, bulk_items
from airflow_provider_meetings.operators.task_outcome import fail_permanent_errors, finish_bulk, template_hint

try:  # Airflow's own providers read [operators] default_deferrable through the task SDK's conf
    from airflow.sdk.configuration import conf
except ImportError:  # task SDK 1.2 (Airflow 3.2) has no airflow.sdk.configuration
    from airflow.configuration import conf

if TYPE_CHECKING:
    from airflow.sdk import Context

#: XCom key telling whether the meeting was created (``True``) or already existed.
XCOM_CREATED = "created"
#: XCom key with what the task did about the meeting: ``created``, ``existing``, ``updated``,
#: ``unchanged`` (create-or-get operator), ``cancelled`` or ``not_found`` (delete operator).
XCOM_STATUS = "status"
#: XCom key of the organizer: ``{"user_id": <object id>, "given_user_id": <as given>}``
#: (both ``None`` for ``/me``); they differ when the organizer was given by UPN.
XCOM_ORGANIZER = "organizer"


_VERBS = {"created": "Created", "existing": "Reused existing", "updated": "Updated", "unchanged": "Unchanged"}


def status_of(result: MeetingResult) -> MeetingStatus:
    """What the call did: a sync's ``status``, else ``created`` or ``existing``."""
    if isinstance(result, SyncResult):
        return result.status
    return CREATED if result.created else EXISTING


def describe_result(result: MeetingResult, external_id: str) -> str:
    """One log line about a created, reused, updated or unchanged meeting, with the
    organizer's object id and, when it was given by UPN, what was given."""
    meeting = result.meeting
    organizer = (meeting.get("participants") or {}).get("organizer") or {}
    user = (organizer.get("identity") or {}).get("user") or {}
    who = user.get("displayName") or user.get("id") or organizer.get("upn") or "unknown"
    if result.user_id:
        who += f" (user_id={result.user_id}"
        if result.given_user_id and result.given_user_id != result.user_id:
            who += f", given as {result.given_user_id}"
        who += ")"
    verb = _VERBS[status_of(result)]
    return (
        f"{verb} Teams meeting id={meeting.get('id')} join_url={meeting.get('joinWebUrl')} "
        f"external_id={external_id} organizer={who}"
    )


class _DeferrableMeetingsOperator(ProviderOperator):
    """What the three operators share: deferral on long waits.

    With ``deferrable=True`` the hook sleeps through a wait before a retry only up to
    ``defer_after`` seconds, whatever set it (a ``Retry-After``, the backoff after a 5xx or a
    dropped connection, on any retry); a longer one ends the call at once
    (:class:`~airflow_provider_meetings.graph.errors.RetriesExhaustedError` with
    ``asked_wait``), and the task defers to the triggerer with Airflow's ``DateTimeTrigger``
    until then, then resumes in :meth:`execute_complete` (see :mod:`~airflow_provider_meetings.deferral`).
    """

    def __init__(
        self,
        *,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        defer_after: float = DEFAULT_DEFER_AFTER,
        max_deferrals: int = DEFAULT_MAX_DEFERRALS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.defer_after = check_defer_after(defer_after)
        self.max_deferrals = check_max_deferrals(max_deferrals)

    @property
    def max_single_wait(self) -> float | None:
        """A deferrable task's hook sleeps at most ``defer_after`` seconds at a time."""
        return self.defer_after if self.deferrable else None

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after a deferral: the work goes on from the state the task kept."""
        state = self._deferral_state(context)
        self.log.info("Resuming after deferral %d of at most %d", state.deferrals, self.max_deferrals)
        return self._run(context, state)

    def execute(self, context: Context) -> Any:
        return self._run(context, DeferralState())

    def _run(self, context: Context, state: DeferralState) -> Any:
        raise NotImplementedError

    @staticmethod
    def _deferral_state(context: Context) -> DeferralState:
        ti = context["ti"]
        return DeferralState.from_json(ti.xcom_pull(task_ids=ti.task_id, key=XCOM_DEFERRAL, map_indexes=ti.map_index))

    def _may_defer(self, state: DeferralState, wait: float | None) -> bool:
        """Whether to defer for ``wait`` (``None``: Graph asked for no long pause)."""
        if wait is None or not self.deferrable:
            return False
        if state.deferrals >= self.max_deferrals:
            self.log.warning(
                "The next wait is %.1fs, but the task deferred %d time(s) already (max_deferrals=%d): not deferring again",
                wait,
                state.deferrals,
                self.max_deferrals,
            )
            return False
        return True

    def _defer_for(self, context: Context, state: DeferralState, wait: float, what: str) -> NoReturn:
        """Keep ``state`` in the task's XCom and defer until ``wait`` seconds from now."""
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        state.deferrals += 1
        context["ti"].xcom_push(key=XCOM_DEFERRAL, value=state.to_json())
        moment = resume_at(wait)
        self.log.info(
            "The next wait is %.1fs (more than defer_after=%gs) %s: deferring to the triggerer until %s "
            "(deferral %d of at most %d)",
            wait,
            self.defer_after,
            what,
            moment.isoformat(),
            state.deferrals,
            self.max_deferrals,
        )
        self.defer(trigger=DateTimeTrigger(moment=moment), method_name="execute_complete")

    def _defer_or_raise(self, context: Context, state: DeferralState, error: ProviderError) -> NoReturn:
        """Defer when ``error`` asked for a long pause (and the task may defer), else fail with it."""
        wait = asked_wait(error)
        if self._may_defer(state, wait):
            assert wait is not None
            self._defer_for(context, state, wait, "before the call can go on")
        if wait is not None and self.deferrable:
            raise AirflowException(
                f"{error}. The task deferred {state.deferrals} time(s) already (max_deferrals={self.max_deferrals}); "
                "a task retry starts over"
            ) from error
        raise error


class CreateOrGetOnlineMeetingOperator(_DeferrableMeetingsOperator):
    """Create a Microsoft Teams meeting, or get the existing one with the same external id.

    Idempotent: a rerun with the same ``external_id`` (and organizer) returns the meeting
    the first run created, as it is. With ``update_existing=True`` the existing meeting is
    brought in step with the arguments instead (one PATCH of what differs, none when
    nothing does; it keeps its id and join URL). The meeting JSON is the task's return
    value; the XCom ``created`` says whether this run created it, the XCom ``status`` what
    it did: ``created``, ``existing`` (without ``update_existing``), ``updated`` or
    ``unchanged``, the XCom ``organizer`` holds the organizer's object id (``user_id``) and
    what was given (``given_user_id``, e.g. a UPN).

    .. seealso::
        ``docs/operators.md``

    :param conn_id: id of a ``msgraph_meetings`` connection (templated)
    :param external_id: the meeting's stable key, e.g. ``"{{ dag.dag_id }}-{{ ds }}"``
        (templated)
    :param user_id: organizer's Entra object id, or user principal name (looked up once,
        needs ``User.Read.All``, delegated ``User.ReadBasic.All``); default: the connection's ``default_user_id``, else ``/me``
        with a delegated connection (templated)
    :param subject: meeting subject (templated)
    :param start_date_time: aware datetime or ISO-8601 string with an offset or ``Z``
        (templated)
    :param end_date_time: same as ``start_date_time``; needs it (templated)
    :param participants: Graph ``meetingParticipants``, e.g.
        ``{"attendees": [{"upn": "alex@contoso.com"}]}`` (templated)
    :param chat_info: Graph ``chatInfo``; used when the meeting is created (templated)
    :param update_existing: sync an existing meeting with these arguments (subject, times,
        attendees) instead of returning it as it is
    :param deferrable: when the next wait before a retry is longer than ``defer_after`` (a
        long ``Retry-After``, or the backoff after failures), defer to the triggerer instead of
        sleeping on the worker (needs a running triggerer); default: ``[operators] default_deferrable``
    :param defer_after: seconds; a longer wait before a retry defers the task (with
        ``deferrable=True``); shorter ones are slept as usual
    :param max_deferrals: how many times one task try may defer; then it fails with the
        (transient) throttling error, and its retries apply
    """

    template_fields: Sequence[str] = (
        "conn_id",
        "external_id",
        "user_id",
        "subject",
        "start_date_time",
        "end_date_time",
        "participants",
        "chat_info",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"participants": "json", "chat_info": "json"}
    ui_color = "#C5CAF3"
    operator_extra_links = (JoinTeamsMeetingLink(),)

    def __init__(
        self,
        *,
        conn_id: str = OnlineMeetingsHook.default_conn_name,
        external_id: str,
        user_id: str | None = None,
        subject: str | None = None,
        start_date_time: Any = None,
        end_date_time: Any = None,
        participants: Mapping[str, Any] | None = None,
        chat_info: Mapping[str, Any] | None = None,
        update_existing: bool = False,
        **kwargs: Any,
    ) -> None:
        # deferrable, defer_after, max_deferrals: _DeferrableMeetingsOperator
        super().__init__(
            conn_id=conn_id, unrendered={"external_id": external_id, "user_id": user_id, "subject": subject}, **kwargs
        )
        self.external_id = external_id
        self.user_id = user_id
        self.subject = subject
        self.start_date_time = start_date_time
        self.end_date_time = end_date_time
        self.participants = participants
        self.chat_info = chat_info
        self.update_existing = update_existing

    def _run(self, context: Context, state: DeferralState) -> dict[str, Any]:
        from airflow_provider_meetings.meetings.request import MeetingSpec

        spec = MeetingSpec(
            external_id=self.external_id,
            user_id=self.user_id or None,
            subject=self.subject,
            start_date_time=self.start_date_time,
            end_date_time=self.end_date_time,
            participants=self.participants,
            chat_info=self.chat_info,
        )
        try:
            with fail_permanent_errors(self._show_template):
                result: MeetingResult = self.hook.sync(spec) if self.update_existing else self.hook.create_or_get(spec)
        except ProviderError as error:  # transient: a long pause may defer the task
            self._defer_or_raise(context, state, error)
        context["ti"].xcom_push(key=XCOM_CREATED, value=result.created)
        context["ti"].xcom_push(key=XCOM_STATUS, value=status_of(result))
        context["ti"].xcom_push(
            key=XCOM_ORGANIZER, value={"user_id": result.user_id, "given_user_id": result.given_user_id}
        )
        self.log.info("%s", describe_result(result, self.external_id))
        return result.meeting


class DeleteOnlineMeetingOperator(_DeferrableMeetingsOperator):
    """Delete (cancel) the Teams meeting with an external id; idempotent.

    Graph has no lookup by external id, so the task finds the meeting with createOrGet and
    deletes it: two requests. When no meeting exists, createOrGet makes one that is deleted
    at once, so a retried or repeated task never leaves a meeting behind.

    ``DELETE`` removes the onlineMeeting object
    (https://learn.microsoft.com/graph/api/onlinemeeting-delete); users report that its join
    link may keep working, and what createOrGet returns afterwards for the same external id
    is undocumented. Book a cancelled event again under a new external id (e.g. a ``-r2``
    suffix).

    The return value (XCom) is ``{"external_id", "user_id", "deleted", "status"}``:
    ``deleted`` is ``True`` when a meeting existed and was deleted, ``False`` when there was
    none; the XCom ``status`` is ``cancelled`` or ``not_found`` accordingly.

    .. seealso::
        ``docs/operators.md``

    :param conn_id: id of a ``msgraph_meetings`` connection
    :param external_id: the meeting's external id (templated)
    :param user_id: organizer's Entra object id; default: the connection's
        ``default_user_id``, else ``/me`` with a delegated connection (templated)
    :param deferrable: when the next wait before a retry is longer than ``defer_after``, defer to the
        triggerer (as :class:`CreateOrGetOnlineMeetingOperator`); a ``DELETE`` that has to
        wait is sent after resuming, for the meeting found before
    :param defer_after: seconds; a longer wait before a retry (``Retry-After`` or backoff) defers the task
    :param max_deferrals: how many times one task try may defer
    """

    template_fields: Sequence[str] = ("conn_id", "external_id", "user_id")
    ui_color = "#F3C5C5"

    def __init__(
        self,
        *,
        conn_id: str = OnlineMeetingsHook.default_conn_name,
        external_id: str,
        user_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, unrendered={"external_id": external_id, "user_id": user_id}, **kwargs)
        self.external_id = external_id
        self.user_id = user_id

    def _run(self, context: Context, state: DeferralState) -> dict[str, Any]:
        if not self.deferrable:
            with fail_permanent_errors(self._show_template):
                deleted = self.hook.cancel_meeting(self.external_id, user_id=self.user_id or None)
        else:
            deleted = self._cancel_in_steps(context, state)
        status = CANCELLED if deleted else NOT_FOUND
        context["ti"].xcom_push(key=XCOM_STATUS, value=status)
        if deleted:
            self.log.info("Deleted the Teams meeting with external_id=%s", self.external_id)
        else:
            self.log.info("No Teams meeting had external_id=%s: nothing to delete", self.external_id)
        return {"external_id": self.external_id, "user_id": self.user_id or None, "deleted": deleted, "status": status}

    def _cancel_in_steps(self, context: Context, state: DeferralState) -> bool:
        """``cancel_meeting`` as two steps whose first one's finding survives a deferral."""
        try:
            with fail_permanent_errors(self._show_template):
                if state.found is None:
                    found = self.hook.create_or_get_meeting(self.external_id, user_id=self.user_id or None)
                    if not found.meeting_id:
                        raise AirflowFailException(
                            f"createOrGet external_id={self.external_id}: the answer had no meeting id"
                        )
                    state.found = {
                        "meeting_id": found.meeting_id,
                        "user_id": found.user_id,
                        "existed": not found.created,
                    }
                self.hook.delete_meeting(self.external_id, state.found["meeting_id"], user_id=state.found["user_id"])
        except ProviderError as error:
            self._defer_or_raise(context, state, error)
        return bool(state.found["existed"])


class BulkCreateOrGetOnlineMeetingsOperator(_DeferrableMeetingsOperator, BulkOptions):
    """Create or get many Teams meetings in one task, with Graph JSON batching.

    Every item is validated first; invalid and repeated items are reported, not sent.
    The others go out in ``$batch`` requests of up to 20, a bounded number at a time,
    slowing down to the rate Graph accepts when it throttles. One failing item does not
    stop the others: the task fails at the end, after every other item is done, naming
    each failed external id and why. When every failure is permanent (400/403/404,
    invalid input) it raises ``AirflowFailException`` so task retries are not spent;
    otherwise a retry of the task re-sends everything, and meetings that exist come
    back unchanged (200), so only the missing ones are created.

    With ``update_existing=True`` every existing meeting is brought in step with its item
    (a second ``$batch`` run PATCHes those that differ); an item with ``"cancelled": True``
    has its meeting deleted (createOrGet finds it, then ``DELETE``).

    The return value (XCom) is a list with one dict per item, in input order:
    ``external_id``, ``user_id`` (the organizer's object id), ``given_user_id`` (the
    organizer as given, e.g. a UPN), ``meeting_id``, ``join_web_url``, ``created``,
    ``status`` (``created``, ``existing``, ``updated``, ``unchanged``, ``cancelled``,
    ``not_found``), ``error``. Organizers given by UPN are looked up first, each once
    (needs ``User.Read.All``, delegated ``User.ReadBasic.All``). On failure the same list is pushed under the XCom key
    ``results``.

    .. seealso::
        ``docs/bulk.md`` (and when to prefer mapped ``CreateOrGetOnlineMeetingOperator``)

    :param meetings: a list of mappings with the keys of
        :class:`CreateOrGetOnlineMeetingOperator` (``external_id``, ``user_id``,
        ``subject``, ``start_date_time``, ``end_date_time``, ``participants``,
        ``chat_info``, and ``cancelled``: ``True`` deletes the item's meeting), or an
        ``XComArg``/template producing one (templated)
    :param external_id_template: Jinja text rendered per item, with the task's context and
        the item as ``item``, e.g. ``"{{ dag.dag_id }}-{{ item.event_key }}"``; it sets
        each item's ``external_id``. With it, item keys that are not meeting fields are
        allowed (they are the data the template reads) and not sent
    :param conn_id: id of a ``msgraph_meetings`` connection (templated)
    :param user_id: organizer (object id or UPN) for items without a ``user_id``; default:
        the connection's ``default_user_id`` (templated)
    :param max_concurrency: ``$batch`` requests in flight at most (1-32); default: the
        connection's ``bulk_concurrency``
    :param progress_interval: seconds between progress log lines
    :param update_existing: sync existing meetings with their items (PATCH what differs)
    :param deferrable: when the next wait before a retry is longer than ``defer_after``, the items done
        keep their results, the task defers to the triggerer, and after resuming only the
        unfinished items are sent; the return value is the same list as without deferral.
        Default: ``[operators] default_deferrable``
    :param defer_after: seconds; a longer wait before a retry (``Retry-After`` or backoff) defers the task
    :param max_deferrals: how many times one task try may defer; then the unfinished items
        fail with the (transient) throttling error
    """

    template_fields: Sequence[str] = ("conn_id", "meetings", "user_id")
    template_fields_renderers: ClassVar[dict[str, str]] = {"meetings": "json"}
    ui_color = "#C5CAF3"

    def __init__(
        self,
        *,
        meetings: Any,
        external_id_template: str | None = None,
        conn_id: str = OnlineMeetingsHook.default_conn_name,
        user_id: str | None = None,
        max_concurrency: int | None = None,
        progress_interval: float = 5.0,
        update_existing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, **kwargs)
        self.meetings = meetings
        # Not a template field: it is rendered per item, with ``item`` in the context.
        self.external_id_template = external_id_template
        self.user_id = user_id
        self.max_concurrency = max_concurrency
        self.progress_interval = progress_interval
        self.update_existing = update_existing

    def _specs(self, items: Sequence[Any], context: Context) -> Iterator[Any]:
        """Each item as a meeting mapping: external id rendered, default organizer filled in."""
        from airflow_provider_meetings.meetings.bulk import CANCELLED_KEY
        from airflow_provider_meetings.meetings.request import MeetingSpec

        template = self.get_template_env().from_string(self.external_id_template) if self.external_id_template else None
        fields = {*MeetingSpec.__dataclass_fields__, CANCELLED_KEY}
        render_context = dict(context)
        for item in items:
            if not isinstance(item, Mapping):
                yield item  # reported as invalid by the hook, with its position
                continue
            spec = dict(item)
            if template is not None:
                render_context["item"] = item
                spec = {k: v for k, v in spec.items() if k in fields}
                # Text even where the DAG renders templates as native objects: NativeEnvironment's
                # concat would turn a key "20260101" into an int (jinja2.nativetypes.native_concat).
                # Template.render's own steps, joined as the default Environment.concat does.
                parts = template.root_render_func(template.new_context(render_context))
                spec["external_id"] = "".join(map(str, parts))  # a native node yields the value itself
            yield self._with_default_organizer(spec)

    def _run(self, context: Context, state: DeferralState) -> list[dict[str, Any]]:
        specs = list(self._specs(bulk_items(self.meetings, field="meetings", noun="meeting"), context))
        if state.results is not None and len(state.results) != len(specs):
            raise AirflowFailException(
                f"meetings has {len(specs)} item(s) after the deferral, {len(state.results)} before: the list "
                "must not change while the task is deferred. Clear the task to start over"
            )
        todo = state.pending(len(specs))
        if state.results is not None:
            self.log.info(
                "%d of %d item(s) were done before the deferral; sending the other %d",
                len(specs) - len(todo),
                len(specs),
                len(todo),
            )
        with fail_permanent_errors():  # connection problems: nothing was sent
            results = self.hook.create_or_get_meetings([specs[index] for index in todo], **self._bulk_options())
        ran = [
            {**self._item_dict(r), "asked_wait": asked_wait(r.error), "first_created": r.first_created} for r in results
        ]
        run = merge_results(state, todo, ran, deferrable=self.deferrable)
        if run.wait is not None and self._may_defer(state, run.wait):
            state.results, state.created_before = run.results, run.created_before
            left = sum(result is None for result in run.results)
            self._defer_for(context, state, run.wait, f"with {left} of {len(run.results)} item(s) not done")
        if run.wait is not None:  # may not defer again: the items not done fail with their error
            run = merge_results(state, todo, ran, deferrable=False)
        return self._finish(context, [result for result in run.results if result is not None])

    def _item_dict(self, result: BulkItemResult) -> dict[str, Any]:
        """An item's result as a dict; an invalid rendered external id shows ``external_id_template``."""
        from airflow_provider_meetings.meetings.bulk import DuplicateMeetingError

        item = result.to_dict()
        error = result.error
        if (
            self.external_id_template
            and isinstance(error, InvalidRequestError)
            and not isinstance(error, DuplicateMeetingError)
        ):
            field = f"meetings[{result.index}].external_id"
            item["error"] += template_hint(
                error, field, self.external_id_template, result.external_id, name="external_id_template"
            )
        return item

    def _finish(self, context: Context, output: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return every item's result, or fail naming the failed ones (the results in the XCom ``results``)."""
        return finish_bulk(self.log, context, output, noun="meeting", field="meetings")
