"""Base entity: one device per activation."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import MobileTokenCoordinator


class MobileTokenEntity(CoordinatorEntity[MobileTokenCoordinator]):
    """An entity of the mobile token's device.

    The device is keyed by the entry id, not the activation id, so it survives
    a new activation after reauthentication.
    """

    _attr_has_entity_name = True

    def __init__(self, coordinator: MobileTokenCoordinator, description: EntityDescription) -> None:
        """Attach the entity to the activation's device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = device_info(entry)


def device_info(entry: ConfigEntry) -> DeviceInfo:
    """The activation's device, shared by every entity of the entry."""
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer="PowerAuth",
        model="Mobile token",
        entry_type=DeviceEntryType.SERVICE,
    )
