"""Who may approve, reject and sign with the mobile token.

Any signed-in user can call any action unless the handler checks the caller,
so every action that acts for the bank's customer goes through this check:
administrators and the users listed in the entry's ``allowed_users`` option
may; automations and scripts run without a user and are allowed, because
only an administrator can write them.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import Unauthorized

from .const import CONF_ALLOWED_USERS, DOMAIN
from .coordinator import MobileTokenConfigEntry


class NotAllowedError(Unauthorized):
    """A refusal of the caller, not of the input: Home Assistant's authorisation error.

    It keeps the translated ``not_allowed`` message, which names the token, so
    that logs, traces and the card still say what to do.
    """

    def __init__(self, entry: MobileTokenConfigEntry, user_id: str) -> None:
        """Refuse ``user_id`` the use of ``entry``."""
        super().__init__(user_id=user_id, config_entry_id=entry.entry_id)
        self.translation_domain = DOMAIN
        self.translation_key = "not_allowed"
        self.translation_placeholders = {"name": entry.title}
        self.generate_message = True


async def async_check_user_allowed(
    hass: HomeAssistant, entry: MobileTokenConfigEntry, user_id: str | None
) -> None:
    """Raise the translated ``not_allowed`` error unless the user may use this token."""
    if user_id is None:
        return
    user = await hass.auth.async_get_user(user_id)
    if (
        user is not None
        and user.is_active
        and (user.is_admin or user_id in entry.options.get(CONF_ALLOWED_USERS, []))
    ):
        return
    raise NotAllowedError(entry, user_id)
