"""What an existing event lacks compared with what was asked: a normalized subset, pure.

Graph answers with an HTML body holding the Teams block, UTC times with 7 fraction digits,
recurrence defaults and attendee status (GRAPH_FACTS, "Refinements"), so whole objects are
never compared. The subset: the start and end instants, the subject, the attendees'
addresses (without case) and types, the location's name, the options given
(:mod:`~airflow_provider_meetings.events.options`: ``allowNewTimeProposals``, ``showAs``...);
the body only through the hash of the body last sent (a PATCH of ``body`` drops the Teams
block Graph added, and with it the link, so it is sent only when it changed, and then with
the event's own Teams block appended: :func:`body_with_teams_block`).
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
from airflow_provider_meetings.events.results import body_holds_link, join_url_of
from airflow_provider_meetings.graph.errors import InvalidRequestError

_TAG_RE = re.compile(r"<[^>]+>")
#: The rule of underscores Outlook draws above (and below) the Teams block of a meeting's body.
_RULE_RE = re.compile(r"_{20,}")
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


def teams_block(event: Mapping[str, Any]) -> str | None:
    """The Teams block of an event's HTML body: from the ``<div>`` holding the rule of
    underscores above the join link (else the ``<div>`` holding the link) to ``</body>``;
    ``None`` when the body does not hold the event's join link."""
    link = join_url_of(event) or ""
    content = str((event.get("body") or {}).get("content") or "")
    at = next((content.find(form) for form in (link, html.escape(link)) if link and form in content), -1)
    if at < 0:
        return None
    rules = [match.start() for match in _RULE_RE.finditer(content, 0, at)]
    start = content.rfind("<div", 0, rules[-1] if rules else at)
    if start < 0:
        return None
    end = content.find("</body>", at)
    return content[start : end if end >= 0 else len(content)].strip()


def body_with_teams_block(body: Mapping[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
    """The body to PATCH: ``body`` with the event's Teams block appended, as HTML.

    GRAPH_FACTS ("Refinements", ``update_existing``): a PATCH of ``body`` without the Teams
    block removes the link; users keep it by sending the block back. A text body is sent as
    HTML (escaped, line breaks kept) so that the block can follow it.
    """
    block = teams_block(event)
    if block is None or body_holds_link({"body": body}, join_url_of(event) or ""):
        return dict(body)  # no block to keep, or the new body holds the link itself
    content = str(body.get("content") or "")
    if str(body.get("contentType") or "html").lower() == "text":
        content = html.escape(content).replace("\n", "<br>\n")
    return {"contentType": "html", "content": f"{content}\n{block}"}


def _start_date(event: Mapping[str, Any]) -> Any:
    return ((event.get("recurrence") or {}).get("range") or {}).get("startDate")


def check_same_kind(prepared: PreparedEvent, event: Mapping[str, Any]) -> None:
    """Refuse to bring a single event in step with a series, or a series with a single event:
    ``update_existing`` changes an event, it does not turn one kind into the other.

    :raises InvalidRequestError: naming both kinds and what to do
    """
    wanted_series = "recurrence" in prepared.fields
    found_series = event.get("type") == "seriesMaster" or bool(event.get("recurrence"))
    if wanted_series != found_series:
        asked, found = ("a series", "a single event") if wanted_series else ("a single event", "a series")
        raise InvalidRequestError(
            "recurrence",
            f"{asked} was asked for, but the event with external_id {prepared.external_id!r} is {found}; "
            "update_existing does not turn one into the other: cancel it and book the new one under a new "
            "external id",
        )


def changed_fields(prepared: PreparedEvent, event: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body that brings ``event`` in step with ``prepared`` (``{}`` when nothing differs).

    A new start or end sends both (and a series' ``recurrence`` when its day moves); new
    attendees the full list; a new body its hash too.

    :raises InvalidRequestError: a series asked for where a single event is, or the reverse
    """
    wanted = prepared.fields
    check_same_kind(prepared, event)
    patch: dict[str, Any] = {}
    if utc_instant(event.get("start")) != prepared.times.start or utc_instant(event.get("end")) != prepared.times.end:
        patch["start"], patch["end"] = wanted["start"], wanted["end"]
        if "recurrence" in wanted and _start_date(wanted) != _start_date(event):
            # A series moved to another day: range.startDate must be the start's date
            # (GRAPH_FACTS, "Series"), so the series goes with it, as asked.
            patch["recurrence"] = wanted["recurrence"]
    if event.get("subject") != wanted["subject"]:
        patch["subject"] = wanted["subject"]
    if _attendee_set(event.get("attendees")) != _attendee_set(wanted["attendees"]):
        patch["attendees"] = wanted["attendees"]
    if "location" in wanted and _location_name(event.get("location")) != _location_name(wanted["location"]):
        patch["location"] = wanted["location"]
    if "body" in wanted and body_changed(wanted["body"], event):
        patch["body"] = body_with_teams_block(wanted["body"], event)
        patch["singleValueExtendedProperties"] = [{"id": BODY_HASH_PROPERTY, "value": body_hash(wanted["body"])}]
    patch.update(changed_options(wanted, event))
    return patch
