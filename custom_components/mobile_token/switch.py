"""Switch: start and stop polling the pending operations (the SDK's start/stop)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_OFF, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import ExtraStoredData, RestoredExtraData, RestoreEntity

from .coordinator import MobileTokenConfigEntry, MobileTokenCoordinator
from .entity import MobileTokenEntity

PARALLEL_UPDATES = 0

# The user's choice, kept apart from the state shown: the state is also off while
# Home Assistant's "Enable polling" system option is off, which is not a choice to keep.
STORED_CHOICE = "polling"

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
        if (extra := await self.async_get_last_extra_data()) is not None:
            polling = extra.as_dict().get(STORED_CHOICE) is not False
        else:
            last_state = await self.async_get_last_state()
            polling = last_state is None or last_state.state != STATE_OFF
        if not polling:
            self.coordinator.async_stop_polling()

    @property
    def extra_restore_state_data(self) -> ExtraStoredData:
        """Remember whether the user wants polling, whatever the system option says."""
        return RestoredExtraData({STORED_CHOICE: self.coordinator.polling_chosen})

    @property
    def available(self) -> bool:
        """Polling can be switched even while the server is unreachable."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether the list is polled (off, too, while the system option forbids it)."""
        return self.coordinator.is_polling

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Fetch now and then periodically."""
        await self.coordinator.async_start_polling()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop periodic fetching."""
        self.coordinator.async_stop_polling()
