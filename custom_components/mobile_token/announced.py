"""What was already announced, remembered across restarts.

An operation that arrives while Home Assistant is stopped is news at the next
start; one announced before the stop is not. So the ids of announced operations
are kept in a store of their own (no secrets: ids and expiry times only) until
the operations expire and leave the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .mtoken.model import Operation

STORAGE_VERSION: Final = 1
# Kept this long after the expiry, or after the last sighting when the server gives
# none, so that a late list answer or a slow clock cannot make an old id news again.
RETENTION: Final = timedelta(days=1)


class AnnouncedOperations:
    """Ids of announced operations and until when to remember them."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[dict[str, str]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.announced.{entry_id}", private=True
        )
        self._until: dict[str, datetime] = {}
        # False until something was remembered: with no memory, what is pending at
        # the first start is taken as known (it was reported by an older version).
        self.has_memory = False

    def __contains__(self, operation_id: object) -> bool:
        """Whether the operation was announced."""
        return operation_id in self._until

    async def async_load(self) -> None:
        """Read what earlier runs announced."""
        stored = await self._store.async_load()
        if stored is None:
            return
        self.has_memory = True
        for operation_id, until in stored.items():
            if (parsed := dt_util.parse_datetime(until)) is not None:
                self._until[operation_id] = parsed

    async def async_remember(self, operations: Iterable[Operation], now: datetime) -> None:
        """Remember the listed operations, forget those long gone; write only on change."""
        before = dict(self._until)
        listed = set()
        for operation in operations:
            listed.add(operation.id)
            expires = operation.expires if operation.expires is not None else now
            self._until.setdefault(operation.id, expires + RETENTION)
        self._until = {
            op_id: until for op_id, until in self._until.items() if op_id in listed or until > now
        }
        if self._until == before and self.has_memory:
            return
        self.has_memory = True
        await self._store.async_save(
            {op_id: until.isoformat() for op_id, until in self._until.items()}
        )

    async def async_remove(self) -> None:
        """Delete the memory with the entry."""
        await self._store.async_remove()
