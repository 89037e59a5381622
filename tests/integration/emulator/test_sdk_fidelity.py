"""Fidelity check: the official Microsoft Graph Python SDK talks to the emulator."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest
from emulator_testlib import GRAPH_SCOPE, make_app, sdk_graph_client

pytestmark = pytest.mark.integration


def test_sdk_create_or_get(emu: Any) -> None:
    pytest.importorskip("msgraph")
    from msgraph.generated.models.identity import Identity
    from msgraph.generated.models.identity_set import IdentitySet
    from msgraph.generated.models.meeting_participant_info import MeetingParticipantInfo
    from msgraph.generated.models.meeting_participants import MeetingParticipants
    from msgraph.generated.users.item.online_meetings.create_or_get.create_or_get_post_request_body import (
        CreateOrGetPostRequestBody,
    )

    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    client = sdk_graph_client(emu, token)
    attendee = emu.user("alexw")
    body = CreateOrGetPostRequestBody(
        start_date_time=datetime.datetime(
            2030, 2, 6, 14, 30, 34, 235400, tzinfo=datetime.timezone(datetime.timedelta(hours=-8))
        ),
        end_date_time=datetime.datetime(
            2030, 2, 6, 15, 0, 34, 235400, tzinfo=datetime.timezone(datetime.timedelta(hours=-8))
        ),
        subject="Create a meeting with customId provided",
        external_id="7eb8263f-d0e0-4149-bb1c-1f0476083c56",
        participants=MeetingParticipants(
            attendees=[
                MeetingParticipantInfo(
                    identity=IdentitySet(user=Identity(id=attendee["id"])),
                    upn=attendee["userPrincipalName"],
                )
            ]
        ),
    )

    async def post_twice() -> tuple[Any, Any]:
        builder = client.users.by_user_id(emu.default_user_id).online_meetings.create_or_get
        return await builder.post(body), await builder.post(body)

    first, second = asyncio.run(post_twice())
    assert first.id and first.join_web_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert first.external_id == "7eb8263f-d0e0-4149-bb1c-1f0476083c56"
    assert first.subject == "Create a meeting with customId provided"
    assert first.start_date_time == datetime.datetime(2030, 2, 6, 22, 30, 34, 235400, tzinfo=datetime.timezone.utc)
    assert first.end_date_time - first.start_date_time == datetime.timedelta(minutes=30)
    assert first.participants.organizer.identity.user.id == emu.default_user_id
    assert first.participants.attendees[0].identity.user.id == attendee["id"]
    # the SDK reads the organizer's "presenter" and an attendee's null role (createOrGet page's example)
    assert first.participants.organizer.role.value == "presenter"
    assert first.participants.attendees[0].role is None
    assert first.join_meeting_id_settings.join_meeting_id
    assert second.id == first.id
    assert emu.stats()["by_route"]["createOrGet"] == {"201": 1, "200": 1}


def test_sdk_sees_graph_errors(emu: Any) -> None:
    pytest.importorskip("msgraph")
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.users.item.online_meetings.create_or_get.create_or_get_post_request_body import (
        CreateOrGetPostRequestBody,
    )

    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    client = sdk_graph_client(emu, token)
    nopolicy = emu.user("nopolicy")["id"]

    async def post() -> Any:
        return await client.users.by_user_id(nopolicy).online_meetings.create_or_get.post(
            CreateOrGetPostRequestBody(external_id="x")
        )

    with pytest.raises(ODataError) as raised:
        asyncio.run(post())
    assert raised.value.response_status_code == 403
    assert raised.value.error.code == "Forbidden"


def test_sdk_creates_finds_and_cancels_an_event(emu: Any) -> None:
    """The official SDK's event model posts, reads the answer, filters and cancels (issue 22)."""
    pytest.importorskip("msgraph")
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.models.attendee import Attendee
    from msgraph.generated.models.attendee_type import AttendeeType
    from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.event import Event
    from msgraph.generated.models.event_type import EventType
    from msgraph.generated.models.online_meeting_provider_type import OnlineMeetingProviderType
    from msgraph.generated.models.single_value_legacy_extended_property import SingleValueLegacyExtendedProperty
    from msgraph.generated.users.item.events.events_request_builder import EventsRequestBuilder
    from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import CancelPostRequestBody

    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    client = sdk_graph_client(emu, token)
    property_id = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name ExternalId"
    event = Event(
        subject="Interview",
        start=DateTimeTimeZone(date_time="2030-03-05T09:00:00", time_zone="Europe/Berlin"),
        end=DateTimeTimeZone(date_time="2030-03-05T10:00:00", time_zone="Europe/Berlin"),
        attendees=[
            Attendee(
                email_address=EmailAddress(address="alexw@contoso.example", name="Alex"), type=AttendeeType.Required
            )
        ],
        is_online_meeting=True,
        online_meeting_provider=OnlineMeetingProviderType.TeamsForBusiness,
        transaction_id="sdk-tx-1",
        single_value_extended_properties=[SingleValueLegacyExtendedProperty(id=property_id, value="O'Brien-1")],
    )
    events = client.users.by_user_id(emu.default_user_id).events
    query = EventsRequestBuilder.EventsRequestBuilderGetQueryParameters(
        filter=f"singleValueExtendedProperties/Any(ep: ep/id eq '{property_id}' and ep/value eq 'o''brien-1')",
        expand=[f"singleValueExtendedProperties($filter=id eq '{property_id}')"],
    )

    async def run() -> tuple[Any, Any, Any]:
        created = await events.post(event)
        found = await events.get(RequestConfiguration(query_parameters=query))
        await events.by_event_id(created.id).cancel.post(CancelPostRequestBody(comment="Position filled"))
        return created, found, await events.get(RequestConfiguration(query_parameters=query))

    created, found, after_cancel = asyncio.run(run())
    assert created.type == EventType.SingleInstance and created.i_cal_u_id
    assert created.online_meeting.join_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert created.start.date_time.startswith("2030-03-05T08:00:00") and created.start.time_zone == "UTC"
    assert created.attendees[0].status.response.value == "none"
    [hit] = found.value
    assert hit.id == created.id and hit.single_value_extended_properties[0].value == "O'Brien-1"
    assert after_cancel.value == []
    assert emu.events()[0]["cancel_comment"] == "Position filled"
