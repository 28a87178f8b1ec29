"""Offering the upgrade of a 3.3 activation to PowerAuth 4.0, and finishing one after a restart.

The upgrade is never silent: while the server offers 4.0 to a 3.3 activation
a fixable repair issue says so, and its flow asks for the PIN (the new
knowledge key is wrapped under it) before anything is sent. The protocol
steps and their crash safety live in the library (``mtoken.upgrade``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.components.repairs import RepairsFlow
from homeassistant.const import CONF_PIN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import CONF_ACTIVATION_ID, DOMAIN, LOGGER, REQUEST_TIMEOUT
from .mtoken.errors import AuthenticationError, InvalidPinError, MobileTokenError, NetworkError
from .mtoken.session import PowerAuthSession
from .mtoken.session4 import PowerAuth4Session
from .mtoken.sessions import AnySession
from .mtoken.upgrade import finish_upgrade, start_upgrade, upgrade_offered
from .store import ActivationStore

if TYPE_CHECKING:
    from .coordinator import MobileTokenConfigEntry

ISSUE_UPGRADE_AVAILABLE: Final = "upgrade_available"


def issue_id(entry_id: str) -> str:
    """The repair issue of one entry."""
    return f"{ISSUE_UPGRADE_AVAILABLE}_{entry_id}"


@callback
def async_update_upgrade_issue(
    hass: HomeAssistant, entry: MobileTokenConfigEntry, session: AnySession
) -> None:
    """Offer the upgrade while the server offers 4.0 to this 3.3 activation; withdraw it after."""
    if isinstance(session, PowerAuthSession) and upgrade_offered(session):
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id(entry.entry_id),
            is_fixable=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_UPGRADE_AVAILABLE,
            translation_placeholders={"name": entry.title},
            data={"entry_id": entry.entry_id},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry.entry_id))


def _v4_session(
    hass: HomeAssistant, entry: MobileTokenConfigEntry, v3: AnySession
) -> PowerAuth4Session:
    store = ActivationStore(hass, entry.data[CONF_ACTIVATION_ID])
    verify_ssl: bool = entry.data[CONF_VERIFY_SSL]
    return PowerAuth4Session(
        async_get_clientsession(hass, verify_ssl=verify_ssl),
        entry.data[CONF_URL],
        v3.config,
        persist=store.async_save,
        language=v3.language,
        verify_ssl=verify_ssl,
        timeout=REQUEST_TIMEOUT,
        run_blocking=hass.async_add_executor_job,
    )


async def async_resume_upgrade(
    store: ActivationStore, session: AnySession
) -> dict[str, Any] | None:
    """After a restart during an upgrade: finish it, or return the 3.3 state to go back to."""
    if not isinstance(session, PowerAuth4Session) or session.state.pending_upgrade_v3 is None:
        return None
    rollback = await finish_upgrade(session)
    if rollback is not None:
        await store.async_save(rollback)
    return rollback


class UpgradeRepairFlow(RepairsFlow):
    """Ask for the PIN, then upgrade the activation and reload the entry."""

    def __init__(self, entry: MobileTokenConfigEntry) -> None:
        """Remember the entry to upgrade."""
        self._entry = entry

    # FlowResult[Any, str]: a repairs flow's result is RepairsFlowResult from Home Assistant
    # 2026.x and a plain FlowResult in 2025.x; both fit this annotation.
    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult[Any, str]:
        """Start with the PIN form (the repairs manager passes the issue id here)."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult[Any, str]:
        """PIN form; the upgrade runs when it is submitted."""
        errors: dict[str, str] = {}
        if user_input is not None:
            error = await self._async_upgrade(user_input[CONF_PIN])
            if error is None:
                self.hass.config_entries.async_schedule_reload(self._entry.entry_id)
                return self.async_create_entry(data={})
            errors["base"] = error
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({vol.Required(CONF_PIN): str}),
            errors=errors,
            description_placeholders={"name": self._entry.title},
        )

    async def _async_upgrade(self, pin: str) -> str | None:
        coordinator = self._entry.runtime_data.coordinator
        v3 = coordinator.session
        if not isinstance(v3, PowerAuthSession):
            return None
        v4 = _v4_session(self.hass, self._entry, v3)
        try:
            await start_upgrade(v3, v4, pin)
            rollback = await finish_upgrade(v4)
        except InvalidPinError:
            return "pin_too_short"
        except AuthenticationError:
            return "wrong_pin"
        except MobileTokenError as err:
            # Past the start the 3.3 session is closed and a 4.0 state may be stored:
            # reloading the entry opens whatever is stored and resumes the upgrade.
            self.hass.config_entries.async_schedule_reload(self._entry.entry_id)
            if isinstance(err, NetworkError):
                return "cannot_connect"
            LOGGER.exception("The upgrade to protocol 4.0 failed")
            return "upgrade_failed"
        if rollback is not None:
            await ActivationStore(self.hass, self._entry.data[CONF_ACTIVATION_ID]).async_save(
                rollback
            )
            self.hass.config_entries.async_schedule_reload(self._entry.entry_id)
            return "upgrade_failed"
        return None
