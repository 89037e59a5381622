"""Outlook's ``dateTimeTimeZone``: which zone names an event accepts, and wall-clock time to UTC.

https://learn.microsoft.com/graph/api/resources/datetimetimezone: ``dateTime`` is "a single
point of time in a combined date and time representation ({date}T{time})", without an
offset; ``timeZone`` "can be set to any of the time zones currently supported by Windows,
as well as the other time zones supported by the calendar API", which the page lists under
"Additional time zones" (IANA names). It warns that "methods such as create or update
might not support all dateTimeTimeZone time zones". The emulator accepts the Windows zone
names of :data:`WINDOWS_ZONES` and the IANA names of :data:`LISTED_IANA_ZONES`; anything
else (``Europe/Zurich``, ``America/Toronto``) is refused (docs/emulator.md, assumptions).
"""

from __future__ import annotations

import datetime
import re
import zoneinfo

from meetings_emulator.errors import GraphError, bad_request
from meetings_emulator.ticks import ticks_of, wall_clock

#: Windows zone name -> the IANA zone Unicode CLDR's ``windowsZones`` maps it to (territory
#: "001"). The IANA names are exactly the "Additional time zones" of the datetimetimezone
#: page, which lists them in this order (one per Windows zone).
WINDOWS_ZONES: dict[str, str] = {
    "Dateline Standard Time": "Etc/GMT+12",
    "UTC-11": "Etc/GMT+11",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Alaskan Standard Time": "America/Anchorage",
    "Pacific Standard Time (Mexico)": "America/Santa_Isabel",
    "Pacific Standard Time": "America/Los_Angeles",
    "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time (Mexico)": "America/Chihuahua",
    "Mountain Standard Time": "America/Denver",
    "Central America Standard Time": "America/Guatemala",
    "Central Standard Time": "America/Chicago",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "Canada Central Standard Time": "America/Regina",
    "SA Pacific Standard Time": "America/Bogota",
    "Eastern Standard Time": "America/New_York",
    "US Eastern Standard Time": "America/Indiana/Indianapolis",
    "Venezuela Standard Time": "America/Caracas",
    "Paraguay Standard Time": "America/Asuncion",
    "Atlantic Standard Time": "America/Halifax",
    "Central Brazilian Standard Time": "America/Cuiaba",
    "SA Western Standard Time": "America/La_Paz",
    "Pacific SA Standard Time": "America/Santiago",
    "Newfoundland Standard Time": "America/St_Johns",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Argentina/Buenos_Aires",
    "SA Eastern Standard Time": "America/Cayenne",
    "Greenland Standard Time": "America/Godthab",
    "Montevideo Standard Time": "America/Montevideo",
    "Bahia Standard Time": "America/Bahia",
    "UTC-02": "Etc/GMT+2",
    "Azores Standard Time": "Atlantic/Azores",
    "Cape Verde Standard Time": "Atlantic/Cape_Verde",
    "Morocco Standard Time": "Africa/Casablanca",
    "UTC": "Etc/GMT",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "W. Central Africa Standard Time": "Africa/Lagos",
    "Namibia Standard Time": "Africa/Windhoek",
    "GTB Standard Time": "Europe/Bucharest",
    "Middle East Standard Time": "Asia/Beirut",
    "Egypt Standard Time": "Africa/Cairo",
    "Syria Standard Time": "Asia/Damascus",
    "South Africa Standard Time": "Africa/Johannesburg",
    "FLE Standard Time": "Europe/Kiev",
    "Turkey Standard Time": "Europe/Istanbul",
    "Israel Standard Time": "Asia/Jerusalem",
    "Jordan Standard Time": "Asia/Amman",
    "Arabic Standard Time": "Asia/Baghdad",
    "Kaliningrad Standard Time": "Europe/Kaliningrad",
    "Arab Standard Time": "Asia/Riyadh",
    "E. Africa Standard Time": "Africa/Nairobi",
    "Iran Standard Time": "Asia/Tehran",
    "Arabian Standard Time": "Asia/Dubai",
    "Azerbaijan Standard Time": "Asia/Baku",
    "Russian Standard Time": "Europe/Moscow",
    "Mauritius Standard Time": "Indian/Mauritius",
    "Georgian Standard Time": "Asia/Tbilisi",
    "Caucasus Standard Time": "Asia/Yerevan",
    "Afghanistan Standard Time": "Asia/Kabul",
    "Pakistan Standard Time": "Asia/Karachi",
    "West Asia Standard Time": "Asia/Tashkent",
    "India Standard Time": "Asia/Kolkata",
    "Sri Lanka Standard Time": "Asia/Colombo",
    "Nepal Standard Time": "Asia/Kathmandu",
    "Central Asia Standard Time": "Asia/Almaty",
    "Bangladesh Standard Time": "Asia/Dhaka",
    "Ekaterinburg Standard Time": "Asia/Yekaterinburg",
    "Myanmar Standard Time": "Asia/Rangoon",
    "SE Asia Standard Time": "Asia/Bangkok",
    "N. Central Asia Standard Time": "Asia/Novosibirsk",
    "China Standard Time": "Asia/Shanghai",
    "North Asia Standard Time": "Asia/Krasnoyarsk",
    "Singapore Standard Time": "Asia/Singapore",
    "W. Australia Standard Time": "Australia/Perth",
    "Taipei Standard Time": "Asia/Taipei",
    "Ulaanbaatar Standard Time": "Asia/Ulaanbaatar",
    "North Asia East Standard Time": "Asia/Irkutsk",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "Cen. Australia Standard Time": "Australia/Adelaide",
    "AUS Central Standard Time": "Australia/Darwin",
    "E. Australia Standard Time": "Australia/Brisbane",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "West Pacific Standard Time": "Pacific/Port_Moresby",
    "Tasmania Standard Time": "Australia/Hobart",
    "Yakutsk Standard Time": "Asia/Yakutsk",
    "Central Pacific Standard Time": "Pacific/Guadalcanal",
    "Vladivostok Standard Time": "Asia/Vladivostok",
    "New Zealand Standard Time": "Pacific/Auckland",
    "UTC+12": "Etc/GMT-12",
    "Fiji Standard Time": "Pacific/Fiji",
    "Magadan Standard Time": "Asia/Magadan",
    "Tonga Standard Time": "Pacific/Tongatapu",
    "Samoa Standard Time": "Pacific/Apia",
    "Line Islands Standard Time": "Pacific/Kiritimati",
}
#: The IANA names the datetimetimezone page lists ("Additional time zones").
LISTED_IANA_ZONES = frozenset(WINDOWS_ZONES.values())
#: Names the tz database of this machine may spell differently (old and new spellings).
_TZDB_ALIASES = {"Asia/Rangoon": "Asia/Yangon", "America/Godthab": "America/Nuuk", "Europe/Kiev": "Europe/Kyiv"}

_LOCAL_RE = re.compile(r"^(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<frac>\d{1,7}))?$")


class TimeZoneNotSupported(GraphError):
    """400 for a ``timeZone`` the calendar API does not take.

    The code and text are those users report from Graph (for example for ``Europe/Zurich``);
    the datetimetimezone page documents neither: an assumption (docs/emulator.md).

    :param name: the zone name sent.
    """

    def __init__(self, name: str) -> None:
        super().__init__(
            400,
            "TimeZoneNotSupportedException",
            f"A valid TimeZone value must be specified. The following TimeZone value is not supported: '{name}'.",
        )


def is_supported_zone(name: object) -> bool:
    """Whether ``name`` is a Windows zone name of :data:`WINDOWS_ZONES` or a listed IANA name."""
    return isinstance(name, str) and (name in WINDOWS_ZONES or name in LISTED_IANA_ZONES)


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The tz database zone of a supported zone name; raises :class:`TimeZoneNotSupported`."""
    if not is_supported_zone(name):
        raise TimeZoneNotSupported(str(name))
    iana = WINDOWS_ZONES.get(name, name)
    try:
        return zoneinfo.ZoneInfo(iana)
    except zoneinfo.ZoneInfoNotFoundError:
        return zoneinfo.ZoneInfo(_TZDB_ALIASES[iana])


def parse_local(value: object, field_name: str) -> tuple[datetime.datetime, int]:
    """``(naive datetime, 100 ns ticks of its fraction)`` of a ``dateTime`` without offset.

    The page's form is ``{date}T{time}`` (e.g. ``2017-08-29T04:00:00.0000000``); a value
    with an offset (``Z``, ``+01:00``) is refused (docs/emulator.md, assumptions).

    :raises GraphError: 400 for anything else.
    """
    match = _LOCAL_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise bad_request(
            f"Invalid value for '{field_name}.dateTime': expected a date and time without offset "
            f"({{date}}T{{time}}, e.g. 2017-08-29T04:00:00.0000000), got {value!r}."
        )
    base = match["base"] if match["base"].count(":") == 2 else match["base"] + ":00"
    try:
        naive = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise bad_request(f"Invalid value for '{field_name}.dateTime': {value!r} is not a date and time.") from None
    return naive, int((match["frac"] or "").ljust(7, "0"))


def to_utc_ticks(value: object, time_zone: object, field_name: str) -> int:
    """UTC ticks of a ``dateTimeTimeZone``'s two parts; raises 400 :class:`GraphError`."""
    if not isinstance(time_zone, str) or not time_zone.strip():
        raise bad_request(f"Invalid value for '{field_name}.timeZone': a time zone name is required.")
    naive, fraction = parse_local(value, field_name)
    return ticks_of(naive.replace(tzinfo=zone(time_zone)), fraction)


def from_utc_ticks(ticks: int, time_zone: str) -> dict[str, str]:
    """A ``dateTimeTimeZone`` of ``ticks`` in ``time_zone`` (seven fraction digits, as Graph writes)."""
    clock = datetime.timezone.utc if time_zone == "UTC" else zone(time_zone)
    return {"dateTime": wall_clock(ticks, clock), "timeZone": time_zone}


def local_date(ticks: int, time_zone: str) -> str:
    """The calendar date (``YYYY-MM-DD``) of ``ticks`` in ``time_zone``."""
    return from_utc_ticks(ticks, time_zone)["dateTime"][:10]
