"""Every entity snapshotted, and the coordinator's bookkeeping, on a fake server.

These need operations and a status, not signatures, so they run on the small
fake of ``fake.py`` instead of the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    MAJOR_VERSION,
    MINOR_VERSION,
    SERVICE_TURN_OFF,
    STATE_OFF,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation

from custom_components.mobile_token.const import EVENT_OPERATION_ADDED

from .fake import FakeClient, FakeSession, fake_entry, fake_server, fixture_operations

PENDING = "sensor.kitchen_tablet_pending_operations"
POLLING = "switch.kitchen_tablet_polling"
INTERVAL = timedelta(seconds=7)
FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)


class PerReleaseSnapshots(HomeAssistantSnapshotExtension):
    """One snapshot folder per Home Assistant release under test.

    Entity registry entries and state attributes serialise differently between
    releases (2025.4 and 2026.10), so each release keeps its own file of the same
    entities, beside ``snapshots`` rather than in it: the other snapshots' folder
    would otherwise count the other release's file as unused.
    """

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        """``snapshots-ha<major>.<minor>`` next to the test file."""
        release = f"snapshots-ha{MAJOR_VERSION}.{MINOR_VERSION}"
        return str(Path(test_location.filepath).parent / release)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots of this release."""
    return snapshot.use_extension(PerReleaseSnapshots)


@pytest.fixture
def client() -> Iterator[FakeClient]:
    """The fake server, with the recorded payment and log-in pending."""
    with fake_server(FakeClient(FakeSession(), fixture_operations())) as fake:
        yield fake


async def set_up(hass: HomeAssistant) -> MockConfigEntry:
    """Add and set up the entry on the fake server."""
    entry = fake_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.mark.parametrize("platform", [Platform.EVENT, Platform.SENSOR, Platform.SWITCH])
async def test_entities(
    hass: HomeAssistant,
    client: FakeClient,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr("custom_components.mobile_token.PLATFORMS", [platform])
        entry = await set_up(hass)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_only_new_operations_are_announced(
    hass: HomeAssistant, client: FakeClient, freezer: FrozenDateTimeFactory
) -> None:
    # Still pending for a long while (the recorded ones expired long ago).
    client.operations = [replace(op, expires=FAR_FUTURE) for op in client.operations]
    added = async_capture_events(hass, EVENT_OPERATION_ADDED)
    await set_up(hass)
    # What was pending at the very first start is known, not news.
    assert added == []
    assert hass.states.get(PENDING).state == "2"

    payment, login = client.operations
    client.operations = [login]
    freezer.tick(INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    client.operations = [payment, login]
    freezer.tick(INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    # Gone and back (a late list, a server hiccup): announced once is enough.
    assert added == []
    assert hass.states.get(PENDING).state == "2"


async def test_polling_switch_stops_the_list_requests(
    hass: HomeAssistant, client: FakeClient, freezer: FrozenDateTimeFactory
) -> None:
    await set_up(hass)
    calls = client.list_calls
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: POLLING}, blocking=True
    )
    assert hass.states.get(POLLING).state == STATE_OFF
    for _ in range(3):
        freezer.tick(INTERVAL)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert client.list_calls == calls
