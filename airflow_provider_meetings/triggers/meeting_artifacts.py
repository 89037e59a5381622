"""The trigger of :class:`~airflow_provider_meetings.sensors.meeting_artifacts.TeamsMeetingArtifactsSensor`:
it asks Graph, from the triggerer, whether a meeting has ended and left the requested artifacts.

The hook is blocking (``requests``, MSAL): each check runs in a worker thread
(``asyncio.to_thread``) so that the triggerer's event loop, which serves every trigger of
the deployment, never waits on the network (GRAPH_FACTS "Triggers"; Airflow's triggerer
bridges SDK calls made from a thread, such as the connection lookup, back to its loop:
``TriggerCommsDecoder.send`` in ``airflow/jobs/triggerer_job_runner.py``).

The trigger's kwargs are stored in the metadata database: they hold only the connection
id, the meeting's identifiers (and ``not_before``, ``before``), the artifacts and the poke interval,
never a token. The
hook reads the connection (and gets its token) in the triggerer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_meetings.artifact_args import check_artifacts, describe_reference, meeting_reference
from airflow_provider_meetings.deferral import asked_wait
from airflow_provider_meetings.graph.errors import ProviderError, is_permanent

if TYPE_CHECKING:
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

#: ``TriggerEvent`` payload ``status``: every requested artifact is there.
READY = "ready"
#: ``TriggerEvent`` payload ``status``: a permanent error (permission, standalone meeting ...).
ERROR = "error"
#: Seconds: the longest pause Graph asks for that a check sleeps in its thread; a longer
#: one ends the check and the trigger waits it out on the event loop instead.
MAX_THREAD_WAIT = 30.0


class TeamsMeetingArtifactsTrigger(BaseTrigger):
    """Poll a meeting's artifacts until the meeting has ended and the requested ones exist.

    Fires one event: ``{"status": "ready", "artifacts": <the hook's status dict>}``, or
    ``{"status": "error", "error_type": ..., "message": ...}`` on a permanent error.
    Transient errors (throttling, outages) are logged and the next poke tries again.

    :param conn_id: the Airflow connection of the Graph app
    :param reference: the meeting, as
        :func:`~airflow_provider_meetings.artifact_args.meeting_reference` names it: exactly one
        of ``meeting_id``, ``join_url``, ``external_id`` (a calendar event's), ``user_id``
        (the organizer; left out: the connection's ``default_user_id`` or ``/me``) and
        ``not_before``, ``before`` (ISO-8601 text; left out: that side of the sessions' window is open)
    :param artifacts: which of ``attendance``, ``transcript``, ``recording`` must exist
    :param poke_interval: seconds between two checks
    """

    def __init__(
        self,
        *,
        conn_id: str,
        reference: Mapping[str, str],
        artifacts: list[str] | tuple[str, ...] = ("attendance",),
        poke_interval: float = 60.0,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.reference = meeting_reference(**reference)
        self.artifacts = check_artifacts(artifacts)
        self.poke_interval = float(poke_interval)
        self._hook: OnlineMeetingsHook | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and kwargs (stored in the metadata database: identifiers only, no secret)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "reference": dict(self.reference),
                "artifacts": list(self.artifacts),
                "poke_interval": self.poke_interval,
            },
        )

    def _check(self) -> dict[str, Any]:
        """One status check (blocking: runs in a worker thread)."""
        if self._hook is None:
            from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

            self._hook = OnlineMeetingsHook(conn_id=self.conn_id, max_single_wait=MAX_THREAD_WAIT)
        return self._hook.meeting_artifacts_status(**self.reference, artifacts=self.artifacts)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Check, then sleep ``poke_interval`` (or the pause Graph asked for), until ready or a permanent error."""
        what = describe_reference(self.reference)
        try:
            while True:
                pause = self.poke_interval
                try:
                    status = await asyncio.to_thread(self._check)
                except ProviderError as err:
                    if is_permanent(err):
                        self.log.error("Checking the artifacts of %s failed: %s", what, err)
                        yield TriggerEvent({"status": ERROR, "error_type": type(err).__name__, "message": str(err)})
                        return
                    pause = max(pause, asked_wait(err) or 0.0)
                    self.log.warning("Checking the artifacts of %s failed, trying again in %.0fs: %s", what, pause, err)
                else:
                    if status.get("ready"):
                        self.log.info("Artifacts %s of %s are ready: %s", list(self.artifacts), what, status)
                        yield TriggerEvent({"status": READY, "artifacts": status})
                        return
                    self.log.info("Artifacts %s of %s not ready yet: %s", list(self.artifacts), what, status)
                await asyncio.sleep(pause)
        finally:
            if self._hook is not None:
                self._hook.close()
                self._hook = None
