"""Properties the connection's Graph version does not define are refused before any request."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_meetings.graph.errors import InvalidRequestError

pytestmark = pytest.mark.integration

REFUSED_ON_V1 = [
    pytest.param({"participants": {"producers": ["meganb@contoso.example"]}}, "participants.producers", id="producers"),
    pytest.param(
        {"participants": {"contributors": ["meganb@contoso.example"]}}, "participants.contributors", id="contributors"
    ),
    pytest.param({"chat_info": {"threadId": "19:meeting_x@thread.v2"}}, "chat_info", id="chat-info"),
]


@pytest.mark.parametrize(("arguments", "field"), REFUSED_ON_V1)
def test_v1_refuses_before_any_request(make_hook: Any, graph_emulator: Any, arguments: dict, field: str) -> None:
    hook = make_hook()  # api_version v1.0 by default
    with pytest.raises(InvalidRequestError) as raised:
        hook.create_or_get_meeting("refused", **arguments)
    assert raised.value.field == field and "api_version='v1.0'" in str(raised.value)
    [result] = hook.create_or_get_meetings([{"external_id": "refused-bulk", **arguments}])
    assert not result.ok and isinstance(result.error, InvalidRequestError)
    stats = graph_emulator.stats()
    assert (stats["token_requests"], stats["graph_requests"], stats["batches"]) == (0, 0, 0)


@pytest.mark.parametrize(("arguments", "field"), REFUSED_ON_V1)
def test_beta_sends_them(make_hook: Any, graph_emulator: Any, arguments: dict, field: str) -> None:
    hook = make_hook(api_version="beta")
    result = hook.create_or_get_meeting("beta-ok", **arguments)
    assert result.created
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"201": 1}
