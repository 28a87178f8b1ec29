"""Diagnostics: what a maintainer needs, with every secret and personal value redacted."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import (
    CONF_URL,
)
from homeassistant.core import HomeAssistant

from .const import (
    CONF_ACTIVATION_ID,
    CONF_APP_CONFIG,
)
from .coordinator import MobileTokenConfigEntry
from .mtoken.model import Operation

# Entry data: the application configuration holds the app secret; the URL and
# the activation id identify the user's bank and device.
TO_REDACT_ENTRY: Final = {CONF_APP_CONFIG, CONF_URL, CONF_ACTIVATION_ID}
# Operations: only their shape. Ids, signed data, texts, attributes, screens and
# fields a custom backend adds can all carry accounts, amounts and names.
OPERATION_FIELDS_SHOWN: Final = (
    "name",
    "status",
    "operationCreated",
    "operationExpires",
    "allowedSignatureType",
)


def _operation_shape(operation: Operation) -> dict[str, Any]:
    wire = operation.to_dict()
    shape = {key: wire[key] for key in OPERATION_FIELDS_SHOWN if key in wire}
    shape["attribute_types"] = [attribute.type for attribute in operation.form_data.attributes]
    ui = operation.ui
    shape["screens"] = {
        "pre_approval": None
        if ui is None or ui.pre_approval_screen is None
        else str(ui.pre_approval_screen.type),
        "post_approval": None
        if ui is None or ui.post_approval_screen is None
        else ui.post_approval_screen.type,
    }
    shape["extra_fields"] = sorted(operation.extra)
    return shape


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MobileTokenConfigEntry
) -> dict[str, Any]:
    """Return the entry, the activation's shape (never its keys) and the pending list."""
    coordinator = entry.runtime_data.coordinator
    state = coordinator.session.state.to_dict()
    status = coordinator.activation_status
    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), TO_REDACT_ENTRY),
            "options": dict(entry.options),
        },
        # Every stored value is a key, the counter or a token: only the field names are shown.
        "activation_state": {key: REDACTED for key in state if key != "version"}
        | {"version": state.get("version")},
        "activation_status": None
        if status is None
        else {
            "status": status.status,
            "failed_attempts": status.failed_attempts,
            "max_failed_attempts": status.max_failed_attempts,
        },
        "allow_biometry": coordinator.allow_biometry,
        "polling": coordinator.is_polling,
        "update_interval": None
        if coordinator.update_interval is None
        else coordinator.update_interval.total_seconds(),
        "last_update_success": coordinator.last_update_success,
        "server_clock_synchronized": coordinator.session.clock.synchronized,
        "language": coordinator.session.language,
        "pending_operations": [_operation_shape(operation) for operation in coordinator.data or []],
    }
