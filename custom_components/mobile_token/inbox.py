"""Polling of the inbox: the bank's messages, their unread count, and news of new ones.

Separate from the operations' coordinator: the inbox is read far less often,
and a server without the inbox service must not disturb the operations. The
newest page of messages is read every minute; a message not seen before is
announced on the bus (``mobile_token_message_received``) for notifications,
except the ones already there when the entry loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import DOMAIN, EVENT_MESSAGE_RECEIVED, INBOX_SCAN_INTERVAL, LOGGER
from .errors import translate_error, validation_error
from .mtoken.errors import MobileTokenError, ServerError
from .mtoken.inbox import PAGE_SIZE, InboxClient, InboxMessage

# What the inbox service answers for a message id that is not the user's or does not exist.
MESSAGE_NOT_FOUND_CODES: Final = frozenset({"INVALID_REQUEST", "ERROR_NOT_FOUND"})

if TYPE_CHECKING:
    from .coordinator import MobileTokenConfigEntry


@dataclass(frozen=True)
class InboxState:
    """The unread count and the newest page of messages (without bodies)."""

    unread: int
    messages: list[InboxMessage] = field(default_factory=list)


class InboxCoordinator(DataUpdateCoordinator[InboxState]):
    """The inbox of one activation."""

    config_entry: MobileTokenConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: MobileTokenConfigEntry, client: InboxClient
    ) -> None:
        """Keep the client of the entry's session."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN}_inbox",
            update_interval=INBOX_SCAN_INTERVAL,
        )
        self.client = client
        self._seen: set[str] | None = None

    async def _async_update_data(self) -> InboxState:
        """Read the count and the newest messages; announce the new ones."""
        try:
            unread = await self.client.unread_count()
            messages = await self.client.messages(0, PAGE_SIZE)
        except MobileTokenError as err:
            # The library's message is English: the debug log has it, the user the translation.
            LOGGER.debug("Reading the inbox failed: %s", err)
            translated = translate_error(err)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=translated.translation_key,
                translation_placeholders=translated.translation_placeholders,
            ) from err
        self._announce(messages)
        return InboxState(unread, messages)

    def _announce(self, messages: list[InboxMessage]) -> None:
        ids = {message.id for message in messages}
        if self._seen is not None:
            for message in reversed(messages):  # oldest first, as they arrived
                if message.id not in self._seen and not message.read:
                    self.hass.bus.async_fire(
                        EVENT_MESSAGE_RECEIVED,
                        {
                            "config_entry_id": self.config_entry.entry_id,
                            "message_id": message.id,
                            "subject": message.subject,
                            "summary": message.summary,
                        },
                    )
        self._seen = ids | (self._seen or set())


# -- what the actions and the card do with the inbox (the coordinator above only polls) --


async def async_get_messages(
    inbox: InboxCoordinator, message_id: str | None = None
) -> list[InboxMessage]:
    """Every message, or one message with its body."""
    try:
        if message_id is not None:
            return [await inbox.client.message(message_id)]
        return await inbox.client.all_messages()
    except MobileTokenError as err:
        raise _inbox_error(err) from err


async def async_mark_read(inbox: InboxCoordinator, message_id: str | None) -> None:
    """Mark one message read, or all with None; the count follows at once."""
    try:
        if message_id is None:
            await inbox.client.mark_all_read()
        else:
            await inbox.client.mark_read(message_id)
    except MobileTokenError as err:
        raise _inbox_error(err) from err
    await inbox.async_refresh()


def _inbox_error(err: MobileTokenError) -> HomeAssistantError:
    """The server refuses an unknown message id as an invalid request: say which."""
    if isinstance(err, ServerError) and err.code in MESSAGE_NOT_FOUND_CODES:
        return validation_error("message_not_found")
    return translate_error(err)
