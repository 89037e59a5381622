"""Calendar events (Outlook) with a Teams link: the second resource beside ``meetings``.

``request`` validates and builds bodies, ``timezones`` names zones the way Graph accepts,
``recurrence`` turns an iCalendar ``RRULE`` into Graph's ``patternedRecurrence``, ``diff``
compares an event with what was asked, ``bulk`` plans a bulk call's items and steps,
``results`` holds what calls return, and ``api`` sends through :class:`~airflow_provider_meetings.graph.client.GraphRestClient`.
"""
