"""Home Assistant as a PowerAuth mobile token."""

from __future__ import annotations

from typing import Any

from homeassistant.const import (
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .actions import pop_removed_at_bank
from .announced import AnnouncedOperations
from .const import (
    CONF_ACTIVATION_ID,
    CONF_APP_CONFIG,
    DOMAIN,
    ISSUE_ACTIVATION_BLOCKED,
    ISSUE_ACTIVATION_REMOVED,
    ISSUE_CLOCK_SKEW,
    ISSUE_REMOVE_IN_BANK_APP,
    ISSUE_TLS_VERIFICATION_DISABLED,
    LOGGER,
    PLATFORMS,
    REQUEST_TIMEOUT,
)
from .coordinator import MobileTokenConfigEntry, MobileTokenCoordinator, MobileTokenData, language
from .errors import translate_error
from .frontend import async_setup_frontend
from .inbox import InboxCoordinator
from .mtoken.app_config import parse_config_string
from .mtoken.errors import InvalidStateError, MobileTokenError
from .mtoken.factors import Authentication
from .mtoken.inbox import InboxClient
from .mtoken.operations import MobileTokenClient
from .mtoken.sessions import AnySession, open_session
from .protocol_upgrade import async_resume_upgrade
from .protocol_upgrade import issue_id as upgrade_issue_id
from .services import async_setup_services
from .store import ActivationStore
from .websocket_api import async_setup_websocket_api

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, the card's websocket commands and the card itself."""
    async_setup_services(hass)
    async_setup_websocket_api(hass)
    if "frontend" in hass.config.components:
        # The card needs the frontend; tests and minimal setups run without it.
        await async_setup_frontend(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: MobileTokenConfigEntry) -> bool:
    """Load the activation from its private store and start polling."""
    store = ActivationStore(hass, entry.data[CONF_ACTIVATION_ID])
    verify_ssl: bool = entry.data[CONF_VERIFY_SSL]
    try:
        session = _open_session(hass, entry, store, await store.async_load())
        # A restart during an upgrade to 4.0: finish it, or go back to the 3.3 state.
        if (rollback := await async_resume_upgrade(store, session)) is not None:
            session = _open_session(hass, entry, store, rollback)
    except InvalidStateError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="activation_missing"
        ) from err
    except MobileTokenError as err:
        # Finishing an interrupted upgrade needs the server: try again later.
        translated = translate_error(err)
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key=translated.translation_key,
            translation_placeholders=translated.translation_placeholders,
        ) from err
    async_update_tls_issue(hass, entry, verify_ssl=verify_ssl)
    coordinator = MobileTokenCoordinator(hass, entry, session, MobileTokenClient(session))
    await coordinator.async_config_entry_first_refresh()
    inbox = InboxCoordinator(hass, entry, InboxClient(session))
    # Not the first refresh: a server without the inbox service still shows its operations.
    await inbox.async_refresh()
    for issue in (ISSUE_ACTIVATION_BLOCKED, ISSUE_ACTIVATION_REMOVED):
        ir.async_delete_issue(hass, DOMAIN, f"{issue}_{entry.entry_id}")
    entry.runtime_data = MobileTokenData(coordinator, inbox)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


def _open_session(
    hass: HomeAssistant, entry: MobileTokenConfigEntry, store: ActivationStore, stored: Any
) -> AnySession:
    """The session the stored activation needs: its state names its protocol (3.3 or 4.0)."""
    verify_ssl: bool = entry.data[CONF_VERIFY_SSL]
    return open_session(
        async_get_clientsession(hass, verify_ssl=verify_ssl),
        entry.data[CONF_URL],
        parse_config_string(entry.data[CONF_APP_CONFIG]),
        stored,
        persist=store.async_save,
        language=language(hass, entry.options),
        verify_ssl=verify_ssl,
        timeout=REQUEST_TIMEOUT,
        run_blocking=hass.async_add_executor_job,
    )


@callback
def async_update_tls_issue(
    hass: HomeAssistant, entry: MobileTokenConfigEntry, *, verify_ssl: bool
) -> None:
    """Warn while the server's certificate is not checked; withdraw it once it is again."""
    issue_id = f"{ISSUE_TLS_VERIFICATION_DISABLED}_{entry.entry_id}"
    if verify_ssl:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_TLS_VERIFICATION_DISABLED,
        translation_placeholders={"name": entry.title, "url": entry.data[CONF_URL]},
    )


async def async_unload_entry(hass: HomeAssistant, entry: MobileTokenConfigEntry) -> bool:
    """Stop polling and unload the entities."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: MobileTokenConfigEntry) -> None:
    """Remove the activation at the bank when the keys allow it, then delete the secrets.

    A backup holds the keys: an activation left at the bank stays usable by
    whoever restores one. Without the biometry-factor key the bank needs the
    PIN, which only the card can ask for, so the user is reminded instead.
    """
    store = ActivationStore(hass, entry.data[CONF_ACTIVATION_ID])
    removed = pop_removed_at_bank(hass, entry.entry_id) or await _async_remove_at_bank(
        hass, entry, store
    )
    await store.async_remove()
    await AnnouncedOperations(hass, entry.entry_id).async_remove()
    for issue in (
        ISSUE_TLS_VERIFICATION_DISABLED,
        ISSUE_CLOCK_SKEW,
        ISSUE_ACTIVATION_BLOCKED,
        ISSUE_ACTIVATION_REMOVED,
    ):
        ir.async_delete_issue(hass, DOMAIN, f"{issue}_{entry.entry_id}")
    ir.async_delete_issue(hass, DOMAIN, upgrade_issue_id(entry.entry_id))
    if removed:
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{ISSUE_REMOVE_IN_BANK_APP}_{entry.entry_id}",
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_REMOVE_IN_BANK_APP,
        translation_placeholders={"name": entry.title},
    )


async def _async_remove_at_bank(
    hass: HomeAssistant, entry: MobileTokenConfigEntry, store: ActivationStore
) -> bool:
    """Remove the activation at the bank with the biometry-factor key; True when done."""
    try:
        session = _open_session(hass, entry, store, await store.async_load())
    except InvalidStateError:
        return False
    if not session.state.has_biometry_key:
        return False
    try:
        await session.remove_activation(Authentication.biometry())
    except MobileTokenError as err:
        LOGGER.warning("The activation could not be removed at the bank: %s", err)
        return False
    LOGGER.debug("The activation was removed at the bank")
    return True
