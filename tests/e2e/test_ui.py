"""The Airflow UI in a real browser (Playwright driving Debian's chromium).

Screenshots go to ``<stack>/screenshots/``; ``UPDATE_SCREENSHOTS=1 make e2e`` writes them
to ``docs/images/`` instead (the tutorial shows them).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from e2e_testlib import assert_meetings_exactly_once, past_anchor
from meetings_stack.config import CONN_ID

from airflow_provider_meetings.get_provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR

pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"  # meetings_dag_helpers: which session the weekly DAG books
if str(DAGS) not in sys.path:
    sys.path.insert(0, str(DAGS))
WEEKLY_DAG = "teams_weekly_office_hour"
WEEKLY_TASK = "create_or_get_office_hour"
HOOK_NAME = "Microsoft Teams Meetings (Graph)"


def screenshot_path(stack: Any, name: str) -> Path:
    folder = (
        REPO / "docs" / "images" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else stack.state_dir / "screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def open_new_connection_form(page: Any) -> Any:
    """The "Add Connection" dialog with the provider's connection type chosen; returns the dialog."""
    page.goto("/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("combobox").first.click()
    page.keyboard.type("Microsoft Teams")
    page.get_by_role("option", name=HOOK_NAME).click()
    return dialog


def expand_extra_fields(dialog: Any) -> None:
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    dialog.locator("#element_tenant_id").wait_for()


def test_the_connection_form_shows_the_providers_fields(browser_page, local_stack) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1100, "height": 2200})  # every field of the form on screen
    dialog = open_new_connection_form(page)
    labels = [text.strip() for text in dialog.locator("label").all_inner_texts()]
    # Standard fields, relabeled; schema and port hidden (ui-field-behaviour).
    for relabeled in UI_FIELD_BEHAVIOUR["relabeling"].values():
        assert relabeled in labels, labels
    assert "Port" not in labels and "Schema" not in labels, labels
    assert dialog.get_by_placeholder(UI_FIELD_BEHAVIOUR["placeholders"]["login"]).is_visible()

    expand_extra_fields(dialog)
    labels = [text.strip() for text in dialog.locator("label").all_inner_texts()]
    for name, field in CONN_FIELDS.items():
        assert field["label"] in labels, (name, labels)
        assert dialog.get_by_text(field["description"], exact=True).count() == 1, name
    dialog.locator("#element_tenant_id").fill("contoso.onmicrosoft.com")
    box = dialog.bounding_box()
    page.screenshot(
        path=str(screenshot_path(local_stack, "connection-form.png")),
        clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": min(box["height"], 760)},
    )


@pytest.fixture(scope="module")
def weekly_run(browser, local_stack) -> Iterator[dict[str, Any]]:
    """``msgraph_meetings_default`` saved through the UI form, then a run of the weekly DAG using it."""
    api, emulator = local_stack.api, local_stack.emulator
    emu = local_stack.emulator_connection()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=local_stack.info["api_url"])
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        _log_in(page, local_stack)
        api.delete_connection(CONN_ID)
        dialog = open_new_connection_form(page)
        dialog.get_by_label("Connection ID").fill(CONN_ID)
        dialog.get_by_label("Graph URL override").fill(emu["host"])
        dialog.get_by_label("Client ID").fill(emu["login"])
        dialog.get_by_label("Client secret").fill(emu["password"])
        expand_extra_fields(dialog)
        for name in ("tenant_id", "authority_host", "verify", "default_user_id"):
            dialog.locator(f"#element_{name}").fill(emu["extra"][name])
        dialog.get_by_role("button", name="Save").click()
        dialog.wait_for(state="hidden")
        page.get_by_role("row").filter(has_text=CONN_ID).wait_for()
    finally:
        context.close()

    saved = api.connection(CONN_ID)
    emulator.reset()
    anchor = past_anchor(2).replace(hour=7)  # the weekly DAG's 08:00 Paris tick
    run = api.trigger(WEEKLY_DAG, logical_date=anchor.isoformat(), conf={})
    api.set_paused(WEEKLY_DAG, False)
    finished = api.wait_for_run(WEEKLY_DAG, run["dag_run_id"], timeout=300)
    yield {"saved": saved, "run": finished, "anchor": anchor}


def _log_in(page: Any, stack: Any) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(stack.info["username"])
    page.get_by_label("Password").fill(stack.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Dags").first.wait_for()


def test_a_connection_saved_through_the_form_works_in_a_dag_run(weekly_run, local_stack) -> None:
    import json

    saved, run = weekly_run["saved"], weekly_run["run"]
    emu = local_stack.emulator_connection()
    assert saved["conn_type"] == "msgraph_meetings" and saved["host"] == emu["host"]
    assert saved["login"] == emu["login"] and saved["password"] == "***"  # stored, shown masked
    extra = json.loads(saved["extra"])
    for name in ("tenant_id", "authority_host", "verify", "default_user_id"):
        assert extra[name] == emu["extra"][name]
    # Fields left empty are saved as null, the enums and numbers with their defaults.
    assert extra["timeout"] is None and extra["cloud"] == "global" and extra["max_retries"] == 6

    states = local_stack.api.task_states(WEEKLY_DAG, run["dag_run_id"])
    assert run["state"] == "success", states
    # The triggered (manual) run books the first session at or after its logical date; its
    # date is the external id. The e2e stack starts no scheduled run (STACK_SCHEDULES=off);
    # were it to run the latest cron tick on unpause, that run would book the session after
    # the next tick (maybe the same meeting): count the meeting of the triggered run.
    from meetings_dag_helpers.window import WEEKLY_TICK_ZONE, occurrence_window

    start, _ = occurrence_window(weekly_run["anchor"], start_offset=timedelta(minutes=360), duration=timedelta(hours=1))
    external_id = f"{WEEKLY_DAG}-{start.astimezone(WEEKLY_TICK_ZONE):%Y-%m-%d}"
    assert_meetings_exactly_once(local_stack.emulator, {external_id}, external_id)


def test_the_details_tab_links_to_the_meeting(weekly_run, browser_page, local_stack) -> None:
    run_id = weekly_run["run"]["dag_run_id"]
    meeting = local_stack.api.xcom(WEEKLY_DAG, run_id, WEEKLY_TASK)
    page = browser_page
    page.goto(f"/dags/{WEEKLY_DAG}/runs/{quote(run_id, safe='')}/tasks/{WEEKLY_TASK}")
    page.get_by_role("link", name="Details", exact=True).click()
    link = page.get_by_role("link", name="Join Teams meeting")
    link.wait_for()
    assert link.get_attribute("href") == meeting["joinWebUrl"]
    assert meeting["joinWebUrl"].startswith("https://teams.microsoft.com/l/meetup-join/")
    page.screenshot(
        path=str(screenshot_path(local_stack, "task-details-join-link.png")),
        clip={"x": 0, "y": 0, "width": 1280, "height": 520},
    )


def test_the_test_button_on_airflow_3_3(browser_page, local_stack) -> None:
    """The UI's Test button posts ``port: 0`` and the masked secret ``***``. Airflow 3.3.2
    answered 400 for every connection without a port; 3.3 releases with apache/airflow#73298
    test the posted values instead, masked secret and all. Either way the stored secret is not
    used: the provider must say so, not blame the secret. docs/connection.md has the workaround."""
    page = browser_page
    page.goto("/connections")
    row = page.get_by_role("row").filter(has_text=CONN_ID)
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test")) as answer:
        row.get_by_role("button", name="Test Connection").click()
    response = answer.value
    assert response.request.post_data_json["port"] == 0
    if response.status == 200 and response.json().get("status") is True:
        pytest.xfail("the Test button works on this Airflow: drop the workaround from docs/connection.md")
    if response.status == 400:
        assert "host or port to test differs" in response.json()["detail"]
        return
    assert response.status == 200, response.text()
    assert response.request.post_data_json["password"] == "***"
    message = response.json()["message"]
    assert "Check 1/7 (Connection fields) failed" in message and "'***', Airflow's mask" in message, message
    assert "AADSTS" not in message, message
