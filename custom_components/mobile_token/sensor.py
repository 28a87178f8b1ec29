"""Sensors: pending operations, the activation status and unread messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import (
    ACTIVATION_STATUSES,
    STATUS_BLOCKED,
    STATUS_REMOVED,
)
from .coordinator import MobileTokenConfigEntry, MobileTokenCoordinator
from .entity import MobileTokenEntity, device_info
from .inbox import InboxCoordinator
from .mtoken.model import Operation

PARALLEL_UPDATES = 0

# The attributes stay under the recorder's 16 KiB limit whatever the number of
# operations: long texts are cut and the list stops at a byte budget (newest
# first, as the server orders them). The state is always the full count, and
# the get_operation action and the card serve every detail.
MAX_TEXT_LENGTH: Final = 60
ATTRIBUTES_BUDGET_BYTES: Final = 14 * 1024
ATTR_OPERATIONS: Final = "operations"
ATTR_NOT_LISTED: Final = "operations_not_listed"


def _short_summary(operation: Operation) -> dict[str, Any]:
    summary = operation.summary()
    for key in ("title", "message"):
        text = summary[key]
        if len(text) > MAX_TEXT_LENGTH:
            summary[key] = text[: MAX_TEXT_LENGTH - 1] + "…"
    return summary


type SummaryCache = dict[str, tuple[Operation, dict[str, Any], int]]


def operation_summaries(
    operations: list[Operation], cache: SummaryCache | None = None
) -> dict[str, Any]:
    """Return the pending-operations attributes: summaries within the byte budget.

    ``cache`` keeps each operation's summary and its JSON size while the
    coordinator hands over the same operation object, as it does for
    operations the server sent unchanged.
    """
    cache = {} if cache is None else cache
    summaries: list[dict[str, Any]] = []
    size = 0
    for operation in operations:
        cached = cache.get(operation.id)
        if cached is None or cached[0] is not operation:
            summary = _short_summary(operation)
            encoded = len(json.dumps(summary, ensure_ascii=False, separators=(",", ":"))) + 1
            cached = cache[operation.id] = (operation, summary, encoded)
        size += cached[2]
        if size > ATTRIBUTES_BUDGET_BYTES:
            break
        summaries.append(cached[1])
    listed_ids = {operation.id for operation in operations}
    for stale in [op_id for op_id in cache if op_id not in listed_ids]:
        del cache[stale]
    attributes: dict[str, Any] = {ATTR_OPERATIONS: summaries}
    if len(summaries) < len(operations):
        attributes[ATTR_NOT_LISTED] = len(operations) - len(summaries)
    return attributes


def activation_status(coordinator: MobileTokenCoordinator) -> str | None:
    """Return the activation status as one of the sensor's options."""
    status = coordinator.activation_status
    return status.status if status and status.status in ACTIVATION_STATUSES else None


def activation_attempts(coordinator: MobileTokenCoordinator) -> dict[str, Any]:
    """Return the failed, allowed and remaining PIN attempts."""
    status = coordinator.activation_status
    return (
        {
            "failed_attempts": status.failed_attempts,
            "max_failed_attempts": status.max_failed_attempts,
            "remaining_attempts": status.remaining_attempts,
        }
        if status
        else {}
    )


@dataclass(frozen=True, kw_only=True)
class MobileTokenSensorDescription(SensorEntityDescription):
    """A sensor with functions reading its value and attributes from the coordinator."""

    value_fn: Callable[[MobileTokenCoordinator], StateType]
    attributes_fn: Callable[[MobileTokenCoordinator, SummaryCache], dict[str, Any]]
    shown_when_stopped: bool = False


SENSORS: Final = (
    MobileTokenSensorDescription(
        key="pending_operations",
        translation_key="pending_operations",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda coordinator: len(coordinator.data),
        attributes_fn=lambda coordinator, cache: operation_summaries(coordinator.data, cache),
    ),
    MobileTokenSensorDescription(
        key="activation_status",
        translation_key="activation_status",
        device_class=SensorDeviceClass.ENUM,
        options=ACTIVATION_STATUSES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=activation_status,
        attributes_fn=lambda coordinator, _: activation_attempts(coordinator),
        shown_when_stopped=True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MobileTokenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of the activation."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(MobileTokenSensor(coordinator, description) for description in SENSORS)
    async_add_entities([UnreadMessagesSensor(entry.runtime_data.inbox)])


class MobileTokenSensor(MobileTokenEntity, SensorEntity):
    """A sensor fed by the coordinator."""

    entity_description: MobileTokenSensorDescription
    _unrecorded_attributes = frozenset({ATTR_OPERATIONS})

    def __init__(
        self, coordinator: MobileTokenCoordinator, description: MobileTokenSensorDescription
    ) -> None:
        super().__init__(coordinator, description)
        self._summary_cache: SummaryCache = {}

    @property
    def available(self) -> bool:
        """A blocked or removed activation stays visible after polling stopped for it."""
        if super().available:
            return True
        status = self.coordinator.activation_status
        return (
            self.entity_description.shown_when_stopped
            and status is not None
            and status.status in (STATUS_BLOCKED, STATUS_REMOVED)
        )

    @property
    def native_value(self) -> StateType:
        """The value from the coordinator."""
        return self.entity_description.value_fn(self.coordinator)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The attributes from the coordinator."""
        return self.entity_description.attributes_fn(self.coordinator, self._summary_cache)


class UnreadMessagesSensor(CoordinatorEntity[InboxCoordinator], SensorEntity):
    """How many of the bank's messages are unread (the inbox's own count)."""

    _attr_has_entity_name = True
    _attr_translation_key = "unread_messages"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, inbox: InboxCoordinator) -> None:
        super().__init__(inbox)
        entry = inbox.config_entry
        self._attr_unique_id = f"{entry.entry_id}_unread_messages"
        self._attr_device_info = device_info(entry)

    @property
    def native_value(self) -> StateType:
        """The unread count the server reports."""
        return None if self.coordinator.data is None else self.coordinator.data.unread
