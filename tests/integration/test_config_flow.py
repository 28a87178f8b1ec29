"""The config flow against the emulator: every step, every error, reauth, reconfigure, options."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    CONF_LANGUAGE,
    CONF_NAME,
    CONF_PIN,
    CONF_SCAN_INTERVAL,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)

from custom_components.mobile_token.const import (
    CONF_ACTIVATION_CODE,
    CONF_ACTIVATION_ID,
    CONF_ALLOW_BIOMETRY,
    CONF_ALLOWED_USERS,
    CONF_APP_CONFIG,
    CONF_APP_KEY,
    CONF_APP_SECRET,
    CONF_APP_VALUES,
    CONF_CALL_SENSORS,
    CONF_MASTER_PUBLIC_KEY,
    CONF_PIN_CONFIRM,
    DOMAIN,
)
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry
from custom_components.mobile_token.mtoken.app_config import parse_config_string
from custom_components.mobile_token.mtoken.errors import InvalidStateError
from custom_components.mobile_token.mtoken.factors import Authentication
from emulator.testing import run_emulator

from .conftest import (
    ACTIVATION_NAME,
    PIN,
    USER_ID,
    activation_input,
    new_activation_code,
    server_input,
    start_flow,
)

STORE_PREFIX = f"{DOMAIN}."
FORGED = "forged"


async def finish_activation(
    hass: HomeAssistant, emulator: Any, flow_id: str
) -> MobileTokenConfigEntry:
    """Complete the activate step with a fresh code; return the created entry."""
    code = await new_activation_code(emulator)
    result = await hass.config_entries.flow.async_configure(flow_id, activation_input(code))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry: MobileTokenConfigEntry = result["result"]
    assert entry.unique_id == entry.data[CONF_ACTIVATION_ID]
    return entry


def forged_code(code: str) -> str:
    """The code with a signature by a key that is not the bank's."""
    key = ec.generate_private_key(ec.SECP256R1())
    signature = key.sign(code.encode(), ec.ECDSA(hashes.SHA256()))
    return f"{code}#{base64.b64encode(signature).decode()}"


async def test_activation_creates_entry_without_secrets(
    hass: HomeAssistant, emulator: Any, hass_storage: dict[str, Any]
) -> None:
    result = await start_flow(hass, emulator)
    code = await new_activation_code(emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(code)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry: MobileTokenConfigEntry = result["result"]
    activation_id = entry.data[CONF_ACTIVATION_ID]
    assert entry.unique_id == activation_id
    assert entry.title == ACTIVATION_NAME
    assert result["description_placeholders"]["fingerprint"].isdigit()
    assert set(entry.data) == {
        CONF_URL,
        CONF_APP_CONFIG,
        CONF_VERIFY_SSL,
        CONF_ACTIVATION_ID,
        CONF_NAME,
        CONF_ALLOW_BIOMETRY,
    }
    assert PIN not in str(entry.data)
    stored = hass_storage[f"{STORE_PREFIX}{activation_id}"]["data"]
    assert stored["activationId"] == activation_id
    assert stored["biometryKey"] is None
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_separate_values_and_signed_code_with_biometry(
    hass: HomeAssistant, emulator: Any, hass_storage: dict[str, Any]
) -> None:
    values = {
        CONF_APP_KEY: emulator.app_key,
        CONF_APP_SECRET: emulator.app_secret,
        CONF_MASTER_PUBLIC_KEY: emulator.master_public_key,
    }
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    section_schema = result["data_schema"].schema[CONF_APP_VALUES].schema.schema
    # The application secret is masked like the PIN fields.
    assert section_schema[CONF_APP_SECRET].config["type"] == "password"
    assert section_schema[CONF_APP_KEY].config.get("type", "text") == "text"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        server_input(emulator, **{CONF_APP_CONFIG: "", CONF_APP_VALUES: values}),
    )
    assert result["step_id"] == "activate"
    created = await emulator.admin.create_activation_code("alice")
    # Any case for the code; the Base64 signature keeps its case.
    signed_code = f"{created['activationCode'].lower()}#{created['activationSignature']}"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(signed_code, **{CONF_ALLOW_BIOMETRY: True})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == entry.data[CONF_ACTIVATION_ID]
    # Separate values carry the 3.3 master key only, not the server's 4.0 keys.
    stored_config = parse_config_string(entry.data[CONF_APP_CONFIG])
    assert (stored_config.app_key, stored_config.app_secret) == (
        emulator.app_key,
        emulator.app_secret,
    )
    assert stored_config.master_public_key_b64 == emulator.master_public_key
    assert not stored_config.speaks_v4
    assert entry.data[CONF_ALLOW_BIOMETRY] is True
    stored = hass_storage[f"{STORE_PREFIX}{entry.unique_id}"]["data"]
    assert stored["biometryKey"] is not None


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({CONF_URL: "ftp://bank.example"}, {CONF_URL: "invalid_url"}),
        ({CONF_URL: "not a url"}, {CONF_URL: "invalid_url"}),
        ({CONF_URL: "http://bank.example"}, {CONF_URL: "insecure_url"}),
        ({CONF_URL: "http://192.168.1.20:8082"}, {CONF_URL: "insecure_url"}),
        ({CONF_APP_CONFIG: "bm90IGEgY29uZmln"}, {CONF_APP_CONFIG: "invalid_app_config"}),
        ({CONF_APP_CONFIG: "", CONF_APP_VALUES: {}}, {"base": "invalid_app_config"}),
        ({CONF_URL: "http://127.0.0.1:9"}, {"base": "cannot_connect"}),
    ],
)
async def test_user_step_errors_then_success(
    hass: HomeAssistant, emulator: Any, overrides: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], server_input(emulator, **overrides)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], server_input(emulator)
    )
    assert result["step_id"] == "activate"
    await finish_activation(hass, emulator, result["flow_id"])


@pytest.mark.parametrize("fault", ["malformed", "http500"])
async def test_server_that_does_not_speak_powerauth(
    hass: HomeAssistant, emulator: Any, fault: str
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    await emulator.admin.fault(fault)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], server_input(emulator)
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], server_input(emulator)
    )
    await finish_activation(hass, emulator, result["flow_id"])


@pytest.mark.parametrize(
    ("form", "fault", "field", "error", "error_code"),
    [
        ({CONF_PIN: "12", CONF_PIN_CONFIRM: "12"}, None, CONF_PIN, "pin_too_short", ""),
        ({CONF_PIN: "12ab", CONF_PIN_CONFIRM: "12ab"}, None, CONF_PIN, "pin_too_short", ""),
        ({CONF_PIN_CONFIRM: "9999"}, None, CONF_PIN_CONFIRM, "pin_mismatch", ""),
        (
            {CONF_ACTIVATION_CODE: "ABCDE-FGHIJ"},
            None,
            CONF_ACTIVATION_CODE,
            "invalid_activation_code",
            "",
        ),
        (
            {CONF_ACTIVATION_CODE: "AAAAA-AAAAA-AAAAA-AAAAA#MEUCIQ"},
            None,
            CONF_ACTIVATION_CODE,
            "invalid_activation_code",
            "",
        ),
        (
            {CONF_ACTIVATION_CODE: FORGED},
            None,
            CONF_ACTIVATION_CODE,
            "invalid_code_signature",
            "",
        ),
        (
            {CONF_ACTIVATION_CODE: "AAAAA-AAAAA-AAAAA-AAAAA"},
            None,
            "base",
            "activation_failed",
            "ERR_ACTIVATION",
        ),
        ({}, "drop", "base", "cannot_connect", ""),
        ({}, "malformed", "base", "cannot_connect", ""),
    ],
)
async def test_activate_step_errors_then_success(
    hass: HomeAssistant,
    emulator: Any,
    form: dict[str, Any],
    fault: str | None,
    field: str,
    error: str,
    error_code: str,
) -> None:
    result = await start_flow(hass, emulator)
    code = await new_activation_code(emulator)
    if form.get(CONF_ACTIVATION_CODE) == FORGED:
        form = {CONF_ACTIVATION_CODE: forged_code(code)}
    if fault:
        await emulator.admin.fault(fault)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(code, **form)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "activate"
    assert result["errors"] == {field: error}
    assert result["description_placeholders"]["error_code"] == error_code
    if fault:
        # The failed attempt may have used the code up on the server.
        code = await new_activation_code(emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(code)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == result["result"].data[CONF_ACTIVATION_ID]


async def test_commit_step_waits_for_the_bank(hass: HomeAssistant, emulator: Any) -> None:
    result = await start_flow(hass, emulator)
    code = await new_activation_code(emulator, commit="manual")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(code)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "commit"
    fingerprint = result["description_placeholders"]["fingerprint"]
    assert len(fingerprint) == 8

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "commit"
    assert result["errors"] == {"base": "not_committed"}

    await emulator.admin.fault("drop")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "cannot_connect"}

    (pending,) = [a for a in await emulator.admin.activations() if a["status"] != "ACTIVE"]
    await emulator.admin.commit(pending["activationId"])
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == pending["activationId"]
    assert result["description_placeholders"]["fingerprint"] == fingerprint


async def test_commit_refused_by_the_bank(hass: HomeAssistant, emulator: Any) -> None:
    result = await start_flow(hass, emulator)
    code = await new_activation_code(emulator, commit="manual")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(code)
    )
    assert result["step_id"] == "commit"
    (pending,) = await emulator.admin.activations()
    await emulator.admin.remove(pending["activationId"])
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "activation_rejected"


async def test_reauth_activates_again_into_the_same_entry(
    hass: HomeAssistant,
    emulator: Any,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    old_id = mock_config_entry.unique_id
    await emulator.admin.block(old_id)
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["name"] == ACTIVATION_NAME

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input("ABCDE-FGHIJ")
    )
    assert result["errors"] == {CONF_ACTIVATION_CODE: "invalid_activation_code"}

    code = await new_activation_code(emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(code, **{CONF_NAME: "Hallway tablet"})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert mock_config_entry.unique_id != old_id
    assert mock_config_entry.data[CONF_ACTIVATION_ID] == mock_config_entry.unique_id
    assert mock_config_entry.title == "Hallway tablet"
    assert f"{STORE_PREFIX}{old_id}" not in hass_storage
    assert f"{STORE_PREFIX}{mock_config_entry.unique_id}" in hass_storage
    assert mock_config_entry.state is ConfigEntryState.LOADED


async def test_reauth_leaves_the_old_entry_nothing_to_write(
    hass: HomeAssistant,
    emulator: Any,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    old_key = f"{STORE_PREFIX}{mock_config_entry.unique_id}"
    old_session = mock_config_entry.runtime_data.coordinator.session
    result = await mock_config_entry.start_reauth_flow(hass)
    code = await new_activation_code(emulator)
    # The entry's reload comes later than the end of the flow.
    with patch.object(hass.config_entries, "async_schedule_reload") as schedule_reload:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], activation_input(code)
        )
    assert result["reason"] == "reauth_successful"
    schedule_reload.assert_called_once_with(mock_config_entry.entry_id)
    assert old_key not in hass_storage

    # A signature the old entry's session would still make persists its counter first:
    # it must be refused, not write the removed store back.
    with pytest.raises(InvalidStateError):
        await old_session.validate_signature(Authentication.possession())
    assert old_key not in hass_storage

    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED


async def test_reconfigure(
    hass: HomeAssistant, emulator: Any, mock_config_entry: MockConfigEntry, tmp_path: Path
) -> None:
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    form = {CONF_URL: emulator.url + "/", CONF_VERIFY_SSL: False, CONF_NAME: "Renamed"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**form, CONF_URL: "bank.example"}
    )
    assert result["errors"] == {CONF_URL: "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**form, CONF_URL: "http://bank.example"}
    )
    assert result["errors"] == {CONF_URL: "insecure_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**form, CONF_URL: "http://127.0.0.1:9"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    # Another PowerAuth server, which answers but does not know this activation.
    async with run_emulator(tmp_path / "other-bank") as other:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**form, CONF_URL: other.url}
        )
    assert result["errors"] == {"base": "activation_unknown"}
    assert mock_config_entry.data[CONF_URL] == emulator.url

    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert mock_config_entry.title == "Renamed"
    assert mock_config_entry.data[CONF_URL] == emulator.url
    assert mock_config_entry.data[CONF_VERIFY_SSL] is False
    assert mock_config_entry.state is ConfigEntryState.LOADED


async def test_options(
    hass: HomeAssistant,
    config_entry: MobileTokenConfigEntry,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["step_id"] == "init"
    users = result["data_schema"].schema[CONF_ALLOWED_USERS].config["options"]
    assert {"value": hass_read_only_user.id, "label": hass_read_only_user.name} in users
    assert all(option["value"] != hass_admin_user.id for option in users)
    form = {
        CONF_SCAN_INTERVAL: 30,
        CONF_LANGUAGE: "cs",
        CONF_ALLOWED_USERS: [hass_read_only_user.id],
        CONF_CALL_SENSORS: ["sensor.pixel_phone_state"],
    }

    # Below the mobile SDK's minimum of 5 s: refused by the form, not silently raised.
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**form, CONF_SCAN_INTERVAL: 1}
        )
    assert CONF_SCAN_INTERVAL in err.value.schema_errors

    result = await hass.config_entries.options.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert config_entry.options == form


async def test_options_apply_at_once(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await emulator.admin.create_payment(
        USER_ID, texts={"cs": {"title": "Platba", "message": "Potvrďte platbu"}}
    )
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 60, CONF_LANGUAGE: "cs", CONF_ALLOWED_USERS: []}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # Within a second, not at the poll scheduled at the old interval.
    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)

    coordinator = config_entry.runtime_data.coordinator
    assert coordinator.update_interval == timedelta(seconds=60)
    assert coordinator.session.language == "cs"
    state = hass.states.get("sensor.kitchen_tablet_pending_operations")
    assert state.attributes["operations"][0]["title"] == "Platba"
