"""The "Your own organizers" example of docs/emulator.md, run as written (the docs quote it)."""

from __future__ import annotations

# [START emulator_own_organizers]
import pytest

from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

ORGANIZER = "3d9a7c51-2b84-4f06-a1e3-5c7b9d0e2f48"  # your organizer's object id in Entra


@pytest.fixture
def my_organizers(graph_emulator):
    # Added users stay through the per-test reset of meetings_conn_id (reset(users=True) drops them).
    graph_emulator.add_user(ORGANIZER, "dana.scully@contoso.example", "Dana Scully")
    graph_emulator.add_user(
        "e5b14f0a-97c2-4d38-b6e1-0a2c4e6f8b19", "fox.mulder@contoso.example", "Fox Mulder", has_policy=False
    )


def test_meeting_for_my_organizer(my_organizers, meetings_conn_id):
    hook = OnlineMeetingsHook(meetings_conn_id)
    result = hook.create_or_get_meeting("weekly-review-2030-01-07", user_id=ORGANIZER, subject="Weekly review")
    assert result.created
    assert result.meeting["participants"]["organizer"]["identity"]["user"]["id"] == ORGANIZER


# [END emulator_own_organizers]


pytestmark = pytest.mark.integration
