"""Who may approve, reject and sign with the mobile token.

Any signed-in user can call any action unless the handler checks the caller,
so every action that acts for the bank's customer goes through this check:
administrators and the users listed in the entry's ``allowed_users`` option
may; automations and scripts run without a user and are allowed, because
only an administrator can write them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from .const import CONF_ALLOWED_USERS, DOMAIN

if TYPE_CHECKING:
    from .coordinator import MobileTokenConfigEntry


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
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_allowed",
        translation_placeholders={"name": entry.title},
    )
