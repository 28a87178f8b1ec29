"""Repair flows: the reminder left when an entry is removed, and the upgrade to 4.0."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant

from .protocol_upgrade import ISSUE_UPGRADE_AVAILABLE, UpgradeRepairFlow


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Upgrade to PowerAuth 4.0 with the PIN, or confirm the reminder to remove the device."""
    if issue_id.startswith(ISSUE_UPGRADE_AVAILABLE) and data is not None:
        entry = hass.config_entries.async_get_entry(str(data["entry_id"]))
        if entry is not None and hasattr(entry, "runtime_data"):
            return UpgradeRepairFlow(entry)
    return ConfirmRepairFlow()
