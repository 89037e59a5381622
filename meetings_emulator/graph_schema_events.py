"""The Graph types of calendar events, per API version, as plain data (see ``graph_schema.py``).

Taken from the official SDK models (``msgraph-sdk`` 1.65.0 for v1.0, ``msgraph-beta-sdk``
1.66.0 for beta) like the onlineMeeting lists; ``tests/contract/test_emulator_schema.py``
compares them with the installed SDKs. Types not listed (``physicalAddress``,
``attachment``, ...) are not looked into.
"""

from __future__ import annotations

#: The event-related types both SDKs define alike.
EVENT_TYPES_ALIKE: dict[str, dict[str, str | None]] = {
    "attendee": {
        "@odata.type": None,
        "emailAddress": "emailAddress",
        "proposedNewTime": "timeSlot",
        "status": "responseStatus",
        "type": None,
    },
    "emailAddress": {
        "@odata.type": None,
        "address": None,
        "name": None,
    },
    "dateTimeTimeZone": {
        "@odata.type": None,
        "dateTime": None,
        "timeZone": None,
    },
    "patternedRecurrence": {
        "@odata.type": None,
        "pattern": "recurrencePattern",
        "range": "recurrenceRange",
    },
    "recurrencePattern": {
        "@odata.type": None,
        "dayOfMonth": None,
        "daysOfWeek": None,
        "firstDayOfWeek": None,
        "index": None,
        "interval": None,
        "month": None,
        "type": None,
    },
    "recurrenceRange": {
        "@odata.type": None,
        "endDate": None,
        "numberOfOccurrences": None,
        "recurrenceTimeZone": None,
        "startDate": None,
        "type": None,
    },
    "itemBody": {
        "@odata.type": None,
        "content": None,
        "contentType": None,
    },
    "location": {
        "@odata.type": None,
        "address": "physicalAddress",
        "coordinates": "outlookGeoCoordinates",
        "displayName": None,
        "locationEmailAddress": None,
        "locationType": None,
        "locationUri": None,
        "uniqueId": None,
        "uniqueIdType": None,
    },
    "singleValueLegacyExtendedProperty": {
        "@odata.type": None,
        "id": None,
        "value": None,
    },
    "recipient": {
        "@odata.type": None,
        "emailAddress": "emailAddress",
    },
}
#: ``event`` in v1.0.
EVENT_V1: dict[str, str | None] = {
    "@odata.type": None,
    "allowNewTimeProposals": None,
    "attachments": "attachment",
    "attendees": "attendee",
    "body": "itemBody",
    "bodyPreview": None,
    "calendar": "calendar",
    "cancelledOccurrences": None,
    "categories": None,
    "changeKey": None,
    "createdDateTime": None,
    "end": "dateTimeTimeZone",
    "exceptionOccurrences": "event",
    "extensions": "extension",
    "hasAttachments": None,
    "hideAttendees": None,
    "iCalUId": None,
    "id": None,
    "importance": None,
    "instances": "event",
    "isAllDay": None,
    "isCancelled": None,
    "isDraft": None,
    "isOnlineMeeting": None,
    "isOrganizer": None,
    "isReminderOn": None,
    "lastModifiedDateTime": None,
    "location": "location",
    "locations": "location",
    "multiValueExtendedProperties": "multiValueLegacyExtendedProperty",
    "onlineMeeting": "onlineMeetingInfo",
    "onlineMeetingProvider": None,
    "onlineMeetingUrl": None,
    "organizer": "recipient",
    "originalEndTimeZone": None,
    "originalStart": None,
    "originalStartTimeZone": None,
    "recurrence": "patternedRecurrence",
    "reminderMinutesBeforeStart": None,
    "responseRequested": None,
    "responseStatus": "responseStatus",
    "sensitivity": None,
    "seriesMasterId": None,
    "showAs": None,
    "singleValueExtendedProperties": "singleValueLegacyExtendedProperty",
    "start": "dateTimeTimeZone",
    "subject": None,
    "transactionId": None,
    "type": None,
    "webLink": None,
}
#: ``event`` in beta: every v1.0 property (the beta SDK defines each with the same type) and
#: two that only beta has.
EVENT_BETA: dict[str, str | None] = {
    **EVENT_V1,
    "occurrenceId": None,
    "uid": None,
}
