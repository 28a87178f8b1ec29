"""Polling of the pending operations and of the activation's status.

The coordinator fetches the pending list, reports what was added or removed,
and reads the activation status (blocked, removed, clock skew). What a user
does with an operation lives in ``actions``, which tells the coordinator
what it changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    CONF_LANGUAGE,
    CONF_SCAN_INTERVAL,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .announced import AnnouncedOperations
from .const import (
    CLOCK_SKEW_WARNING,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    EVENT_ADDED,
    EVENT_EXPIRED,
    EVENT_OPERATION_ADDED,
    EVENT_REMOVED,
    ISSUE_ACTIVATION_BLOCKED,
    ISSUE_ACTIVATION_REMOVED,
    ISSUE_CLOCK_SKEW,
    LOGGER,
    MIN_SCAN_INTERVAL,
    STATUS_ACTIVE,
    STATUS_BLOCKED,
    STATUS_CHECK_INTERVAL,
    STATUS_REMOVED,
)
from .errors import translate_error
from .mtoken.attributes import attribute_texts
from .mtoken.errors import (
    ActivationError,
    AuthenticationError,
    CounterDesyncError,
    MobileTokenError,
)
from .mtoken.model import Operation
from .mtoken.operations import MobileTokenClient
from .mtoken.session import ActivationStatusInfo
from .mtoken.sessions import AnySession
from .protocol_upgrade import async_update_upgrade_issue

if TYPE_CHECKING:
    from .inbox import InboxCoordinator

type MobileTokenConfigEntry = ConfigEntry[MobileTokenData]


@dataclass
class MobileTokenData:
    """What a loaded entry holds at runtime."""

    coordinator: MobileTokenCoordinator
    inbox: InboxCoordinator


@dataclass(frozen=True)
class OperationEvent:
    """Something that happened to an operation, for the event entity."""

    event_type: str
    operation: Operation
    details: dict[str, Any] = field(default_factory=dict)


type OperationEventListener = Callable[[OperationEvent], None]


def scan_interval(options: dict[str, Any] | Any) -> timedelta:
    """Return the polling interval, raised to the minimum as the mobile SDK does."""
    seconds = options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
    return timedelta(seconds=max(MIN_SCAN_INTERVAL, int(seconds)))


def language(hass: HomeAssistant, options: dict[str, Any] | Any) -> str:
    """Return the Accept-Language for the server: the option, else Home Assistant's."""
    return str(options.get(CONF_LANGUAGE) or hass.config.language)


class MobileTokenCoordinator(DataUpdateCoordinator[list[Operation]]):
    """Pending operations of one activation, and its status."""

    config_entry: MobileTokenConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: MobileTokenConfigEntry,
        session: AnySession,
        client: MobileTokenClient,
    ) -> None:
        """Keep the session and client of the entry."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=scan_interval(entry.options),
            # An unchanged list is no news: no state write, nothing pushed to the cards.
            always_update=False,
        )
        self.session = session
        self.client = client
        self.activation_status: ActivationStatusInfo | None = None
        self._known: dict[str, Operation] = {}
        self._announced = AnnouncedOperations(hass, entry.entry_id)
        # Counts the changes of the known operations (every event marks one): a list
        # fetched before a change is stale and must not bring an approved one back.
        self._revision = 0
        # The activation status the entities last showed; a change is news of its own.
        self._shown_status: ActivationStatusInfo | None = None
        self._next_status_check = 0.0
        self._polling = True
        self._event_listeners: list[OperationEventListener] = []
        # Events of the first fetch, which runs before the event entity exists.
        self._unheard: list[OperationEvent] = []
        # Minutes of clock skew reported in a repair issue (None: none); -1 until the
        # first check, so an issue left by an earlier run is withdrawn when it no longer applies.
        self._reported_skew_minutes: int | None = -1

    # -- state ---------------------------------------------------------------

    @property
    def allow_biometry(self) -> bool:
        """Whether operations can be approved without the PIN (biometry-factor key kept)."""
        return self.session.state.has_biometry_key

    @property
    def polling_chosen(self) -> bool:
        """Whether the polling switch was left on (the SDK's start/stop)."""
        return self._polling

    @property
    def is_polling(self) -> bool:
        """Whether the pending list is fetched periodically.

        Home Assistant's own "Enable polling" system option overrides the switch.
        """
        return self._polling and not self.config_entry.pref_disable_polling

    @callback
    def async_add_operation_listener(self, listener: OperationEventListener) -> CALLBACK_TYPE:
        """Call ``listener`` for every operation event; return the unsubscribe callback.

        The first listener also hears what the first fetch announced before it came.
        """
        self._event_listeners.append(listener)
        unheard, self._unheard = self._unheard, []
        for event in unheard:
            listener(event)
        return lambda: self._event_listeners.remove(listener)

    # -- polling -------------------------------------------------------------

    async def async_start_polling(self) -> None:
        """Fetch now and then at the configured interval (the SDK's start)."""
        if self.config_entry.pref_disable_polling:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="polling_disabled_by_system"
            )
        self._polling = True
        self.update_interval = scan_interval(self.config_entry.options)
        await self.async_refresh()

    @callback
    def async_stop_polling(self) -> None:
        """Stop fetching periodically (the SDK's stop); manual refreshes still work."""
        self._polling = False
        self.update_interval = None
        if self.last_update_success and self.data is not None:
            # Cancels the scheduled refresh; with no interval none is scheduled again.
            self.async_set_updated_data(self.data)
        else:
            self.async_update_listeners()

    async def _async_setup(self) -> None:
        """Recall what was announced, and check the activation before the first fetch."""
        await self._announced.async_load()
        await self._async_check_status()

    async def async_shutdown(self) -> None:
        """Stop polling and let the signed request in flight finish before a reload.

        The entry's next setup loads the persisted counter; the old session must
        not spend a counter value after that (it would be spent twice).
        """
        await super().async_shutdown()
        await self.session.close()

    async def _async_update_data(self) -> list[Operation]:
        """Fetch the pending list, diff it by id and report what changed."""
        options = self.config_entry.options
        if self._polling:
            self.update_interval = scan_interval(options)
        self.session.language = language(self.hass, options)
        if time.monotonic() >= self._next_status_check:
            await self._async_check_status()
        revision = self._revision
        try:
            operations = await self.client.list_operations()
        except (AuthenticationError, ActivationError) as err:
            # A refused token may mean the bank blocked or removed the activation.
            self._next_status_check = 0.0
            await self._async_check_status()
            raise UpdateFailed(
                translation_domain=DOMAIN, translation_key="authentication_failed"
            ) from err
        except MobileTokenError as err:
            # A token or ECIES timestamp refused after the server's clock moved looks
            # like any other failure: the next poll learns the server's time first.
            self._next_status_check = 0.0
            raise update_failed(err) from err
        if revision != self._revision:
            # An approval, rejection or another fetch changed what is known while this
            # answer was on its way: it predates them, so it is dropped.
            LOGGER.debug("Dropping a list fetched before the last change")
            return list(self._known.values())
        await self._async_diff(operations)
        self._async_check_clock_skew()
        return operations

    @callback
    def _async_refresh_finished(self) -> None:
        """Update the entities when only the activation status changed.

        With ``always_update`` off an unchanged list notifies nobody, but the status
        sensor shows the failed attempts and the status read during the refresh.
        """
        if self.activation_status != self._shown_status:
            self._shown_status = self.activation_status
            if self.data is not None:
                self.async_update_listeners()

    async def _async_check_status(self) -> None:
        """Read the activation status; a blocked or removed activation needs a new one."""
        try:
            # The server's time first, as the mobile SDK does: tokens and ECIES
            # timestamps are checked against it (mobile-token-api.md section 6).
            await self.session.server_time()
            status = await self.session.fetch_status()
        except CounterDesyncError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="counter_desync"
            ) from err
        except MobileTokenError as err:
            raise update_failed(err) from err
        self.activation_status = status
        self._next_status_check = time.monotonic() + STATUS_CHECK_INTERVAL.total_seconds()
        if status.status == STATUS_ACTIVE:
            # The bank may unblock the activation: its issue no longer applies.
            self._async_delete_issues()
            async_update_upgrade_issue(self.hass, self.config_entry, self.session)
        if status.status in (STATUS_BLOCKED, STATUS_REMOVED):
            self._async_create_issue(status.status)
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key=f"activation_{status.status}"
            )

    @callback
    def _async_delete_issues(self) -> None:
        for issue in (ISSUE_ACTIVATION_BLOCKED, ISSUE_ACTIVATION_REMOVED):
            ir.async_delete_issue(self.hass, DOMAIN, f"{issue}_{self.config_entry.entry_id}")

    @callback
    def _async_create_issue(self, status: str) -> None:
        issue = ISSUE_ACTIVATION_BLOCKED if status == STATUS_BLOCKED else ISSUE_ACTIVATION_REMOVED
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{issue}_{self.config_entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=issue,
            translation_placeholders={"name": self.config_entry.title},
        )

    @callback
    def _async_check_clock_skew(self) -> None:
        """Tell the user when the server's clock and ours disagree widely; withdraw it after."""
        clock = self.session.clock
        skew = timedelta(milliseconds=abs(clock.offset_ms))
        minutes = round(skew.total_seconds() / 60) if skew > CLOCK_SKEW_WARNING else None
        if minutes == self._reported_skew_minutes:
            return
        self._reported_skew_minutes = minutes
        issue_id = f"{ISSUE_CLOCK_SKEW}_{self.config_entry.entry_id}"
        if minutes is None:
            LOGGER.debug("The server's clock agrees with ours again")
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        LOGGER.warning(
            "The server's clock is %d minutes %s ours; requests use the server's time",
            minutes,
            "ahead of" if clock.offset_ms > 0 else "behind",
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_CLOCK_SKEW,
            translation_placeholders={"name": self.config_entry.title, "minutes": str(minutes)},
        )

    async def _async_diff(self, operations: list[Operation]) -> None:
        """Compute added and removed operations by id, as the SDK's delegate does.

        Only operations never announced are added: those announced before a restart
        or reload are known from the stored memory, and an operation approved here
        is never news again, however late a list still naming it arrives.
        """
        current = {operation.id: operation for operation in operations}
        now = self.session.clock.now()
        if not self._announced.has_memory:
            # No memory yet (a new entry, or one from before it existed): what is
            # pending now was seen already and becomes known without a notification.
            LOGGER.debug("%d operations pending at the first start", len(current))
            self._known = current
            await self._announced.async_remember(operations, now)
            return
        removed = [op for op_id, op in self._known.items() if op_id not in current]
        added = [
            op for op in operations if op.id not in self._known and op.id not in self._announced
        ]
        self._known = current
        self._revision += 1
        await self._announced.async_remember(operations, now)
        for operation in removed:
            self._async_fire(
                EVENT_EXPIRED if operation.is_expired(now) else EVENT_REMOVED, operation
            )
        for operation in added:
            LOGGER.debug("New operation %s (%s)", operation.id, operation.name)
            self._async_fire(EVENT_ADDED, operation)
            summary = operation.summary()
            self.hass.bus.async_fire(
                EVENT_OPERATION_ADDED,
                {
                    "config_entry_id": self.config_entry.entry_id,
                    "operation_id": operation.id,
                    "name": operation.name,
                    "title": summary["title"],
                    "message": summary["message"],
                    "expires": summary["expires"],
                    "allowed_factors": summary["allowed_factors"],
                    # What an approval from a notification needs: the biometry-factor key,
                    # and no proximity code (which only the card can ask for).
                    "allow_biometry": self.allow_biometry,
                    "requires_proximity": operation.requires_proximity_check,
                    # What the notification must say, and whether the bank's warning
                    # screen must be read first (then only the card may approve).
                    "attributes": attribute_texts(operation.form_data.attributes),
                    "warning": operation.has_warning_screen,
                },
            )

    @callback
    def _async_fire(self, event_type: str, operation: Operation, **details: Any) -> None:
        """Tell the listeners; every event marks a change of the known operations."""
        self._revision += 1
        event = OperationEvent(event_type, operation, details)
        if not self._event_listeners and self.data is None:
            # The first fetch: the event entity is set up only after it.
            self._unheard.append(event)
        for listener in list(self._event_listeners):
            listener(event)

    # -- what the actions tell the coordinator --------------------------------

    def known_operation(self, operation_id: str) -> Operation | None:
        """Return the listed copy of a pending operation, if the last fetch had it."""
        return self._known.get(operation_id)

    @callback
    def async_forget_operation(self, operation_id: str) -> None:
        """Drop an operation an action finished, so the next diff reports it no more."""
        self._known.pop(operation_id, None)
        # A list fetched before this change would bring the operation back.
        self._revision += 1

    @callback
    def async_report(self, event_type: str, operation: Operation, **details: Any) -> None:
        """Tell the event entity what an action did to an operation."""
        self._async_fire(event_type, operation, **details)

    @callback
    def async_status_changed(self, status: ActivationStatusInfo | None) -> None:
        """Take the status an action learned (if any) and read it again at the next refresh."""
        self._next_status_check = 0.0
        if status is not None and status != self.activation_status:
            self.activation_status = status
            # The status sensor's attempts follow the server at once.
            self.async_update_listeners()


def update_failed(err: MobileTokenError) -> UpdateFailed:
    """The translated polling failure for a library error, in the user's language.

    The library's message is English: it goes to the debug log, not to the user.
    """
    LOGGER.debug("Fetching the pending operations failed: %s", err)
    translated = translate_error(err)
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=translated.translation_key,
        translation_placeholders=translated.translation_placeholders,
    )
