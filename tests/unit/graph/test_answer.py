"""graph/answer.py: what an answer says about itself, in one place for every transport."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.graph.answer import HttpAnswer, StreamedAnswer, media_type, url_without_query


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("application/json; odata.metadata=minimal; charset=utf-8", "application/json"),
        ("Text/VTT", "text/vtt"),
        (" video/mp4 ", "video/mp4"),
        ("", ""),
        (None, ""),
    ],
)
def test_media_type_drops_parameters_and_case(value, expected):
    assert media_type(value) == expected


def test_both_answers_read_their_media_type_the_same_way():
    headers = {"content-type": "Video/MP4; codecs=avc1"}
    assert HttpAnswer(200, headers).content_type == StreamedAnswer(200, headers, iter(())).content_type == "video/mp4"


def test_url_without_query_keeps_no_filter_or_signature():
    url = "https://graph.microsoft.com/v1.0/me/onlineMeetings?$filter=JoinWebUrl%20eq%20'x'&sig=abc"
    assert url_without_query(url) == "https://graph.microsoft.com/v1.0/me/onlineMeetings"
