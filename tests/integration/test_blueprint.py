"""The actionable-notification blueprint loads, validates and builds safe action ids."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.blueprint import BLUEPRINT_SCHEMA, Blueprint, BlueprintInputs
from homeassistant.const import STATE_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict

BLUEPRINT_PATH = (
    Path(__file__).parents[2]
    / "blueprints"
    / "automation"
    / "mobile_token"
    / "actionable_notification.yaml"
)
EXPECTED_INPUTS = {
    "operations_event",
    "notify_device",
    "allowed_people",
    "reject_reason",
    "timeout",
    "approve_title",
    "reject_title",
    "open_url",
    "open_card_title",
}
USER_INPUTS = {
    "operations_event": "event.demo_bank_operations",
    "notify_device": "0123456789abcdef0123456789abcdef",
    "allowed_people": ["person.anna"],
}


@pytest.fixture(autouse=True)
def mobile_app_device_actions_pass() -> Iterator[list[dict[str, Any]]]:
    """Accept the companion app's device actions without loading mobile_app (needs PyNaCl).

    The list collects the device actions the automation declares, for the tests to check.
    """
    seen: list[dict[str, Any]] = []

    async def validate(hass: HomeAssistant, config: dict[str, Any]) -> dict[str, Any]:
        seen.append(config)
        return config

    with patch(
        "homeassistant.components.device_automation.action.async_validate_action_config",
        side_effect=validate,
    ):
        yield seen


@pytest.fixture(name="blueprint")
def blueprint_fixture() -> Blueprint:
    return Blueprint(
        load_yaml_dict(BLUEPRINT_PATH),
        expected_domain="automation",
        schema=BLUEPRINT_SCHEMA,
    )


def test_blueprint_declares_its_inputs(blueprint: Blueprint) -> None:
    assert blueprint.domain == "automation"
    assert set(blueprint.inputs) == EXPECTED_INPUTS
    assert blueprint.validate() is None
    assert blueprint.inputs["reject_reason"]["default"] == "UNEXPECTED_OPERATION"


def _substituted(blueprint: Blueprint) -> dict[str, Any]:
    inputs = BlueprintInputs(
        blueprint,
        {"use_blueprint": {"path": BLUEPRINT_PATH.name, "input": USER_INPUTS}},
    )
    inputs.validate()
    return inputs.async_substitute()


def test_blueprint_triggers_on_new_operations(blueprint: Blueprint) -> None:
    config = _substituted(blueprint)
    assert config["triggers"] == [
        {"trigger": "event", "event_type": "mobile_token_operation_added"}
    ]
    notify, wait, clear, *_ = config["actions"]
    assert notify["device_id"] == USER_INPUTS["notify_device"]
    assert notify["data"]["tag"] == clear["data"]["tag"]
    assert clear["message"] == "clear_notification"
    assert [trigger["trigger"] for trigger in wait["wait_for_trigger"]] == [
        "event",
        "event",
        "template",
    ]


async def test_blueprint_is_a_valid_automation(
    hass: HomeAssistant,
    blueprint: Blueprint,
    mobile_app_device_actions_pass: list[dict[str, Any]],
) -> None:
    config = {**_substituted(blueprint), "id": "approve_from_phone", "alias": "Approve from phone"}
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await hass.async_block_till_done()
    # An automation whose configuration does not validate is set up unavailable.
    assert hass.states.get("automation.approve_from_phone").state == STATE_ON
    assert [action["type"] for action in mobile_app_device_actions_pass] == ["notify", "notify"]
    services = [step.get("action") for step in config["actions"][-1]["choose"][0]["sequence"]]
    assert services == ["mobile_token.approve"]


async def _variables(
    hass: HomeAssistant,
    blueprint: Blueprint,
    allowed_factors: list[str],
    *,
    allow_biometry: bool = True,
    requires_proximity: bool = False,
    warning: bool = False,
    attributes: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    variables = cv.SCRIPT_VARIABLES_SCHEMA(_substituted(blueprint)["variables"])
    context = Context()
    trigger = {
        "platform": "event",
        "event": {
            "data": {
                "config_entry_id": "entry-1",
                "operation_id": "op-42",
                "title": "Payment",
                "message": "Confirm",
                "allowed_factors": allowed_factors,
                "allow_biometry": allow_biometry,
                "requires_proximity": requires_proximity,
                "warning": warning,
                "attributes": attributes or [],
            },
            "context": {"id": context.id},
        },
    }
    hass.states.async_set("person.anna", "home", {"user_id": "user-anna"})
    rendered = variables.async_render(hass, {"trigger": trigger})
    return {**rendered, "context_id": context.id}


async def test_action_ids_carry_the_operation_and_a_nonce(
    hass: HomeAssistant, blueprint: Blueprint
) -> None:
    variables = await _variables(hass, blueprint, ["possession_knowledge", "possession_biometry"])
    assert variables["action_approve"] == f"MOBILE_TOKEN_APPROVE_op-42_{variables['context_id']}"
    assert variables["action_reject"] == f"MOBILE_TOKEN_REJECT_op-42_{variables['context_id']}"
    assert variables["factor"] == "possession_biometry"
    assert variables["allowed_users"] == ["user-anna"]
    actions = variables["notification_actions"]
    assert [action["action"] for action in actions] == [
        variables["action_approve"],
        variables["action_reject"],
    ]
    assert all(action["authenticationRequired"] is True for action in actions)


async def test_one_factor_operations_are_approved_with_possession(
    hass: HomeAssistant, blueprint: Blueprint
) -> None:
    variables = await _variables(hass, blueprint, ["possession"])
    assert variables["factor"] == "possession"


async def test_pin_only_operations_offer_only_reject(
    hass: HomeAssistant, blueprint: Blueprint
) -> None:
    variables = await _variables(hass, blueprint, ["possession_knowledge"])
    assert variables["factor"] == ""
    assert [action["action"] for action in variables["notification_actions"]] == [
        "URI",
        variables["action_reject"],
    ]


async def test_no_approve_button_without_the_biometry_key_or_with_a_proximity_check(
    hass: HomeAssistant, blueprint: Blueprint
) -> None:
    two_factor = ["possession_knowledge", "possession_biometry"]
    for variables in (
        await _variables(hass, blueprint, two_factor, allow_biometry=False),
        await _variables(hass, blueprint, ["possession"], requires_proximity=True),
        await _variables(hass, blueprint, ["possession"], warning=True),
        await _variables(hass, blueprint, two_factor, warning=True),
    ):
        assert variables["factor"] == ""
        open_card, reject = variables["notification_actions"]
        assert open_card == {"action": "URI", "title": "Open the card", "uri": "/lovelace/0"}
        assert reject["action"] == variables["action_reject"]


async def test_notification_says_what_is_approved(
    hass: HomeAssistant, blueprint: Blueprint
) -> None:
    attributes = [
        {"label": "Amount", "value": "100.00 EUR"},
        {"label": "To account", "value": "CZ12 3456"},
    ]
    variables = await _variables(hass, blueprint, ["possession"], attributes=attributes)
    assert variables["notification_message"] == "Confirm\nAmount: 100.00 EUR\nTo account: CZ12 3456"
    assert (await _variables(hass, blueprint, ["possession"]))["notification_message"] == "Confirm"
