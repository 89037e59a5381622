"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

The connection form is data (``conn-fields`` and ``ui-field-behaviour``, Airflow 3.2+),
so the UI renders it without importing the hook. Keep the field names in step with
:data:`airflow_provider_meetings.graph.settings.KNOWN_EXTRAS`.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_meetings import __version__

PACKAGE_NAME = "airflow-provider-meetings"
INTEGRATION_NAME = "Microsoft Teams online meetings (Microsoft Graph)"
CONN_TYPE = "msgraph_meetings"
HOOK_CLASS_NAME = "airflow_provider_meetings.hooks.online_meetings.OnlineMeetingsHook"


def _string(label: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["string", "null"], **schema}}


def _secret(label: str, description: str) -> dict[str, Any]:
    return _string(label, description, format="password")


def _number(label: str, description: str, kind: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": [kind, "null"], **schema}}


CONN_FIELDS: dict[str, dict[str, Any]] = {
    "tenant_id": _string("Tenant ID", "Directory (tenant) id or verified domain of the app registration. Required."),
    "cloud": _string(
        "Cloud",
        "Microsoft cloud: global (also M365 GCC), usgov (GCC High), dod, china. createOrGet is not available in china.",
        default="global",
        enum=["global", "usgov", "dod", "china"],
    ),
    "authority_host": _string(
        "Authority host override",
        "Entra login host, e.g. https://login.microsoftonline.com. Leave empty to use the cloud's.",
    ),
    "api_version": _string(
        "Graph API version",
        "v1.0 (default) or beta (global cloud only).",
        default="v1.0",
        enum=["v1.0", "beta"],
    ),
    "verify": _string(
        "TLS verification",
        "true (default), false (not recommended), or the path of a CA bundle. "
        "Wins over REQUESTS_CA_BUNDLE for both Entra and Graph requests.",
    ),
    "proxies": _string("Proxies (JSON)", 'Scheme to proxy URL, e.g. {"https": "http://proxy:3128"}.', format="json"),
    "timeout": _number("Timeout (s)", "Seconds per HTTP request (default 30).", "number", minimum=0.1),
    "certificate_path": _string(
        "Certificate PEM path",
        "PEM file with the private key and the certificate registered on the app (instead of a secret).",
    ),
    "certificate_thumbprint": _string(
        "Certificate thumbprint", "SHA-1 thumbprint (hex); computed from the certificate when empty."
    ),
    "private_key_password": _secret("Private key password", "Passphrase of an encrypted private key."),
    "federated_token_file": _string(
        "Federated token file",
        "Workload identity token file; defaults to AZURE_FEDERATED_TOKEN_FILE when no secret or certificate.",
    ),
    "default_user_id": _string(
        "Default organizer",
        "Entra object id or UPN of the organizer when a task names none (a UPN needs User.Read.All; delegated: User.ReadBasic.All).",
    ),
    "refresh_token": _secret(
        "Refresh token (delegated)", "Act as a user: meetings are created under /me unless a user is named."
    ),
    "token_cache_path": _string(
        "Token cache file",
        "Absolute path of a token cache shared by the tasks of one machine (opt-in): one token request per "
        "worker, not per task, and the newest rotated refresh token. Holds tokens: created 0600.",
    ),
    "max_retries": _number(
        "Max retries",
        "Retries of failed requests (408/424/500/502/503/504, network); throttling (429) does not count.",
        "integer",
        default=6,
        minimum=0,
    ),
    "max_retry_wait": _number(
        "Max retry wait (s)",
        "Total seconds one call may spend waiting between retries.",
        "number",
        default=300,
        minimum=0,
    ),
    "bulk_concurrency": _number(
        "Bulk concurrency",
        "Parallel requests of bulk provisioning (1-32).",
        "integer",
        default=4,
        minimum=1,
        maximum=32,
    ),
    "rate_budget": _string(
        "Shared rate budget",
        "Where the request rate shared by every process of this tenant and app lives: file (default: one "
        "machine, beside the token cache), redis (several machines: set the Redis URL), database (the Airflow "
        "metadata database), off (each process paces itself).",
        default="file",
        enum=["file", "redis", "database", "off"],
    ),
    "rate_budget_url": _secret(
        "Rate budget Redis URL", "redis://host:6379/2 for rate_budget redis (may hold a password)."
    ),
    "check_artifacts": _string(
        "Check artifact permissions",
        "The meeting artifacts your DAGs fetch (attendance, transcript, recording, comma-separated): the "
        "connection's Test also checks that the token carries their permissions.",
    ),
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {
        "login": "Client ID",
        "password": "Client secret",
        "host": "Graph URL override",
    },
    "placeholders": {
        "login": "application (client) id of the app registration",
        "password": "client secret (leave empty for a certificate or federated credential)",
        "host": "https://graph.microsoft.com (default for the cloud)",
        "tenant_id": "00000000-0000-0000-0000-000000000000",
        "default_user_id": "organizer's Entra object id or UPN",
        "certificate_path": "/opt/airflow/secrets/meetings-app.pem",
        "proxies": '{"https": "http://proxy:3128"}',
        "verify": "true",
        "token_cache_path": "/var/lib/airflow/meetings/token-cache.json",
        "rate_budget_url": "redis://redis:6379/2",
        "check_artifacts": "attendance, transcript, recording",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata (the same shape as Airflow's own ``provider.yaml``)."""
    return {
        "package-name": PACKAGE_NAME,
        "name": "Microsoft Teams Meetings",
        # provider.yaml's list of released versions, newest first; this build's only.
        "versions": [__version__],
        "description": (
            "Create or reuse Microsoft Teams online meetings through Microsoft Graph ``onlineMeetings/createOrGet``."
        ),
        "integrations": [
            {
                "integration-name": INTEGRATION_NAME,
                "external-doc-url": "https://learn.microsoft.com/graph/api/onlinemeeting-createorget",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": INTEGRATION_NAME,
                "python-modules": [
                    "airflow_provider_meetings.operators.online_meetings",
                    "airflow_provider_meetings.operators.calendar_events",
                    "airflow_provider_meetings.operators.meeting_artifacts",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": INTEGRATION_NAME,
                "python-modules": ["airflow_provider_meetings.sensors.meeting_artifacts"],
            }
        ],
        "triggers": [
            {
                "integration-name": INTEGRATION_NAME,
                "python-modules": ["airflow_provider_meetings.triggers.meeting_artifacts"],
            }
        ],
        "hooks": [
            {
                "integration-name": INTEGRATION_NAME,
                "python-modules": ["airflow_provider_meetings.hooks.online_meetings"],
            }
        ],
        "connection-types": [
            {
                "hook-class-name": HOOK_CLASS_NAME,
                "hook-name": "Microsoft Teams Meetings (Graph)",
                "connection-type": CONN_TYPE,
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "extra-links": [
            "airflow_provider_meetings.links.online_meetings.JoinTeamsMeetingLink",
            "airflow_provider_meetings.links.calendar_events.JoinTeamsEventLink",
            "airflow_provider_meetings.links.calendar_events.OutlookEventLink",
        ],
    }
