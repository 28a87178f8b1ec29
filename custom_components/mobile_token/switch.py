"""Switch: start and stop polling the pending operations (the SDK's start/stop)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_OFF, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .coordinator import MobileTokenConfigEntry, MobileTokenCoordinator
from .entity import MobileTokenEntity

PARALLEL_UPDATES = 0

POLLING_SWITCH = SwitchEntityDescription(
    key="polling",
    translation_key="polling",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MobileTokenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the polling switch."""
    async_add_entities([MobileTokenPollingSwitch(entry.runtime_data.coordinator)])


class MobileTokenPollingSwitch(MobileTokenEntity, SwitchEntity, RestoreEntity):
    """On while the pending list is polled; remembers being off across restarts."""

    def __init__(self, coordinator: MobileTokenCoordinator) -> None:
        """Describe the switch."""
        super().__init__(coordinator, POLLING_SWITCH)

    async def async_added_to_hass(self) -> None:
        """Stay off after a restart when the user had turned polling off."""
        await super().async_added_to_hass()
        last_state = await self.async_get_last_state()
        if last_state is not None and last_state.state == STATE_OFF:
            self.coordinator.async_stop_polling()

    @property
    def available(self) -> bool:
        """Polling can be switched even while the server is unreachable."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether the list is polled."""
        return self.coordinator.is_polling

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Fetch now and then periodically."""
        await self.coordinator.async_start_polling()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop periodic fetching."""
        self.coordinator.async_stop_polling()
