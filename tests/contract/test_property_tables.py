"""The provider's tables of Graph property names and enum members equal the SDK models.

Mappings a user passes through (an attendee, ``chatInfo``, a ``location``, a
``patternedRecurrence``) are checked against these tables before any request: a key or a
member Graph does not define would be a 400 (graph/values.py ``check_properties``).
"""

from __future__ import annotations

import pytest

from airflow_provider_meetings.events.recurrence import (
    PATTERN_PROPERTIES,
    RANGE_PROPERTIES,
    RECURRENCE_PROPERTIES,
    WEEK_INDEX,
    WEEKDAYS,
)
from airflow_provider_meetings.events.request import LOCATION_PROPERTIES
from airflow_provider_meetings.meetings.request import (
    API_VERSIONS,
    CHAT_INFO_PROPERTIES,
    ONLINE_MEETING_ROLES,
    PARTICIPANT_INFO_PROPERTIES,
)

TABLES = [
    ("meetingParticipantInfo", PARTICIPANT_INFO_PROPERTIES),
    ("chatInfo", CHAT_INFO_PROPERTIES),
    ("location", LOCATION_PROPERTIES),
    ("patternedRecurrence", RECURRENCE_PROPERTIES),
    ("recurrencePattern", PATTERN_PROPERTIES),
    ("recurrenceRange", RANGE_PROPERTIES),
]
ENUMS = [
    ("meetingParticipantInfo", "role", ONLINE_MEETING_ROLES),
    ("recurrencePattern", "daysOfWeek", tuple(WEEKDAYS.values())),
    ("recurrencePattern", "firstDayOfWeek", tuple(WEEKDAYS.values())),
    ("recurrencePattern", "index", tuple(WEEK_INDEX.values())),
]


@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize(("graph_type", "table"), TABLES, ids=[name for name, _ in TABLES])
def test_property_table_is_the_models(graph_contract, api_version, graph_type, table):
    model = set(graph_contract.properties(graph_type, api_version)) - {"@odata.type"}
    assert set(table) == model
    assert len(set(table)) == len(table)


@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize(("graph_type", "name", "members"), ENUMS, ids=[f"{t}.{n}" for t, n, _ in ENUMS])
def test_enum_members_are_the_models(graph_contract, api_version, graph_type, name, members):
    enum = graph_contract.properties(graph_type, api_version)[name].target
    # unknownFutureValue is Graph's evolvable-enum sentinel, never a value to send.
    assert {member.value for member in enum} - {"unknownFutureValue"} == set(members)
