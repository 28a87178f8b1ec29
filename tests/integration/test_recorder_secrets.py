"""The PIN leaves no trace in a real Home Assistant: database, storage, traces, debug log.

Home Assistant's recorder writes ``call_service`` events (with the action's
data) and states to ``home-assistant_v2.db``, kept for days and in every
backup; automations keep traces. This test runs the recorder on a real SQLite
file, an automation that reacts to new operations, and every flow that takes
a PIN (approval, history, offline signing, removal), right and wrong, through
the card's websocket commands, with the integration's debug log on. Then it
looks for the PIN's digits in the database files, ``.storage``, the traces and
the log. A control proves the search can fail: the data of an ordinary action
(a rejection reason) is found in the database.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Final

import pytest
import voluptuous as vol
from homeassistant.components import automation
from homeassistant.components.recorder import Recorder
from homeassistant.const import CONF_PIN
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.mobile_token.const import (
    CONF_PIN_CONFIRM,
    DOMAIN,
    EVENT_OPERATION_ADDED,
)

from .conftest import activation_input, create_operation, start_flow

# Distinctive: eight digits never found by chance in ids, counters or timestamps.
PIN: Final = "73915062"
WRONG_PIN: Final = "73916284"
# What an ordinary action's data looks like in the database: the control.
REASON: Final = "RECORDED_REASON_CONTROL"
DB_NAME: Final = "home-assistant_v2.db"


@pytest.fixture
def recorder_db_url(tmp_path: Path) -> str:
    """The recorder on a real SQLite file, as in a user's configuration directory."""
    return f"sqlite:///{tmp_path / DB_NAME}"


async def _command(client: Any, message: dict[str, Any]) -> dict[str, Any]:
    await client.send_json_auto_id(message)
    while True:
        answer: dict[str, Any] = await client.receive_json()
        if answer["id"] == message["id"] and answer["type"] == "result":
            return answer


async def _activate(hass: HomeAssistant, emulator: Any) -> Any:
    result = await start_flow(hass, emulator)
    created = await emulator.admin.create_activation_code("alice")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            **activation_input(str(created["activationCode"])),
            CONF_PIN: PIN,
            CONF_PIN_CONFIRM: PIN,
        },
    )
    await hass.async_block_till_done()
    return result["result"]


async def _traces(client: Any) -> list[Any]:
    listed = await _command(client, {"type": "trace/list", "domain": "automation"})
    assert listed["success"], listed
    traces = []
    for item in listed["result"]:
        detail = await _command(
            client,
            {
                "type": "trace/get",
                "domain": "automation",
                "item_id": item["item_id"],
                "run_id": item["run_id"],
            },
        )
        traces.append(detail["result"])
    return traces


def _database_bytes(tmp_path: Path) -> bytes:
    files = sorted(tmp_path.glob(f"{DB_NAME}*"))
    assert files, "the recorder wrote no database file"
    return b"".join(path.read_bytes() for path in files)


async def test_pin_is_nowhere_after_every_pin_flow(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.mobile_token")
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "id": "notify_new_operation",
                "alias": "New operation",
                "trigger": {"platform": "event", "event_type": EVENT_OPERATION_ADDED},
                "action": {
                    "action": f"{DOMAIN}.get_operation",
                    "data": {"operation_id": "{{ trigger.event.data.operation_id }}"},
                    "response_variable": "detail",
                },
            }
        },
    )
    entry = await _activate(hass, emulator)
    client = await hass_ws_client(hass)
    target = {"entry_id": entry.entry_id}
    coordinator = entry.runtime_data.coordinator

    # Approval: a wrong PIN, then the right one.
    operation = await create_operation(emulator)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    approve = {"type": f"{DOMAIN}/approve", **target, "operation_id": operation["id"]}
    assert (await _command(client, {**approve, "pin": WRONG_PIN}))["error"]["code"] == "wrong_pin"
    assert (await _command(client, {**approve, "pin": PIN}))["success"]

    # The control: an ordinary action's data is recorded.
    rejected = await create_operation(emulator)
    await hass.services.async_call(
        DOMAIN, "reject", {"operation_id": rejected["id"], "reason": REASON}, blocking=True
    )

    # History, offline signing (with a wrong PIN too: it still yields a code).
    history = {"type": f"{DOMAIN}/history", **target}
    assert (await _command(client, {**history, "pin": WRONG_PIN}))["error"]["code"] == "wrong_pin"
    assert (await _command(client, {**history, "pin": PIN}))["success"]
    offline = await create_operation(emulator)
    qr = await emulator.admin.offline_qr(offline["id"])
    sign = {"type": f"{DOMAIN}/sign_offline_qr", **target, "qr": qr}
    assert (await _command(client, {**sign, "pin": WRONG_PIN}))["success"]
    assert (await _command(client, {**sign, "pin": PIN}))["success"]

    # A PIN given to an action is refused before anything is recorded.
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "get_history", {"pin": PIN}, blocking=True, return_response=True
        )

    traces = await _traces(client)
    assert traces, "the automation left no trace"

    # Removal at the bank, with a wrong PIN first.
    remove = {"type": f"{DOMAIN}/remove_activation", **target}
    assert (await _command(client, {**remove, "pin": WRONG_PIN}))["error"]["code"] == "wrong_pin"
    assert (await _command(client, {**remove, "pin": PIN}))["success"]
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    database = _database_bytes(tmp_path)
    assert REASON.encode() in database  # the search can find what is recorded
    assert operation["id"].encode() in database
    storage = json.dumps(hass_storage)
    trace_text = json.dumps(traces, default=str)
    log = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.mobile_token")
        or record.levelno >= logging.INFO
    )
    assert "Approving operation" in log  # the integration's debug log was on
    for pin in (PIN, WRONG_PIN):
        assert pin.encode() not in database
        assert pin not in storage
        assert pin not in trace_text
        assert pin not in log
