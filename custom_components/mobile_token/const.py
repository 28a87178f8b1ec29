"""Constants of the Mobile Token integration."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "mobile_token"
LOGGER = logging.getLogger(__package__)

PLATFORMS: Final = [Platform.EVENT, Platform.SENSOR, Platform.SWITCH]

# Config entry data (static, no secrets); also CONF_URL, CONF_VERIFY_SSL and CONF_NAME
# of homeassistant.const.
CONF_APP_CONFIG: Final = "app_config"
CONF_APP_VALUES: Final = "app_values"
CONF_APP_KEY: Final = "app_key"
CONF_APP_SECRET: Final = "app_secret"
CONF_MASTER_PUBLIC_KEY: Final = "master_public_key"
CONF_ALLOW_BIOMETRY: Final = "allow_biometry"
CONF_ACTIVATION_ID: Final = "activation_id"

# Activation form fields (never stored); also CONF_PIN of homeassistant.const.
CONF_ACTIVATION_CODE: Final = "activation_code"
CONF_PIN_CONFIRM: Final = "pin_confirm"

# Options; also CONF_SCAN_INTERVAL and CONF_LANGUAGE of homeassistant.const.
CONF_ALLOWED_USERS: Final = "allowed_users"
# Phone-state sensors of the companion app; while one reads a call, approvals the bank
# marked blockApprovalOnCall are refused.
CONF_CALL_SENSORS: Final = "call_sensors"
PHONE_STATES_ON_CALL: Final = frozenset({"ringing", "offhook"})

# Polling as the mobile SDK does it: 7 s by default, never below 5 s.
DEFAULT_SCAN_INTERVAL: Final = 7
MIN_SCAN_INTERVAL: Final = 5
MAX_SCAN_INTERVAL: Final = 3600
STATUS_CHECK_INTERVAL: Final = timedelta(minutes=5)
# Every request to the server gives up after this long, so an action on a hanging
# server fails within a bounded time (an action makes a handful of requests at most).
REQUEST_TIMEOUT: Final = 10.0
# A server clock further off than this is worth telling the user about (tokens and
# encryption keep working through the learnt offset, but the host's clock is wrong).
CLOCK_SKEW_WARNING: Final = timedelta(minutes=5)
DEFAULT_ACTIVATION_NAME: Final = "Home Assistant"

# Bus event for notifications and automations.
EVENT_OPERATION_ADDED: Final = "mobile_token_operation_added"

# Bus event for each new inbox message, and how often the inbox is read.
EVENT_MESSAGE_RECEIVED: Final = "mobile_token_message_received"
INBOX_SCAN_INTERVAL: Final = timedelta(minutes=1)

# Event entity event types.
EVENT_ADDED: Final = "added"
EVENT_REMOVED: Final = "removed"
EVENT_APPROVED: Final = "approved"
EVENT_REJECTED: Final = "rejected"
EVENT_FAILED: Final = "failed"
EVENT_EXPIRED: Final = "expired"
EVENT_TYPES: Final = [
    EVENT_ADDED,
    EVENT_REMOVED,
    EVENT_APPROVED,
    EVENT_REJECTED,
    EVENT_FAILED,
    EVENT_EXPIRED,
]

# Activation statuses shown by the activation status sensor.
STATUS_ACTIVE: Final = "active"
STATUS_PENDING_COMMIT: Final = "pending_commit"
STATUS_BLOCKED: Final = "blocked"
STATUS_REMOVED: Final = "removed"
ACTIVATION_STATUSES: Final = [STATUS_ACTIVE, STATUS_PENDING_COMMIT, STATUS_BLOCKED, STATUS_REMOVED]

# Repair issue ids (suffixed with the entry id).
ISSUE_ACTIVATION_BLOCKED: Final = "activation_blocked"
ISSUE_ACTIVATION_REMOVED: Final = "activation_removed"
ISSUE_CLOCK_SKEW: Final = "clock_skew"
ISSUE_TLS_VERIFICATION_DISABLED: Final = "tls_verification_disabled"

# Service call fields.
# homeassistant.const defines ATTR_CONFIG_ENTRY_ID only in versions newer than the oldest
# supported one (2025.4 lacks it), so it stays here until that version is dropped.
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_OPERATION_ID: Final = "operation_id"
ATTR_PIN: Final = "pin"
ATTR_FACTOR: Final = "factor"
ATTR_PAC: Final = "pac"
ATTR_TOTP: Final = "totp"
ATTR_REASON: Final = "reason"
ATTR_QR: Final = "qr"
ATTR_URI_ID: Final = "uri_id"
ISSUE_REMOVE_IN_BANK_APP: Final = "remove_in_bank_app"

# Reject reasons are stored by the server in a column of this size.
MAX_REASON_LENGTH: Final = 32
