"""Event entity: what happens to operations (added, removed, approved, rejected, …)."""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import EVENT_TYPES
from .coordinator import MobileTokenConfigEntry, MobileTokenCoordinator, OperationEvent
from .entity import MobileTokenEntity

PARALLEL_UPDATES = 0

OPERATIONS_EVENT = EventEntityDescription(
    key="operations",
    translation_key="operations",
    event_types=EVENT_TYPES,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MobileTokenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the operations event entity."""
    async_add_entities([MobileTokenOperationsEvent(entry.runtime_data.coordinator)])


class MobileTokenOperationsEvent(MobileTokenEntity, EventEntity):
    """Fires for every change of an operation, with its summary."""

    # What the bank writes about a payment stays out of the database and backups.
    _unrecorded_attributes = frozenset({"title", "message"})

    def __init__(self, coordinator: MobileTokenCoordinator) -> None:
        """Describe the event entity."""
        super().__init__(coordinator, OPERATIONS_EVENT)

    async def async_added_to_hass(self) -> None:
        """Listen to the coordinator's operation events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.async_add_operation_listener(self._async_handle_event)
        )

    @callback
    def _async_handle_event(self, event: OperationEvent) -> None:
        self._trigger_event(event.event_type, {**event.operation.summary(), **event.details})
        self.async_write_ha_state()
