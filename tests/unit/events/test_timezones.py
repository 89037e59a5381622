"""Zone names as Graph accepts them (events/timezones.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pendulum
import pytest

from airflow_provider_meetings.events.timezones import (
    EXTRA_IANA_TO_WINDOWS,
    GRAPH_IANA_ZONES,
    IANA_TO_WINDOWS,
    WINDOWS_TO_IANA,
    graph_time_zone,
    zone_info,
    zone_name_of,
)
from airflow_provider_meetings.graph.errors import InvalidRequestError


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        pytest.param("Europe/Berlin", "Europe/Berlin", id="listed-iana-as-is"),
        pytest.param("America/New_York", "America/New_York", id="listed-iana-us"),
        pytest.param("Europe/Zurich", "W. Europe Standard Time", id="unlisted-zurich"),
        pytest.param("America/Toronto", "Eastern Standard Time", id="unlisted-toronto"),
        pytest.param("Europe/Madrid", "Romance Standard Time", id="unlisted-madrid"),
        pytest.param("America/Vancouver", "Pacific Standard Time", id="long-standing-windows-name"),
        pytest.param("w. europe standard time", "W. Europe Standard Time", id="windows-any-case"),
        pytest.param("UTC", "UTC", id="utc"),
        pytest.param("Etc/UTC", "UTC", id="etc-utc"),
    ],
)
def test_graph_time_zone(given, sent):
    assert graph_time_zone(given) == sent


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "Europe/Berlinn", "", "   ", "../etc/passwd"])
def test_unknown_zone_is_refused(name):
    with pytest.raises(InvalidRequestError, match="time_zone"):
        graph_time_zone(name)


def test_valid_zone_without_windows_name_is_refused_with_advice():
    with pytest.raises(InvalidRequestError, match="Windows name") as info:
        graph_time_zone("Antarctica/Troll")
    assert "Get-TimeZone" in str(info.value)


def test_zone_info_of_windows_name_is_its_golden_zone():
    assert zone_info("W. Europe Standard Time") == ZoneInfo("Europe/Berlin")


def _offsets(zone: ZoneInfo) -> list[timedelta | None]:
    start = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    return [(start + timedelta(days=d)).astimezone(zone).utcoffset() for d in range(0, 730)]


@pytest.mark.parametrize("iana", sorted(EXTRA_IANA_TO_WINDOWS))
def test_extra_rows_keep_the_offsets_of_their_windows_zone(iana):
    """Each hand-written row names a Windows zone with the same rules in 2026 and 2027."""
    windows = EXTRA_IANA_TO_WINDOWS[iana]
    assert windows in WINDOWS_TO_IANA
    assert _offsets(ZoneInfo(iana)) == _offsets(ZoneInfo(WINDOWS_TO_IANA[windows]))


def test_tables_name_only_zones_the_tz_database_knows():
    for iana in [*IANA_TO_WINDOWS, *GRAPH_IANA_ZONES, *WINDOWS_TO_IANA.values()]:
        ZoneInfo(iana)


def test_golden_zones_match_cldr_when_babel_is_installed():
    babel_core = pytest.importorskip("babel.core")
    assert babel_core.get_global("windows_zone_mapping") == WINDOWS_TO_IANA


@pytest.mark.parametrize(
    ("tz", "name"),
    [
        pytest.param(ZoneInfo("Europe/Berlin"), "Europe/Berlin", id="zoneinfo"),
        pytest.param(pendulum.timezone("Europe/Paris"), "Europe/Paris", id="pendulum"),
        pytest.param(timezone.utc, "UTC", id="utc"),
        pytest.param(timezone(timedelta(hours=1)), None, id="fixed-offset"),
        pytest.param(None, None, id="naive"),
    ],
)
def test_zone_name_of(tz, name):
    assert zone_name_of(tz) == name
