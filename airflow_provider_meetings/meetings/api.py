"""The onlineMeetings resource on the Graph REST client: createOrGet, sync, cancel, bulk.

What the hook delegates to. Single calls and bulk calls share their rules:
:func:`prepare_meeting` validates (the connection's cloud, API version and organizer),
:class:`~airflow_provider_meetings.meetings.organizers.OrganizerDirectory` resolves
organizers given by UPN, and
:func:`~airflow_provider_meetings.meetings.diff.after_create_or_get` decides what follows a
createOrGet answer (a ``PATCH``, a ``DELETE`` or nothing); bulk calls plan their items with
:class:`~airflow_provider_meetings.meetings.bulk.BulkPlan` and send through the ``$batch``
engine of the client.

Importing this module loads neither msal nor requests: the client is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from airflow_provider_meetings.graph.batch import BulkProgress
from airflow_provider_meetings.graph.errors import ConnectionConfigError, GraphAPIError, is_not_found
from airflow_provider_meetings.graph.settings import ConnectionSettings
from airflow_provider_meetings.meetings.availability import has_create_or_get
from airflow_provider_meetings.meetings.bulk import BulkPlan
from airflow_provider_meetings.meetings.diff import after_create_or_get, delete_request
from airflow_provider_meetings.meetings.organizers import OrganizerDirectory
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest, prepare_request
from airflow_provider_meetings.meetings.results import UPDATED, BulkItemResult, MeetingResult, SyncResult

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient


def prepare_meeting(spec: MeetingSpec, settings: ConnectionSettings) -> PreparedRequest:
    """Validate a meeting against the connection (cloud, API version, organizer), sending nothing.

    :param spec: the meeting as given
    :param settings: the connection's settings
    :raises ConnectionConfigError: when the cloud has no createOrGet
    :raises InvalidRequestError: for bad input, or no organizer with an app-only token
    """
    if not has_create_or_get(settings.cloud):
        raise ConnectionConfigError(
            "cloud", f"onlineMeetings/createOrGet is not available in Graph v1.0 of the {settings.cloud!r} cloud"
        )
    return prepare_request(
        spec,
        default_user_id=settings.default_user_id,
        api_version=settings.api_version,
        delegated=settings.delegated,
    )


class OnlineMeetingsApi:
    """Online meetings of one connection, on its Graph REST client.

    Every method takes requests validated by :func:`prepare_meeting` (or a
    :class:`~airflow_provider_meetings.meetings.bulk.BulkPlan` of them): bad input is
    refused before a client exists.

    :param client: the connection's client
    :param organizers: object ids of organizers given by UPN (kept by the hook across clients)
    """

    def __init__(self, client: GraphRestClient, organizers: OrganizerDirectory) -> None:
        self.client = client
        self.organizers = organizers

    # -- single calls --------------------------------------------------------------------------

    def create_or_get(self, prepared: PreparedRequest) -> MeetingResult:
        """createOrGet one meeting, its organizer resolved to an object id."""
        resolved = self.organizers.resolve(prepared, self.client)
        return replace(self._create_or_get(resolved), user_id=resolved.user_id, given_user_id=prepared.user_id)

    def sync(self, prepared: PreparedRequest) -> SyncResult:
        """createOrGet, then one PATCH of what differs from ``prepared`` (none when nothing does).

        A new start or end sends both, new attendees the full list; what ``prepared`` leaves
        out is left as the meeting has it. The meeting keeps its id and join URL. The
        organizer cannot change: a ``participants.organizer`` naming someone else raises
        :class:`~airflow_provider_meetings.meetings.diff.OrganizerMismatchError`.
        """
        resolved = self.organizers.resolve(prepared, self.client)
        found = self._create_or_get(resolved)
        step = after_create_or_get(resolved, found.meeting, created=found.created)
        if step.request is None:
            result = SyncResult(found.meeting, created=found.created, status=step.outcome or UPDATED)
        else:
            answer = self.client.patch(
                step.request.path,
                step.request.body,
                what=f"PATCH external_id={prepared.external_id} ({', '.join(step.changes)})",
                user_id=resolved.user_id,
            )
            result = SyncResult(answer.json_object("onlineMeeting"), created=False, status=UPDATED)
        return replace(result, user_id=resolved.user_id, given_user_id=prepared.user_id)

    def cancel(self, prepared: PreparedRequest) -> bool:
        """Delete the meeting of ``prepared``; ``True`` if there was one, ``False`` if not.

        Graph has no lookup by ``externalId``: createOrGet finds the meeting (and creates one
        when there is none, deleted at once, so a retried cancel never leaves one behind), then
        ``DELETE`` removes it. A 404 to the DELETE means the meeting is gone already (e.g. a
        retried DELETE whose first answer was lost).

        ``DELETE`` removes the onlineMeeting object
        (https://learn.microsoft.com/graph/api/onlinemeeting-delete); users report that its
        join link may keep working (microsoft-graph-docs#7802, microsoft-graph-docs-contrib#416),
        and what createOrGet returns for a deleted ``externalId`` is undocumented (the
        emulator assumes a new meeting). Book a cancelled event again under a new external
        id (e.g. a ``-r2`` suffix); see ``docs/operators.md``.
        """
        resolved = self.organizers.resolve(prepared, self.client)
        found = self._create_or_get(resolved)
        step = after_create_or_get(resolved, found.meeting, created=found.created, cancel=True)
        assert step.request is not None  # a cancel always deletes
        self._delete(step.request)
        return not found.created

    def delete(self, prepared: PreparedRequest, meeting_id: str) -> bool:
        """``DELETE`` the meeting ``meeting_id`` below the organizer path of ``prepared``.

        :return: ``True`` when it was deleted, ``False`` when Graph answered 404 (gone already)
        """
        resolved = self.organizers.resolve(prepared, self.client)
        return self._delete(delete_request(resolved, meeting_id))

    def _create_or_get(self, resolved: PreparedRequest) -> MeetingResult:
        answer = self.client.post(
            resolved.path,
            resolved.body,
            what=f"createOrGet external_id={resolved.external_id}",
            user_id=resolved.user_id,
        )
        return MeetingResult(meeting=answer.json_object("onlineMeeting"), created=answer.status == 201)

    def _delete(self, delete: PreparedRequest) -> bool:
        try:
            self.client.delete(delete.path, what=f"DELETE external_id={delete.external_id}", user_id=delete.user_id)
        except GraphAPIError as error:
            if not is_not_found(error):  # gone already: what a DELETE wants
                raise
            return False
        return True

    # -- bulk ----------------------------------------------------------------------------------

    def create_update_or_delete_many(
        self,
        plan: BulkPlan,
        *,
        max_concurrency: int,
        progress: Callable[[BulkProgress], None] | None,
        progress_interval: float,
    ) -> list[BulkItemResult]:
        """Send a planned bulk call: organizer lookups, createOrGet of every item, then the
        PATCHes and DELETEs that follow, each step in ``$batch`` requests.

        Organizers given by user principal name are looked up first, each distinct one once
        (known ones not at all); an item whose organizer could not be resolved fails with
        :class:`~airflow_provider_meetings.meetings.organizers.OrganizerLookupError` and is not sent.
        The rest go out in batches of up to 20 with at most ``max_concurrency`` batches in
        flight, on one token and one connection pool. Each item is retried by the same rules
        as a single call (429s within the waiting budget, failures within ``max_retries``);
        when 429s show a rate limit, sending slows to the rate Graph accepts. Permanent
        errors (400/403/404) are final for their item. When no token can be had, or Graph
        asks for a pause longer than ``max_retry_wait``, the call stops and every item not
        done fails with that (transient) error; the done ones keep their result. Existing
        meetings are compared (``update_existing``) and cancelled ones deleted by
        :func:`~airflow_provider_meetings.meetings.diff.after_create_or_get`, as single calls do.

        :param plan: the call's items, validated
        :param max_concurrency: batches in flight at most
        :param progress: called with a :class:`~airflow_provider_meetings.graph.batch.BulkProgress`
        :param progress_interval: seconds between progress calls
        :return: one result per item, in input order
        """
        failures = self.organizers.resolve_many(plan.upns, self.client, max_concurrency=max_concurrency)
        create_or_get = self.client.bulk_engine(
            max_concurrency=max_concurrency,
            operation="createOrGet",
            keep_fields=plan.first_fields,
            progress=progress,
            progress_interval=progress_interval,
        )
        first, refused = plan.first_step(self.organizers, failures)
        requests = plan.second_step(create_or_get.run(first, refused=refused))
        second = []
        if requests:
            follow_up = self.client.bulk_engine(
                max_concurrency=max_concurrency,
                operation="/".join(sorted({request.method for request in requests}, reverse=True)),
                keep_fields=plan.meeting_fields,
                progress=progress,
                progress_interval=progress_interval,
            )
            second = follow_up.run(requests)
        return plan.results(second)
