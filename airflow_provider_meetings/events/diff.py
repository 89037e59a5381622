"""What an existing event lacks compared with what was asked: a normalized subset, pure.

Graph answers with an HTML body holding the Teams block, UTC times with 7 fraction digits,
recurrence defaults and attendee status (GRAPH_FACTS, "Refinements"), so whole objects are
never compared. The subset: the start and end instants, the subject, the attendees'
addresses (without case) and types, the location's name, the options given
(:mod:`~airflow_provider_meetings.events.options`: ``allowNewTimeProposals``, ``showAs``...);
the body only through the hash of the body last sent (a PATCH of ``body`` drops the Teams
block Graph added, and with it the link, so it is sent only when it changed).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_meetings.events.options import changed_options
from airflow_provider_meetings.events.request import (
    BODY_HASH_PROPERTY,
    PreparedEvent,
    body_hash,
    extended_property,
    utc_instant,
)

_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")


def _attendee_set(attendees: Any) -> set[tuple[str, str]]:
    result = set()
    for item in attendees or ():
        if not isinstance(item, Mapping):
            continue
        address = ((item.get("emailAddress") or {}).get("address") or "").lower()
        result.add((address, str(item.get("type") or "required")))
    return result


def _location_name(location: Any) -> str:
    return str((location or {}).get("displayName") or "") if isinstance(location, Mapping) else ""


def _plain(text: str) -> str:
    return _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub(" ", text))).strip()


def body_changed(prepared_body: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether the event's body differs from the one asked for.

    The hash the provider stored when it last sent a body decides; an event without one
    (made elsewhere) counts as changed only when its text does not contain the asked text.
    """
    stored = extended_property(event, BODY_HASH_PROPERTY)
    if stored is not None:
        return stored != body_hash(prepared_body)
    existing = (event.get("body") or {}).get("content") or ""
    return _plain(prepared_body.get("content", "")) not in _plain(str(existing))


def changed_fields(prepared: PreparedEvent, event: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body that brings ``event`` in step with ``prepared`` (``{}`` when nothing differs).

    A new start or end sends both; new attendees the full list; a new body its hash too.
    """
    wanted = prepared.fields
    patch: dict[str, Any] = {}
    if utc_instant(event.get("start")) != prepared.times.start or utc_instant(event.get("end")) != prepared.times.end:
        patch["start"], patch["end"] = wanted["start"], wanted["end"]
    if event.get("subject") != wanted["subject"]:
        patch["subject"] = wanted["subject"]
    if _attendee_set(event.get("attendees")) != _attendee_set(wanted["attendees"]):
        patch["attendees"] = wanted["attendees"]
    if "location" in wanted and _location_name(event.get("location")) != _location_name(wanted["location"]):
        patch["location"] = wanted["location"]
    if "body" in wanted and body_changed(wanted["body"], event):
        patch["body"] = wanted["body"]
        patch["singleValueExtendedProperties"] = [{"id": BODY_HASH_PROPERTY, "value": body_hash(wanted["body"])}]
    patch.update(changed_options(wanted, event))
    return patch
