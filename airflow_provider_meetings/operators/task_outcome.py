"""How a provider task ends: permanent errors fail it, bulk results are summed up or failed by name.

Shared by the meeting and the calendar-event operators. Importing this module loads neither
msal nor requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_meetings.graph.errors import InvalidRequestError, ProviderError, is_permanent
from airflow_provider_meetings.meetings.results import BulkItemResult, MeetingStatus

if TYPE_CHECKING:
    import logging

    from airflow.sdk import Context

__all__ = ["fail_permanent_errors", "finish_bulk", "summarize", "template_hint"]

#: Failed items named in the exception text; the log names every one.
FAILURES_IN_MESSAGE = 20
#: The outcomes in the order a summary names them.
_OUTCOMES: tuple[MeetingStatus, ...] = ("created", "existing", "updated", "unchanged", "cancelled", "not_found")


@contextmanager
def fail_permanent_errors(explain: Callable[[ProviderError], str] | None = None) -> Iterator[None]:
    """Turn permanent provider errors into ``AirflowFailException`` (no task retries).

    Transient errors (throttling that outlasted the retry bound, outages) pass through
    unchanged so that the task's own retries apply.

    :param explain: what to add to the message of a permanent error (e.g. the template
        an invalid argument was rendered from); ``""`` for nothing
    """
    try:
        yield
    except ProviderError as err:
        if is_permanent(err):
            raise AirflowFailException(f"{type(err).__name__}: {err}{explain(err) if explain else ''}") from err
        raise


def template_hint(error: BaseException, field: str, template: Any, rendered: Any, *, name: str = "the template") -> str:
    """``; rendered from the template '...'`` when ``error`` refused the templated argument
    ``field`` and its template differs from what it rendered to, else ``""``.

    :param name: how the message names the template
    """
    if not isinstance(error, InvalidRequestError) or error.field != field:
        return ""
    if not isinstance(template, str) or template == rendered:
        return ""
    return f"; rendered from {name} {template!r}"


def summarize(results: Sequence[BulkItemResult | Mapping[str, Any]]) -> str:
    """``2 created, 1 updated, 0 failed``: every outcome that occurred, and the failures.

    :param results: results, or their dicts (``BulkItemResult.to_dict``)
    """
    counts = {outcome: 0 for outcome in _OUTCOMES}
    failed = 0
    for result in results:
        outcome = result.get("status") if isinstance(result, Mapping) else result.outcome
        ok = result.get("error") is None if isinstance(result, Mapping) else result.ok
        if outcome in counts:
            counts[outcome] += 1
        elif not ok:
            failed += 1
    named = [f"{n} {outcome.replace('_', ' ')}" for outcome, n in counts.items() if n]
    return ", ".join([*named, f"{failed} failed"])


def _item_name(result: Mapping[str, Any], field: str) -> str:
    return result["external_id"] or f"{field}[{result['index']}]"


def finish_bulk(
    log: logging.Logger, context: Context, output: list[dict[str, Any]], *, noun: str, field: str
) -> list[dict[str, Any]]:
    """Return every item's result, or fail the task naming the failed items.

    On failure every result is also pushed as the XCom ``results`` (the return value is not
    pushed when the task fails), every failed item is logged, and the task fails for good
    (``AirflowFailException``) when every failure is permanent; otherwise its retries apply,
    and a retry creates only what is missing.

    :param log: the task's logger
    :param context: the task's context (for its task instance)
    :param output: the items' results as dicts (``to_dict()``), in the order given
    :param noun: what an item is, for the messages: ``meeting``, ``event``
    :param field: the argument the items came in, for an item without an external id:
        ``meetings`` names the third ``meetings[2]``
    """
    failed = [result for result in output if result["error"] is not None]
    log.info("%d %s(s): %s", len(output), noun, summarize(output))
    if not failed:
        return output
    for result in failed:
        log.error("%s[%d] external_id=%s failed: %s", field, result["index"], result["external_id"], result["error"])
    context["ti"].xcom_push(key="results", value=output)
    named = "; ".join(f"{_item_name(r, field)}: {r['error']}" for r in failed[:FAILURES_IN_MESSAGE])
    more = len(failed) - FAILURES_IN_MESSAGE
    message = (
        f"{len(failed)} of {len(output)} {noun}(s) failed (the other {len(output) - len(failed)} are done): "
        f"{named}" + (f"; and {more} more (see the log)" if more > 0 else "")
    )
    if all(result["permanent"] for result in failed):
        raise AirflowFailException(message)
    raise AirflowException(message + ". Some failures were transient: a retry creates only what is missing.")
