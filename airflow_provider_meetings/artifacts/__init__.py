"""Meeting artifacts: attendance reports and records, transcripts and recordings (issue 23).

A resource on the generic Graph client, beside ``meetings/`` and ``events/`` (it uses
``events/`` to find the meeting behind a calendar event). See ``docs/artifacts.md``.
"""
