"""Repair flows: acknowledging the reminder left when an entry is removed."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Confirm the reminder to remove the device in the bank's app."""
    return ConfirmRepairFlow()
