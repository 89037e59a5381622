"""Generic Microsoft Graph: settings, errors, transport, the retry policy, the client and ``$batch``.

Nothing here knows a resource (online meetings, events): resources live beside this package
(``airflow_provider_meetings.meetings``) and send their requests through it. See
docs/architecture.md for what each layer may import.
"""
