"""Action descriptions and translations are complete in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.helpers.translation import async_get_translations

from custom_components.mobile_token.const import DOMAIN
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry

PACKAGE = Path(__file__).parents[2] / "custom_components" / DOMAIN
ACTIONS = {
    "approve",
    "reject",
    "claim",
    "get_operation",
    "get_history",
    "sign_offline_qr",
    "parse_offline_qr",
    "refresh",
    "get_messages",
    "mark_message_read",
}
KEY_IN_SOURCE = re.compile(
    r'(?:validation_error|failure_error)\(\s*"([a-z_]+)"|translation_key="([a-z_]+)"'
)


def strings(language: str) -> dict[str, Any]:
    """One translation file."""
    return dict(json.loads((PACKAGE / "translations" / f"{language}.json").read_text("utf-8")))


def keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    """Every key path of a translation tree."""
    found = set()
    for key, value in tree.items():
        found.add(f"{prefix}/{key}")
        if isinstance(value, dict):
            found |= keys(value, f"{prefix}/{key}")
    return found


async def test_actions_are_described(
    hass: HomeAssistant, config_entry: MobileTokenConfigEntry
) -> None:
    descriptions = (await async_get_all_descriptions(hass))[DOMAIN]
    assert set(descriptions) == ACTIONS
    # Names come from the translations (2026.10 no longer copies them into the descriptions).
    names = await async_get_translations(hass, "en", "services", {DOMAIN})
    assert names[f"component.{DOMAIN}.services.approve.name"] == "Approve operation"
    # No action takes a PIN (action data is recorded): the card's websocket commands do.
    for action in ("approve", "get_history", "sign_offline_qr"):
        assert "pin" not in descriptions[action]["fields"], action
    factors = {
        action: descriptions[action]["fields"]["factor"]["selector"]["select"]["options"]
        for action in ("approve", "get_history", "sign_offline_qr")
    }
    # Possession alone signs only 1FA operations: the history and offline codes never take it.
    assert factors == {
        "approve": ["possession", "possession_biometry"],
        "get_history": ["possession_biometry"],
        "sign_offline_qr": ["possession_biometry"],
    }
    reason = descriptions["reject"]["fields"]["reason"]
    assert reason["required"] is False
    assert reason["default"] == "unexpected_operation"
    # Option keys must be lower case; services.py maps them to the protocol's spelling.
    assert reason["selector"]["select"]["options"] == [
        "unknown",
        "incorrect_data",
        "unexpected_operation",
    ]
    assert set(descriptions["sign_offline_qr"]["fields"]) == {
        "config_entry_id",
        "qr",
        "factor",
        "uri_id",
    }


def test_czech_has_every_english_string() -> None:
    assert keys(strings("cs")) == keys(strings("en"))


def test_every_error_raised_is_translated() -> None:
    used = set()
    for source in PACKAGE.glob("*.py"):
        for match in KEY_IN_SOURCE.finditer(source.read_text("utf-8")):
            used.add(match.group(1) or match.group(2))
    used |= {"activation_blocked", "activation_removed"}  # built from the status name
    entities = {key for platform in strings("en")["entity"].values() for key in platform}
    used -= entities
    assert "wrong_pin" in used
    for language in ("en", "cs"):
        exceptions = strings(language)["exceptions"]
        assert used <= set(exceptions), used - set(exceptions)


def test_commit_step_names_its_own_button() -> None:
    for language in ("en", "cs"):
        config = strings(language)["config"]
        button = config["step"]["commit"]["submit"]
        # The description and the "not yet" error tell the user to press this very button.
        assert button in config["step"]["commit"]["description"]
        assert button in config["error"]["not_committed"]


def test_pin_required_fits_every_action() -> None:
    # Raised for approving, the history and offline codes alike: no word about "operation".
    for language, word in (("en", "operation"), ("cs", "operac")):
        assert word not in strings(language)["exceptions"]["pin_required"]["message"]
