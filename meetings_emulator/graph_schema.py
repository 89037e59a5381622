"""Which properties each Graph API version defines, as plain data (no SDK import at run time).

Taken from the official Graph SDK models, which Microsoft generates from its OpenAPI
description of Graph: ``msgraph-sdk`` for v1.0 and ``msgraph-beta-sdk`` for beta, at the
versions in :data:`SDK_VERSIONS`. ``tests/contract/test_emulator_schema.py`` fails when these
lists and the installed SDKs' models differ, and prints what changed.

``PROPERTIES[version][type][property]`` is the Graph type of an object (or object
collection) property, or ``None`` for primitives, enums and collections of them. Only the
types listed here are checked property by property; an object of another type (say
``audioConferencing`` inside an ``onlineMeeting``) is not looked into.
"""

from __future__ import annotations

from typing import Any

from meetings_emulator.graph_schema_events import EVENT_BETA, EVENT_TYPES_ALIKE, EVENT_V1

SDK_VERSIONS = {"v1.0": "msgraph-sdk 1.65.0", "beta": "msgraph-beta-sdk 1.66.0"}
#: The types both SDKs define alike.
_ALIKE_IN_BOTH: dict[str, dict[str, str | None]] = {
    "createOrGetPostRequestBody": {
        "chatInfo": "chatInfo",
        "endDateTime": None,
        "externalId": None,
        "participants": "meetingParticipants",
        "startDateTime": None,
        "subject": None,
    },
    "meetingParticipantInfo": {
        "@odata.type": None,
        "identity": "identitySet",
        "role": None,
        "upn": None,
    },
    "identitySet": {
        "@odata.type": None,
        "application": "identity",
        "device": "identity",
        "user": "identity",
    },
    "identity": {
        "@odata.type": None,
        "displayName": None,
        "id": None,
    },
    "chatInfo": {
        "@odata.type": None,
        "messageId": None,
        "replyChainMessageId": None,
        "threadId": None,
    },
    "lobbyBypassSettings": {
        "@odata.type": None,
        "isDialInBypassEnabled": None,
        "scope": None,
    },
    "joinMeetingIdSettings": {
        "@odata.type": None,
        "isPasscodeRequired": None,
        "joinMeetingId": None,
        "passcode": None,
    },
    "watermarkProtectionValues": {
        "@odata.type": None,
        "isEnabledForContentSharing": None,
        "isEnabledForVideo": None,
    },
}
#: ``onlineMeeting`` in v1.0.
_ONLINE_MEETING_V1: dict[str, str | None] = {
    "@odata.type": None,
    "allowAttendeeToEnableCamera": None,
    "allowAttendeeToEnableMic": None,
    "allowBreakoutRooms": None,
    "allowCopyingAndSharingMeetingContent": None,
    "allowLiveShare": None,
    "allowMeetingChat": None,
    "allowParticipantsToChangeName": None,
    "allowPowerPointSharing": None,
    "allowRecording": None,
    "allowTeamworkReactions": None,
    "allowTranscription": None,
    "allowWhiteboard": None,
    "allowedLobbyAdmitters": None,
    "allowedPresenters": None,
    "attendanceReports": "meetingAttendanceReport",
    "attendeeReport": None,
    "audioConferencing": "audioConferencing",
    "broadcastSettings": "broadcastMeetingSettings",
    "chatInfo": "chatInfo",
    "chatRestrictions": "chatRestrictions",
    "cloudVideoInteropInfo": "cloudVideoInteropInfo",
    "creationDateTime": None,
    "endDateTime": None,
    "expiryDateTime": None,
    "externalId": None,
    "id": None,
    "isBroadcast": None,
    "isEndToEndEncryptionEnabled": None,
    "isEntryExitAnnounced": None,
    "joinInformation": "itemBody",
    "joinMeetingIdSettings": "joinMeetingIdSettings",
    "joinWebUrl": None,
    "lobbyBypassSettings": "lobbyBypassSettings",
    "meetingOptionsWebUrl": None,
    "meetingSpokenLanguageTag": None,
    "meetingTemplateId": None,
    "meetingType": None,
    "participants": "meetingParticipants",
    "recordAutomatically": None,
    "recordings": "callRecording",
    "sensitivityLabelAssignment": "onlineMeetingSensitivityLabelAssignment",
    "shareMeetingChatHistoryDefault": None,
    "startDateTime": None,
    "subject": None,
    "transcripts": "callTranscript",
    "videoTeleconferenceId": None,
    "watermarkProtection": "watermarkProtectionValues",
}
#: ``onlineMeeting`` in beta: every v1.0 property (the beta SDK defines each with the same
#: type) and those only beta has.
_ONLINE_MEETING_BETA: dict[str, str | None] = {
    **_ONLINE_MEETING_V1,
    "aiInsights": "callAiInsight",
    "alternativeRecording": None,
    "anonymizeIdentityForRoles": None,
    "broadcastRecording": None,
    "capabilities": None,
    "joinUrl": None,
    "meetingAttendanceReport": "meetingAttendanceReport",
    "recording": None,
    "registration": "meetingRegistration",
}
#: ``meetingParticipants`` in v1.0.
_MEETING_PARTICIPANTS_V1: dict[str, str | None] = {
    "@odata.type": None,
    "attendees": "meetingParticipantInfo",
    "organizer": "meetingParticipantInfo",
}
#: ``meetingParticipants`` in beta: v1.0's and two more roles.
_MEETING_PARTICIPANTS_BETA: dict[str, str | None] = {
    **_MEETING_PARTICIPANTS_V1,
    "contributors": "meetingParticipantInfo",
    "producers": "meetingParticipantInfo",
}
PROPERTIES: dict[str, dict[str, dict[str, str | None]]] = {
    "v1.0": {
        **_ALIKE_IN_BOTH,
        **EVENT_TYPES_ALIKE,
        "event": EVENT_V1,
        "onlineMeeting": _ONLINE_MEETING_V1,
        "meetingParticipants": _MEETING_PARTICIPANTS_V1,
    },
    "beta": {
        **_ALIKE_IN_BOTH,
        **EVENT_TYPES_ALIKE,
        "event": EVENT_BETA,
        "onlineMeeting": _ONLINE_MEETING_BETA,
        "meetingParticipants": _MEETING_PARTICIPANTS_BETA,
    },
}


def undefined_property(body: Any, type_name: str, version: str, path: str = "") -> tuple[str, str] | None:
    """The first property of ``body`` that ``type_name`` does not define in ``version``.

    :returns: ``(dotted path, owning type)``, or ``None`` when every listed type conforms.
        Objects carrying ``@odata.type`` (derived types) and types not listed are not looked into.
    """
    properties = PROPERTIES[version].get(type_name)
    if properties is None or not isinstance(body, dict) or "@odata.type" in body:
        return None
    for name, value in body.items():
        where = f"{path}.{name}" if path else name
        if name not in properties:
            return where, type_name
        nested = properties[name]
        if nested is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            found = undefined_property(item, nested, version, where)
            if found is not None:
                return found
    return None
