"""Private storage of the activation secrets and the signature counter.

The activation state (device keys, the PIN-encrypted knowledge key, the counter,
the cached token) never goes into the config entry: ``core.config_entries`` is
plain JSON that ends up in backups. It lives in its own private store (a 0600
file, written atomically) keyed by the activation id, which is the config
entry's unique id, so the config flow can write it before the entry exists.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .mtoken.errors import StateNotSavedError
from .mtoken.state import check_activation_id

STORAGE_VERSION: Final = 1


class ActivationStore:
    """The activation state of one activation."""

    def __init__(self, hass: HomeAssistant, activation_id: str) -> None:
        self._hass = hass
        # The id names the file: only a UUID may (the flow refuses anything else too).
        check_activation_id(activation_id)
        self._store: Store[dict[str, Any]] = Store(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{activation_id}",
            private=True,
            atomic_writes=True,
        )

    async def async_load(self) -> dict[str, Any] | None:
        """Return the stored state, or None when there is none."""
        return await self._store.async_load()

    async def async_save(self, state: dict[str, Any]) -> None:
        """Write the state now; the library awaits this before a signed request leaves.

        While Home Assistant stops, ``Store.async_save`` only schedules the write
        for the very end: a signed request would leave with a counter that is
        not on disk. Refusing is the safe answer; nothing is signed or sent.
        """
        if self._hass.state is CoreState.stopping:
            raise StateNotSavedError("Home Assistant is stopping: the counter cannot be saved now")
        await self._store.async_save(state)

    async def async_remove(self) -> None:
        """Delete the stored state."""
        await self._store.async_remove()
