"""The permissions each onlineMeetings call needs, as data."""

from __future__ import annotations

from airflow_provider_meetings.cli.login import DELEGATED_PERMISSION
from airflow_provider_meetings.meetings.organizers import DELEGATED_LOOKUP_PERMISSION, LOOKUP_PERMISSION
from airflow_provider_meetings.meetings.permissions import CREATE_OR_GET, USER_LOOKUP


def test_create_or_get_per_kind_of_token():
    # https://learn.microsoft.com/graph/api/onlinemeeting-createorget#permissions
    assert CREATE_OR_GET.for_token(delegated=False) == "OnlineMeetings.ReadWrite.All"
    assert CREATE_OR_GET.for_token(delegated=True) == "OnlineMeetings.ReadWrite"
    assert CREATE_OR_GET.source.endswith("onlinemeeting-createorget#permissions")


def test_every_user_of_a_permission_reads_it_from_one_place():
    assert DELEGATED_PERMISSION == CREATE_OR_GET.delegated
    assert (LOOKUP_PERMISSION, DELEGATED_LOOKUP_PERMISSION) == (USER_LOOKUP.application, USER_LOOKUP.delegated)
    assert (USER_LOOKUP.application, USER_LOOKUP.delegated) == ("User.Read.All", "User.ReadBasic.All")
