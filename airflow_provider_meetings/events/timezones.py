"""Time-zone names as Graph accepts them in ``dateTimeTimeZone``: pure data and lookups.

Graph's ``dateTimeTimeZone.timeZone`` takes Windows zone names (``W. Europe Standard Time``)
and only the IANA names listed under "Additional time zones" on
https://learn.microsoft.com/graph/api/resources/datetimetimezone (``Europe/Berlin`` is listed,
``Europe/Zurich`` and ``America/Toronto`` are not; the page warns that create and update may
support fewer). So :func:`graph_time_zone` sends a listed IANA name as it is and any other
IANA name as its Windows name, from Unicode CLDR's ``windowsZones`` table
(https://github.com/unicode-org/cldr/blob/main/common/supplemental/windowsZones.xml). A zone
this module cannot name is refused before any request, with the advice to pass a Windows name.

Sending a zone (rather than a UTC conversion) keeps a weekly series at its wall-clock time
across daylight-saving changes.
"""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_provider_meetings.graph.errors import InvalidRequestError

#: CLDR ``windowsZones``, territory ``001``: each Windows zone name and its "golden" IANA zone.
WINDOWS_TO_IANA: dict[str, str] = {
    "Dateline Standard Time": "Etc/GMT+12",
    "UTC-11": "Etc/GMT+11",
    "Aleutian Standard Time": "America/Adak",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Marquesas Standard Time": "Pacific/Marquesas",
    "Alaskan Standard Time": "America/Anchorage",
    "UTC-09": "Etc/GMT+9",
    "Pacific Standard Time (Mexico)": "America/Tijuana",
    "UTC-08": "Etc/GMT+8",
    "Pacific Standard Time": "America/Los_Angeles",
    "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time (Mexico)": "America/Mazatlan",
    "Mountain Standard Time": "America/Denver",
    "British Columbia Standard Time": "America/Vancouver",
    "Yukon Standard Time": "America/Whitehorse",
    "Alberta Standard Time": "America/Edmonton",
    "Central America Standard Time": "America/Guatemala",
    "Central Standard Time": "America/Chicago",
    "Easter Island Standard Time": "Pacific/Easter",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "Canada Central Standard Time": "America/Regina",
    "Manitoba Standard Time": "America/Winnipeg",
    "SA Pacific Standard Time": "America/Bogota",
    "Eastern Standard Time (Mexico)": "America/Cancun",
    "Eastern Standard Time": "America/New_York",
    "Haiti Standard Time": "America/Port-au-Prince",
    "Cuba Standard Time": "America/Havana",
    "US Eastern Standard Time": "America/Indianapolis",
    "Turks And Caicos Standard Time": "America/Grand_Turk",
    "Paraguay Standard Time": "America/Asuncion",
    "Atlantic Standard Time": "America/Halifax",
    "Venezuela Standard Time": "America/Caracas",
    "Central Brazilian Standard Time": "America/Cuiaba",
    "SA Western Standard Time": "America/La_Paz",
    "Pacific SA Standard Time": "America/Santiago",
    "Newfoundland Standard Time": "America/St_Johns",
    "Tocantins Standard Time": "America/Araguaina",
    "E. South America Standard Time": "America/Sao_Paulo",
    "SA Eastern Standard Time": "America/Cayenne",
    "Argentina Standard Time": "America/Buenos_Aires",
    "Greenland Standard Time": "America/Godthab",
    "Montevideo Standard Time": "America/Montevideo",
    "Magallanes Standard Time": "America/Punta_Arenas",
    "Saint Pierre Standard Time": "America/Miquelon",
    "Bahia Standard Time": "America/Bahia",
    "UTC-02": "Etc/GMT+2",
    "Azores Standard Time": "Atlantic/Azores",
    "Cape Verde Standard Time": "Atlantic/Cape_Verde",
    "UTC": "Etc/UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "Sao Tome Standard Time": "Africa/Sao_Tome",
    "Morocco Standard Time": "Africa/Casablanca",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "W. Central Africa Standard Time": "Africa/Lagos",
    "Jordan Standard Time": "Asia/Amman",
    "GTB Standard Time": "Europe/Bucharest",
    "Middle East Standard Time": "Asia/Beirut",
    "Egypt Standard Time": "Africa/Cairo",
    "E. Europe Standard Time": "Europe/Chisinau",
    "Syria Standard Time": "Asia/Damascus",
    "West Bank Standard Time": "Asia/Hebron",
    "South Africa Standard Time": "Africa/Johannesburg",
    "FLE Standard Time": "Europe/Kiev",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Sudan Standard Time": "Africa/Juba",
    "Kaliningrad Standard Time": "Europe/Kaliningrad",
    "Sudan Standard Time": "Africa/Khartoum",
    "Libya Standard Time": "Africa/Tripoli",
    "Namibia Standard Time": "Africa/Windhoek",
    "Arabic Standard Time": "Asia/Baghdad",
    "Turkey Standard Time": "Europe/Istanbul",
    "Arab Standard Time": "Asia/Riyadh",
    "Belarus Standard Time": "Europe/Minsk",
    "Russian Standard Time": "Europe/Moscow",
    "E. Africa Standard Time": "Africa/Nairobi",
    "Iran Standard Time": "Asia/Tehran",
    "Arabian Standard Time": "Asia/Dubai",
    "Astrakhan Standard Time": "Europe/Astrakhan",
    "Azerbaijan Standard Time": "Asia/Baku",
    "Russia Time Zone 3": "Europe/Samara",
    "Mauritius Standard Time": "Indian/Mauritius",
    "Saratov Standard Time": "Europe/Saratov",
    "Georgian Standard Time": "Asia/Tbilisi",
    "Volgograd Standard Time": "Europe/Volgograd",
    "Caucasus Standard Time": "Asia/Yerevan",
    "Afghanistan Standard Time": "Asia/Kabul",
    "West Asia Standard Time": "Asia/Tashkent",
    "Ekaterinburg Standard Time": "Asia/Yekaterinburg",
    "Pakistan Standard Time": "Asia/Karachi",
    "Qyzylorda Standard Time": "Asia/Qyzylorda",
    "India Standard Time": "Asia/Calcutta",
    "Sri Lanka Standard Time": "Asia/Colombo",
    "Nepal Standard Time": "Asia/Katmandu",
    "Central Asia Standard Time": "Asia/Bishkek",
    "Bangladesh Standard Time": "Asia/Dhaka",
    "Omsk Standard Time": "Asia/Omsk",
    "Myanmar Standard Time": "Asia/Rangoon",
    "SE Asia Standard Time": "Asia/Bangkok",
    "Altai Standard Time": "Asia/Barnaul",
    "W. Mongolia Standard Time": "Asia/Hovd",
    "North Asia Standard Time": "Asia/Krasnoyarsk",
    "N. Central Asia Standard Time": "Asia/Novosibirsk",
    "Tomsk Standard Time": "Asia/Tomsk",
    "China Standard Time": "Asia/Shanghai",
    "North Asia East Standard Time": "Asia/Irkutsk",
    "Singapore Standard Time": "Asia/Singapore",
    "W. Australia Standard Time": "Australia/Perth",
    "Taipei Standard Time": "Asia/Taipei",
    "Ulaanbaatar Standard Time": "Asia/Ulaanbaatar",
    "Aus Central W. Standard Time": "Australia/Eucla",
    "Transbaikal Standard Time": "Asia/Chita",
    "Tokyo Standard Time": "Asia/Tokyo",
    "North Korea Standard Time": "Asia/Pyongyang",
    "Korea Standard Time": "Asia/Seoul",
    "Yakutsk Standard Time": "Asia/Yakutsk",
    "Cen. Australia Standard Time": "Australia/Adelaide",
    "AUS Central Standard Time": "Australia/Darwin",
    "E. Australia Standard Time": "Australia/Brisbane",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "West Pacific Standard Time": "Pacific/Port_Moresby",
    "Tasmania Standard Time": "Australia/Hobart",
    "Vladivostok Standard Time": "Asia/Vladivostok",
    "Lord Howe Standard Time": "Australia/Lord_Howe",
    "Bougainville Standard Time": "Pacific/Bougainville",
    "Russia Time Zone 10": "Asia/Srednekolymsk",
    "Magadan Standard Time": "Asia/Magadan",
    "Norfolk Standard Time": "Pacific/Norfolk",
    "Sakhalin Standard Time": "Asia/Sakhalin",
    "Central Pacific Standard Time": "Pacific/Guadalcanal",
    "Russia Time Zone 11": "Asia/Kamchatka",
    "New Zealand Standard Time": "Pacific/Auckland",
    "UTC+12": "Etc/GMT-12",
    "Fiji Standard Time": "Pacific/Fiji",
    "Chatham Islands Standard Time": "Pacific/Chatham",
    "UTC+13": "Etc/GMT-13",
    "Tonga Standard Time": "Pacific/Tongatapu",
    "Samoa Standard Time": "Pacific/Apia",
    "Line Islands Standard Time": "Pacific/Kiritimati",
}

#: IANA zones that are not the golden zone of a Windows name, mapped as CLDR's territory rows
#: map them (common zones only). Where CLDR's newest Windows names (``British Columbia
#: Standard Time``, ``Alberta Standard Time``, ``Manitoba Standard Time``, 2024) may be
#: unknown to older Exchange servers, the long-standing Windows zone with the same rules is
#: used instead; a unit test checks that every zone here keeps the offsets of its Windows zone.
EXTRA_IANA_TO_WINDOWS: dict[str, str] = {
    # Europe
    "Europe/Amsterdam": "W. Europe Standard Time",
    "Europe/Andorra": "W. Europe Standard Time",
    "Europe/Rome": "W. Europe Standard Time",
    "Europe/Vienna": "W. Europe Standard Time",
    "Europe/Zurich": "W. Europe Standard Time",
    "Europe/Stockholm": "W. Europe Standard Time",
    "Europe/Oslo": "W. Europe Standard Time",
    "Europe/Luxembourg": "W. Europe Standard Time",
    "Europe/Monaco": "W. Europe Standard Time",
    "Europe/Malta": "W. Europe Standard Time",
    "Europe/Vaduz": "W. Europe Standard Time",
    "Europe/Gibraltar": "W. Europe Standard Time",
    "Europe/Brussels": "Romance Standard Time",
    "Europe/Copenhagen": "Romance Standard Time",
    "Europe/Madrid": "Romance Standard Time",
    "Europe/Prague": "Central Europe Standard Time",
    "Europe/Bratislava": "Central Europe Standard Time",
    "Europe/Belgrade": "Central Europe Standard Time",
    "Europe/Ljubljana": "Central Europe Standard Time",
    "Europe/Tirane": "Central Europe Standard Time",
    "Europe/Sarajevo": "Central European Standard Time",
    "Europe/Skopje": "Central European Standard Time",
    "Europe/Zagreb": "Central European Standard Time",
    "Europe/Dublin": "GMT Standard Time",
    "Europe/Lisbon": "GMT Standard Time",
    "Atlantic/Canary": "GMT Standard Time",
    "Atlantic/Madeira": "GMT Standard Time",
    "Europe/Helsinki": "FLE Standard Time",
    "Europe/Kyiv": "FLE Standard Time",
    "Europe/Riga": "FLE Standard Time",
    "Europe/Sofia": "FLE Standard Time",
    "Europe/Tallinn": "FLE Standard Time",
    "Europe/Vilnius": "FLE Standard Time",
    "Europe/Athens": "GTB Standard Time",
    "Asia/Nicosia": "GTB Standard Time",
    # Americas
    "America/Toronto": "Eastern Standard Time",
    "America/Detroit": "Eastern Standard Time",
    "America/Nassau": "Eastern Standard Time",
    "America/Kentucky/Louisville": "Eastern Standard Time",
    "America/Indiana/Indianapolis": "US Eastern Standard Time",
    "America/Winnipeg": "Central Standard Time",
    "America/Vancouver": "Pacific Standard Time",
    "America/Edmonton": "Mountain Standard Time",
    "America/Boise": "Mountain Standard Time",
    "America/Costa_Rica": "Central America Standard Time",
    "America/Lima": "SA Pacific Standard Time",
    "America/Panama": "SA Pacific Standard Time",
    "America/Puerto_Rico": "SA Western Standard Time",
    "America/Argentina/Buenos_Aires": "Argentina Standard Time",
    "America/Nuuk": "Greenland Standard Time",
    # Africa
    "Africa/Abidjan": "Greenwich Standard Time",
    "Africa/Accra": "Greenwich Standard Time",
    "Africa/Dakar": "Greenwich Standard Time",
    "Africa/Algiers": "W. Central Africa Standard Time",
    "Africa/Tunis": "W. Central Africa Standard Time",
    "Africa/Kinshasa": "W. Central Africa Standard Time",
    "Africa/Addis_Ababa": "E. Africa Standard Time",
    "Africa/Dar_es_Salaam": "E. Africa Standard Time",
    "Africa/Kampala": "E. Africa Standard Time",
    "Africa/Harare": "South Africa Standard Time",
    "Africa/Maputo": "South Africa Standard Time",
    "Africa/Lusaka": "South Africa Standard Time",
    # Asia and the Pacific
    "Asia/Kolkata": "India Standard Time",
    "Asia/Kathmandu": "Nepal Standard Time",
    "Asia/Yangon": "Myanmar Standard Time",
    "Asia/Hong_Kong": "China Standard Time",
    "Asia/Macau": "China Standard Time",
    "Asia/Kuala_Lumpur": "Singapore Standard Time",
    "Asia/Manila": "Singapore Standard Time",
    "Asia/Jakarta": "SE Asia Standard Time",
    "Asia/Ho_Chi_Minh": "SE Asia Standard Time",
    "Asia/Qatar": "Arab Standard Time",
    "Asia/Kuwait": "Arab Standard Time",
    "Asia/Bahrain": "Arab Standard Time",
    "Asia/Muscat": "Arabian Standard Time",
    "Australia/Melbourne": "AUS Eastern Standard Time",
    "Pacific/Guam": "West Pacific Standard Time",
    # UTC under its other names
    "UTC": "UTC",
    "Etc/UTC": "UTC",
    "Etc/Universal": "UTC",
    "Etc/Zulu": "UTC",
}

#: IANA names listed under "Additional time zones" on resources/datetimetimezone, sent as
#: they are. Names whose English spelling could not be checked (the page's Almaty and
#: Yangon rows) are left out: they are sent as Windows names, which are always accepted.
GRAPH_IANA_ZONES: frozenset[str] = frozenset(
    """
    Etc/GMT+12 Etc/GMT+11 Pacific/Honolulu America/Anchorage America/Santa_Isabel
    America/Los_Angeles America/Phoenix America/Chihuahua America/Denver America/Guatemala
    America/Chicago America/Mexico_City America/Regina America/Bogota America/New_York
    America/Indiana/Indianapolis America/Caracas America/Asuncion America/Halifax America/Cuiaba
    America/La_Paz America/Santiago America/St_Johns America/Sao_Paulo
    America/Argentina/Buenos_Aires America/Cayenne America/Godthab America/Montevideo
    America/Bahia Etc/GMT+2 Atlantic/Azores Atlantic/Cape_Verde Africa/Casablanca Etc/GMT
    Europe/London Atlantic/Reykjavik Europe/Berlin Europe/Budapest Europe/Paris Europe/Warsaw
    Africa/Lagos Africa/Windhoek Europe/Bucharest Asia/Beirut Africa/Cairo Asia/Damascus
    Africa/Johannesburg Europe/Kiev Europe/Istanbul Asia/Jerusalem Asia/Amman Asia/Baghdad
    Europe/Kaliningrad Asia/Riyadh Africa/Nairobi Asia/Tehran Asia/Dubai Asia/Baku
    Europe/Moscow Indian/Mauritius Asia/Tbilisi Asia/Yerevan Asia/Kabul Asia/Karachi
    Asia/Tashkent Asia/Kolkata Asia/Colombo Asia/Kathmandu Asia/Dhaka Asia/Yekaterinburg
    Asia/Bangkok Asia/Novosibirsk Asia/Shanghai Asia/Krasnoyarsk Asia/Singapore Australia/Perth
    Asia/Taipei Asia/Ulaanbaatar Asia/Irkutsk Asia/Tokyo Asia/Seoul Australia/Adelaide
    Australia/Darwin Australia/Brisbane Australia/Sydney Pacific/Port_Moresby Australia/Hobart
    Asia/Yakutsk Pacific/Guadalcanal Asia/Vladivostok Pacific/Auckland Etc/GMT-12 Pacific/Fiji
    Asia/Magadan Pacific/Tongatapu Pacific/Apia Pacific/Kiritimati
    """.split()
)

#: IANA zone -> Windows name: the golden zones of :data:`WINDOWS_TO_IANA`, then the extra rows.
IANA_TO_WINDOWS: dict[str, str] = {
    **{iana: windows for windows, iana in WINDOWS_TO_IANA.items()},
    **EXTRA_IANA_TO_WINDOWS,
}

_WINDOWS_BY_LOWER = {name.lower(): name for name in WINDOWS_TO_IANA}


def windows_name(value: str) -> str | None:
    """The Windows zone name ``value`` spells (any case), or ``None`` if it is not one."""
    return _WINDOWS_BY_LOWER.get(value.strip().lower())


def zone_info(name: str) -> ZoneInfo:
    """The :class:`~zoneinfo.ZoneInfo` of an IANA name or a Windows name (its golden IANA zone).

    :raises InvalidRequestError: for a name that is neither
    """
    windows = windows_name(name)
    try:
        return ZoneInfo(WINDOWS_TO_IANA[windows] if windows else name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequestError(
            "time_zone",
            f"{name!r} is not a time zone: give an IANA name such as 'Europe/Berlin' or a Windows "
            "name such as 'W. Europe Standard Time'",
        ) from None


def graph_time_zone(name: str) -> str:
    """The name to send in ``dateTimeTimeZone.timeZone`` for zone ``name`` (IANA or Windows).

    A Windows name is sent as Windows spells it, an IANA name listed by Graph as it is, any
    other IANA name as its Windows name.

    :param name: the zone, e.g. ``Europe/Zurich`` (sent as ``W. Europe Standard Time``)
    :raises InvalidRequestError: an unknown zone, or one without a Windows name here
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequestError("time_zone", f"must be a zone name such as 'Europe/Berlin', got {name!r}")
    windows = windows_name(name)
    if windows:
        return windows
    zone_info(name)  # an unknown name is refused with its own message
    if name in GRAPH_IANA_ZONES:
        return name
    if name in IANA_TO_WINDOWS:
        return IANA_TO_WINDOWS[name]
    raise InvalidRequestError(
        "time_zone",
        f"{name!r} is a valid IANA zone, but Graph does not list it and this provider knows no Windows "
        "name for it; pass time_zone= with the Windows name of a zone with the same rules (Windows: "
        "Get-TimeZone -ListAvailable; Unicode CLDR windowsZones.xml lists the mapping)",
    )


def zone_name_of(tz: tzinfo | None) -> str | None:
    """The IANA name behind a datetime's ``tzinfo`` (zoneinfo's ``key``, pendulum's ``name``),
    ``UTC`` for a zero offset, or ``None`` for a fixed offset that names no zone.

    An ISO string's ``tzinfo`` is its offset (``graph.values.to_aware`` keeps it): ``Z`` and
    ``+00:00`` give ``UTC``, ``+01:00`` gives ``None``, as the same ``tzinfo`` of a datetime does.
    """
    if tz is None:
        return None
    for attribute in ("key", "name", "zone"):
        value = getattr(tz, attribute, None)
        if isinstance(value, str) and value and not value.startswith(("+", "-")):
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return value
    probe = tz.utcoffset(None)
    if probe is not None and probe.total_seconds() == 0:
        return "UTC"
    return None
