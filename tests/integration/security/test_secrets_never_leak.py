"""No secret anywhere: client secret, private key and its password, refresh tokens (the
connections' and every rotated one), and every access token the emulator issued are absent
from DAG-run logs (successful and failed runs, through ``airflow dags test``), XCom,
exception texts, ``repr()`` of the hook, its token source and cache and its results, and the
emulator's own error answers. Public clients' refresh tokens and the token cache file are
covered too (the cache file itself holds tokens; it is 0600 and never logged).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_testlib import REPO, all_xcom_values

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db"), pytest.mark.timeout(150)]

DAG_ID = "issue6_secret_leaks"
WRONG_SECRET = "wrong-secret-~Lk9-issue6-never-in-a-log"

DAG_SOURCE = """
from airflow.sdk import DAG

from airflow_provider_meetings.operators.online_meetings import (
    BulkCreateOrGetOnlineMeetingsOperator,
    CreateOrGetOnlineMeetingOperator,
)

single = CreateOrGetOnlineMeetingOperator
with DAG(dag_id="{dag_id}", schedule=None, catchup=False) as dag:
    single(task_id="ok_secret", conn_id="issue6_secret", external_id="leak-secret-{{{{ ds }}}}")
    single(task_id="ok_certificate", conn_id="issue6_certificate", external_id="leak-cert-{{{{ ds }}}}")
    single(task_id="ok_delegated", conn_id="issue6_delegated", external_id="leak-me-{{{{ ds }}}}")
    single(task_id="ok_public_cached", conn_id="issue6_public", external_id="leak-public-{{{{ ds }}}}")
    single(task_id="ok_public_cached_again", conn_id="issue6_public", external_id="leak-public-2-{{{{ ds }}}}")
    BulkCreateOrGetOnlineMeetingsOperator(
        task_id="ok_bulk", conn_id="issue6_secret",
        meetings=[{{"external_id": f"leak-bulk-{{n}}"}} for n in range(25)],
    )
    single(task_id="bad_secret", conn_id="issue6_wrong_secret", external_id="leak-never")
    single(task_id="unauthorized_401", conn_id="issue6_expired_tokens", external_id="leak-never")
    single(task_id="public_with_secret", conn_id="issue6_public_with_secret", external_id="leak-never")
    single(task_id="expired_refresh_token", conn_id="issue6_expired_refresh", external_id="leak-never")
    single(task_id="forbidden_403", conn_id="issue6_secret", external_id="leak-never", user_id="{nopolicy}")
    BulkCreateOrGetOnlineMeetingsOperator(
        task_id="bulk_forbidden_403", conn_id="issue6_secret",
        meetings=[{{"external_id": "leak-bulk-403", "user_id": "{nopolicy}"}}],
    )
"""


@pytest.fixture(scope="module")
def expired_token_emulator() -> Iterator[Any]:
    """Every token it issues is already expired: Graph answers 401 twice and the task fails;
    refresh tokens too: AADSTS700082."""
    from meetings_emulator import run_emulator

    with run_emulator(token_lifetime=0, refresh_token_lifetime=0) as emu:
        yield emu


def pem_body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


@pytest.fixture(scope="module")
def dag_run_output(
    graph_emulator, expired_token_emulator, certificate_files, dags_folder, airflow_home, airflow_db, tmp_path_factory
) -> dict[str, Any]:
    """Run the DAG once with ``airflow dags test``; return everything it printed and wrote."""
    graph_emulator.reset(tokens=True)
    graph_emulator.add_certificate(certificate_files["cert_pem"])
    env = dict(os.environ)
    env.update(graph_emulator.environment("issue6_secret"))
    env.update(graph_emulator.environment("issue6_wrong_secret", password=WRONG_SECRET))
    env.update(
        graph_emulator.environment(
            "issue6_certificate",
            password=None,
            certificate_path=certificate_files["paths"]["encrypted"],
            private_key_password=certificate_files["password"],
        )
    )
    env.update(
        graph_emulator.environment(
            "issue6_delegated",
            refresh_token=graph_emulator.refresh_token,
            default_user_id=None,
        )
    )
    env.update(expired_token_emulator.environment("issue6_expired_tokens"))
    public = {"refresh_token": graph_emulator.public_refresh_token, "default_user_id": None}
    cache = tmp_path_factory.mktemp("token-cache") / "cache.json"
    env.update(graph_emulator.environment("issue6_public", password=None, token_cache_path=str(cache), **public))
    env.update(graph_emulator.environment("issue6_public_with_secret", **public))
    env.update(
        expired_token_emulator.environment(
            "issue6_expired_refresh",
            password=None,
            refresh_token=expired_token_emulator.public_refresh_token,
            default_user_id=None,
        )
    )
    nopolicy = graph_emulator.user("nopolicy")["id"]
    (dags_folder / f"{DAG_ID}.py").write_text(DAG_SOURCE.format(dag_id=DAG_ID, nopolicy=nopolicy))

    logs_before = set((airflow_home / "logs").rglob("*")) if (airflow_home / "logs").exists() else set()
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", DAG_ID, "2026-11-28"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    log_files = (
        [p for p in (airflow_home / "logs").rglob("*") if p.is_file() and p not in logs_before]
        if (airflow_home / "logs").exists()
        else []
    )
    return {
        "result": result,
        "text": result.stdout + result.stderr + "".join(p.read_text(errors="replace") for p in log_files),
        "xcom": all_xcom_values(DAG_ID),
        "tokens": graph_emulator.issued_tokens()
        + expired_token_emulator.issued_tokens()
        + graph_emulator.issued_refresh_tokens()
        + expired_token_emulator.issued_refresh_tokens(),
        "cache": cache,
    }


@pytest.fixture(scope="module")
def secrets(graph_emulator, certificate_files) -> dict[str, str]:
    """Every secret value by name (private keys line by line)."""
    values = {
        "client secret": graph_emulator.client_secret,
        "wrong client secret": WRONG_SECRET,
        "private key password": certificate_files["password"],
        "refresh token": graph_emulator.refresh_token,
        "public refresh token": graph_emulator.public_refresh_token,
    }
    for n, line in enumerate(pem_body_lines(certificate_files["key_pem"])):
        values[f"private key line {n}"] = line
    encrypted = Path(certificate_files["paths"]["encrypted"]).read_text().split("-----BEGIN CERTIFICATE-----")[0]
    for n, line in enumerate(pem_body_lines(encrypted)):
        values[f"encrypted private key line {n}"] = line
    return values


def leaks(haystack: str, secrets: dict[str, str], tokens: list[str]) -> list[str]:
    found = [name for name, value in secrets.items() if value and value in haystack]
    found += [f"access token {t[:6]}..." for t in tokens if t in haystack]
    return found


def test_the_runs_did_what_the_leak_check_assumes(dag_run_output, graph_emulator, secrets):
    """The haystack is real: the runs succeeded and failed as planned, and logged it; the
    needle finder finds a planted secret."""
    text = dag_run_output["text"]
    token = dag_run_output["tokens"][0]
    assert leaks(f"x{secrets['private key line 3']}x Bearer {token}", secrets, [token]) == [
        "private key line 3",
        f"access token {token[:6]}...",
    ]
    for expected in (
        "Created Teams meeting",
        "AADSTS7000215",
        "401 InvalidAuthenticationToken",
        "403 Forbidden: No Application Access Policy found",
        "25 meeting(s): 25 created",
        "AADSTS700025",
        "minted by a public client",
        "AADSTS700082",
        "login --conn-id issue6_expired_refresh",
    ):
        assert expected in text, expected
    assert len(dag_run_output["tokens"]) >= 6  # app, certificate, delegated, public, rotated, expired ones
    made = {m["external_id"] for m in graph_emulator.meetings()}
    assert {
        "leak-secret-2026-11-28",
        "leak-cert-2026-11-28",
        "leak-me-2026-11-28",
        "leak-public-2026-11-28",
        "leak-public-2-2026-11-28",
    } <= made
    cached = dag_run_output["cache"].read_text()  # the cache holds tokens: the needles are real
    assert any(token in cached for token in dag_run_output["tokens"])


def test_no_secret_in_dag_run_logs(dag_run_output, secrets):
    assert leaks(dag_run_output["text"], secrets, dag_run_output["tokens"]) == []


def test_no_secret_in_xcom(dag_run_output, secrets):
    assert dag_run_output["xcom"], "the successful tasks pushed no XCom"
    assert leaks(repr(dag_run_output["xcom"]), secrets, dag_run_output["tokens"]) == []


def test_no_secret_in_exceptions_reprs_or_results(make_hook, graph_emulator, certificate_files, secrets, tmp_path):
    """The same failures in-process: exception texts, hook, settings and results."""
    from meetings_emulator import run_emulator

    graph_emulator.add_certificate(certificate_files["cert_pem"])
    seen: list[str] = []
    cert = make_hook(
        password=None,
        certificate_path=certificate_files["paths"]["encrypted"],
        private_key_password=certificate_files["password"],
    )
    delegated = make_hook(refresh_token=graph_emulator.refresh_token, default_user_id=None)
    public = make_hook(
        password=None,
        refresh_token=graph_emulator.public_refresh_token,
        default_user_id=None,
        token_cache_path=str(tmp_path / "cache.json"),
    )
    ok = make_hook()
    for hook in (cert, delegated, public, ok):
        result = hook.create_or_get_meeting(f"repr-{len(seen)}")
        seen += [repr(hook), repr(hook.settings), str(hook.settings), repr(result)]
        seen += [repr(hook.client.tokens), repr(hook.client.tokens.cache), repr(hook.client.tokens.app)]
    graph_emulator.expire_tokens()  # the public hook renews with its rotated refresh token
    seen.append(repr(public.create_or_get_meeting("repr-renewed")))
    bulk = ok.create_or_get_meetings(
        [{"external_id": "repr-bulk"}, {"external_id": "x", "user_id": graph_emulator.user("nopolicy")["id"]}]
    )
    seen += [repr(bulk), repr([r.to_dict() for r in bulk])]
    with run_emulator(token_lifetime=0, refresh_token_lifetime=0) as expired:
        failing = [
            (make_hook(password=WRONG_SECRET), {}),
            (make_hook(expired), {}),
            (make_hook(refresh_token=graph_emulator.public_refresh_token, default_user_id=None), {}),  # 700025
            (make_hook(password=None, refresh_token=graph_emulator.refresh_token, default_user_id=None), {}),  # 7000218
            (make_hook(expired, password=None, refresh_token=expired.public_refresh_token, default_user_id=None), {}),
            (ok, {"user_id": graph_emulator.user("nopolicy")["id"]}),
            (
                make_hook(
                    password=None,
                    certificate_path=certificate_files["paths"]["encrypted"],
                    private_key_password="not-the-password",
                ),
                {},
            ),
        ]
        for hook, kwargs in failing:
            with pytest.raises(Exception) as caught:
                hook.create_or_get_meeting("repr-never", **kwargs)
            chain = caught.value
            while chain is not None:
                seen += [str(chain), repr(chain)]
                chain = chain.__cause__ or chain.__context__
            seen.append(repr(hook))
        tokens = graph_emulator.issued_tokens() + expired.issued_tokens()
        tokens += graph_emulator.issued_refresh_tokens() + expired.issued_refresh_tokens()
        secrets = {**secrets, "expired emulator's public refresh token": expired.public_refresh_token}
    assert tokens and graph_emulator.issued_refresh_tokens()
    assert any("AADSTS700025" in text for text in seen) and any("AADSTS700082" in text for text in seen)
    assert leaks("\n".join(seen), secrets, tokens) == []


def test_emulator_error_answers_do_not_echo_credentials(graph_emulator, secrets):
    """The emulator's 400/401 bodies (token endpoint and Graph) name no secret or token."""
    import requests

    session = requests.Session()
    session.trust_env = False
    token_url = f"{graph_emulator.url}/{graph_emulator.tenant_id}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": graph_emulator.client_id,
        "scope": "https://graph.microsoft.com/.default",
    }
    answers = [
        session.post(token_url, data={**form, "client_secret": WRONG_SECRET}, verify=graph_emulator.ca_path, timeout=5),
        session.post(
            token_url.replace(graph_emulator.tenant_id, "00000000-0000-0000-0000-00000000dead"),
            data={**form, "client_secret": WRONG_SECRET},
            verify=graph_emulator.ca_path,
            timeout=5,
        ),
    ]
    good = session.post(
        token_url,
        data={**form, "client_secret": graph_emulator.client_secret},
        verify=graph_emulator.ca_path,
        timeout=5,
    ).json()["access_token"]
    graph_emulator.expire_tokens()
    create = f"{graph_emulator.url}/v1.0/users/{graph_emulator.default_user_id}/onlineMeetings/createOrGet"
    for token in (good, WRONG_SECRET):
        answers.append(
            session.post(
                create,
                json={"externalId": "echo"},
                headers={"Authorization": f"Bearer {token}"},
                verify=graph_emulator.ca_path,
                timeout=5,
            )
        )
    assert sorted(a.status_code for a in answers) == [400, 401, 401, 401]
    bodies = "\n".join(a.text + repr(dict(a.headers)) for a in answers)
    assert leaks(bodies, secrets, [good]) == []
