"""Entra ID's HTTP endpoints: thin handlers over :class:`~meetings_emulator.service.EmulatorService`.

Each handler takes ``(service, request, match)``, where ``match`` is the path match of its
route in ``routes.py``, and returns a :class:`~meetings_emulator.messages.Reply`:

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (discovery);
- ``POST /{tenant}/oauth2/v2.0/token`` (every grant; scripted token faults apply here);
- ``POST /{tenant}/oauth2/v2.0/devicecode`` (device authorization, for the device code flow);
- ``GET /{tenant}/discovery/v2.0/keys`` and ``/{tenant}/discovery/keys`` (the signing keys);
- ``GET /devicelogin`` (the ``verification_uri``: how to approve a code in the emulator).

The grants themselves are checked in ``tokens.py``; the Entra controls (app roles, users,
device code approval) are in ``control.py``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from meetings_emulator.errors import NO_STORE, EntraError, tenant_not_found
from meetings_emulator.fault_replies import strike
from meetings_emulator.messages import HttpRequest, Reply
from meetings_emulator.service import EmulatorService

log = logging.getLogger("meetings_emulator")

#: Tenant aliases Entra serves keys for besides a tenant id or domain.
KEY_ALIASES = ("common", "organizations")


def _form(request: HttpRequest) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))


def _correlation_id(request: HttpRequest) -> str | None:
    """The client's ``client-request-id``, which Entra's error bodies echo as ``correlation_id``."""
    return request.headers.get("client-request-id") or None


def _refused(error: EntraError, correlation_id: str | None) -> Reply:
    """Entra's error answer: the body of ``error`` (``correlation_id``: the client's
    ``client-request-id``, else a new one), not cached (``NO_STORE``)."""
    return Reply(error.status, error.body(correlation_id), error.headers)


def openid_configuration(service: EmulatorService, request: HttpRequest, match: re.Match[str]) -> Reply:
    """``GET /{tenant}/v2.0/.well-known/openid-configuration``."""
    if not service.directory.is_tenant(match["tenant"]):
        return _refused(tenant_not_found(match["tenant"]), _correlation_id(request))
    base, tid = service.base_url, service.directory.tenant_id
    return Reply(
        200,
        {
            "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}/oidc/userinfo",
            "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{tid}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "tid", "oid"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "emulator.invalid",
            "msgraph_host": urlsplit(base).netloc,
        },
    )


def token_endpoint(service: EmulatorService, request: HttpRequest, match: re.Match[str]) -> Reply:
    """``POST /{tenant}/oauth2/v2.0/token``, with the scripted faults whose target is ``token``."""
    fault = service.take_fault("token", "POST", request.target)
    ids = ("", _correlation_id(request) or "")
    before = strike(fault, "before", service.sleep, graph=False, ids=ids)
    if before is not None:
        return before
    reply = issue_token(service, match["tenant"], _form(request), _correlation_id(request))
    return strike(fault, "after", service.sleep, graph=False, ids=ids) or reply


def issue_token(service: EmulatorService, tenant: str, form: Mapping[str, str], correlation_id: str | None) -> Reply:
    """The token endpoint's answer to one form, without faults.

    :param tenant: the tenant segment of the path.
    :param form: the form fields.
    :param correlation_id: the client's ``client-request-id``, echoed in error bodies.
    """
    base = service.base_url
    directory = service.directory
    endpoints = tuple(f"{base}/{t}/oauth2/v2.0/token" for t in (tenant, directory.tenant_id, directory.tenant_domain))
    issuer = f"{base}/{directory.tenant_id}/v2.0"
    with service.lock:
        service.stats.token_requests += 1
        try:
            body = service.tokens.token_request(tenant, form, endpoints, issuer, base)
        except EntraError as error:
            service.stats.token_errors += 1
            log.info(
                "token request refused: AADSTS%s %s (grant_type=%s)",
                error.code,
                error.error,
                form.get("grant_type"),
            )
            return _refused(error, correlation_id)
    log.info("token issued (grant_type=%s)", form.get("grant_type"))
    return Reply(200, body, dict(NO_STORE))


def device_authorization(service: EmulatorService, request: HttpRequest, match: re.Match[str]) -> Reply:
    """``POST /{tenant}/oauth2/v2.0/devicecode``."""
    with service.lock:
        try:
            body: Any = service.tokens.device_authorization(match["tenant"], _form(request), service.base_url)
        except EntraError as error:
            log.info("device code request refused: AADSTS%s %s", error.code, error.error)
            return _refused(error, _correlation_id(request))
    log.info("device code issued")
    return Reply(200, body, dict(NO_STORE))


def keys(service: EmulatorService, request: HttpRequest, match: re.Match[str]) -> Reply:
    """``GET /{tenant}/discovery/v2.0/keys``: the JSON Web Key Set that verifies the emulator's tokens."""
    tenant = match["tenant"]
    if not (service.directory.is_tenant(tenant) or tenant.lower() in KEY_ALIASES):
        return _refused(tenant_not_found(tenant), _correlation_id(request))
    issuer = f"{service.base_url}/{service.directory.tenant_id}/v2.0"
    return Reply(200, service.tokens.signing.jwks(issuer))


def device_login_page(service: EmulatorService, request: HttpRequest, match: re.Match[str]) -> Reply:
    """``GET /devicelogin``: the emulator has no sign-in page; say how a test or a person approves."""
    url = service.base_url
    text = (
        "Meetings emulator: device code sign-in\n\n"
        "There is no sign-in page. Approve a pending code as a user of the emulated tenant:\n\n"
        f"  curl --cacert CA.pem -X POST {url}/_emulator/device-codes/approve \\\n"
        '       -H "Content-Type: application/json" \\\n'
        '       -d \'{"user_code": "CODE", "user": "adelev@contoso.example"}\'\n\n'
        "or decline it at /_emulator/device-codes/decline; from Python: emulator.approve_device_code(...).\n"
    )
    return Reply(200, text, {"Content-Type": "text/plain; charset=utf-8"})
