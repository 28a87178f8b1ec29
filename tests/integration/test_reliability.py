"""Faults, crashes and restarts survived at the Home Assistant level, against the emulator.

Every request gives up after a lowered ``REQUEST_TIMEOUT`` here, so a server
that answers in 10 s is a timeout without a real 10 s wait.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import aiohttp
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_NAME,
    CONF_URL,
    CONF_VERIFY_SSL,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.mobile_token import actions
from custom_components.mobile_token.const import (
    CONF_ACTIVATION_ID,
    DOMAIN,
    STATUS_CHECK_INTERVAL,
)
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry
from custom_components.mobile_token.mtoken.counter import advance_counter
from custom_components.mobile_token.mtoken.operations import PATH_AUTHORIZE
from custom_components.mobile_token.store import ActivationStore

from .conftest import (
    PIN,
    activate,
    activation_input,
    add_mock_entry,
    create_operation,
    new_activation_code,
    start_flow,
)

PENDING = "sensor.kitchen_tablet_pending_operations"
EVENTS = "event.kitchen_tablet_operations"
STATUS = "sensor.kitchen_tablet_activation_status"
INTERVAL = timedelta(seconds=7)
# Lowered from 10 s: a 10 s latency is then a timeout within a fraction of a second.
FAST_TIMEOUT = 0.3
SLOW_ANSWER_S = 10.0
# An action makes a handful of requests at most, each bounded by the timeout.
ACTION_BOUND_S = 8 * FAST_TIMEOUT
CLOCK_STEP = timedelta(milliseconds=50)
REAL_PAUSE_S = 0.002
TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / DOMAIN / "translations"
EXCEPTIONS = json.loads((TRANSLATIONS / "en.json").read_text("utf-8"))["exceptions"]

type Fault = Callable[[Any], Awaitable[None]]


@pytest.fixture(autouse=True)
def fast_timeout() -> Iterator[None]:
    """Every session of these tests gives up on a request after ``FAST_TIMEOUT``."""
    with (
        patch("custom_components.mobile_token.REQUEST_TIMEOUT", FAST_TIMEOUT),
        patch("custom_components.mobile_token.config_flow.REQUEST_TIMEOUT", FAST_TIMEOUT),
    ):
        yield


@pytest.fixture
async def entry(hass: HomeAssistant, emulator: Any) -> MobileTokenConfigEntry:
    """An activation with the PIN only, its sessions using the lowered timeout."""
    return await activate(hass, emulator)


async def with_time_passing[T](freezer: FrozenDateTimeFactory, awaitable: Awaitable[T]) -> T:
    """Await while the frozen clock moves on, so that request timeouts can fire.

    The test clock is frozen, and the event loop's timers follow it: a timeout
    or a slow answer only ends when the test moves the clock.
    """
    task = asyncio.ensure_future(awaitable)
    while not task.done():
        # A real pause lets sockets make progress between steps of the frozen clock.
        await asyncio.get_running_loop().run_in_executor(None, time.sleep, REAL_PAUSE_S)
        freezer.tick(CLOCK_STEP)
    return await task


async def settle(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Wait for the background refreshes, letting time pass for their timeouts."""
    await with_time_passing(freezer, hass.async_block_till_done(wait_background_tasks=True))


async def pass_time(freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Let ``seconds`` of frozen time pass in small steps (slow answers finish)."""
    await with_time_passing(freezer, asyncio.sleep(seconds))


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta = INTERVAL
) -> None:
    """Let one polling interval pass."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await settle(hass, freezer)


async def call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    """Call an action of the integration and wait for it; with a PIN, the card's way in.

    No action takes a PIN: the card's websocket commands hand it to ``actions``,
    which is what is called here (the commands themselves are tested elsewhere).
    """
    if "pin" in data:
        return await with_pin(hass, service, dict(data))
    return await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        return_response=service in ("claim", "get_operation", "get_history"),
    )


async def with_pin(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    """Approve or read the history with the PIN, as the card's commands do."""
    [entry] = [
        item
        for item in hass.config_entries.async_entries(DOMAIN)
        if item.state is ConfigEntryState.LOADED
    ]
    coordinator = entry.runtime_data.coordinator
    if service == "approve":
        return await actions.async_approve(coordinator, data.pop("operation_id"), **data)
    assert service == "get_history", service
    operations = await actions.async_get_history(coordinator, **data)
    return {"operations": [operation.to_dict() for operation in operations]}


async def server_status(emulator: Any, operation_id: str) -> str:
    """The operation's status on the bank's side."""
    return str((await emulator.admin.get_operation(operation_id))["status"])


def stored_state(hass_storage: dict[str, Any], entry: MobileTokenConfigEntry) -> dict[str, Any]:
    """The activation state persisted in the private store."""
    state: dict[str, Any] = hass_storage[f"{DOMAIN}.{entry.data[CONF_ACTIVATION_ID]}"]["data"]
    return state


async def server_counter(emulator: Any) -> int:
    """The counter the server expects next for the (only) activation."""
    (activation,) = await emulator.admin.activations()
    return int(activation["counter"])


async def assert_counter_in_step(
    hass: HomeAssistant,
    emulator: Any,
    entry: MobileTokenConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A status check brings the server's counter and the persisted one together."""
    await tick(hass, freezer, STATUS_CHECK_INTERVAL)
    assert stored_state(hass_storage, entry)["ctrByte"] == await server_counter(emulator) % 256


async def approve_works(hass: HomeAssistant, emulator: Any) -> None:
    """A fresh operation is approved with the PIN."""
    operation = await create_operation(emulator)
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert await server_status(emulator, operation["id"]) == "APPROVED"


def arm(kind: str, value: float | None = None) -> Fault:
    """A fault for the next request to the server."""

    async def inject(emulator: Any) -> None:
        await emulator.admin.fault(kind, value=value)

    return inject


async def server_down(emulator: Any) -> None:
    """The server is not running at all."""
    await emulator.stop()


FAULTS: dict[str, Fault] = {
    "down": server_down,
    "http500": arm("http500"),
    "malformed": arm("malformed"),
    "drop": arm("drop"),
    "latency": arm("latency", SLOW_ANSWER_S),
}


async def end_fault(emulator: Any, freezer: FrozenDateTimeFactory, kind: str) -> None:
    """Start the server again after ``down``; let slow answers finish; others end by themselves."""
    if kind == "down":
        await emulator.start(int(emulator.url.rsplit(":", 1)[1]))
    if kind == "latency":
        await pass_time(freezer, SLOW_ANSWER_S)


def integration_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Error records the integration logged."""
    return [
        record
        for record in caplog.records
        if record.name.startswith("custom_components.mobile_token")
        and record.levelno >= logging.ERROR
    ]


@pytest.mark.parametrize("kind", list(FAULTS))
async def test_polling_fault_unavailable_logged_once_then_recovers(
    hass: HomeAssistant,
    emulator: Any,
    entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    operation = await create_operation(emulator)
    caplog.clear()
    for _ in range(3):
        if kind != "down" or not _:
            await FAULTS[kind](emulator)
        await tick(hass, freezer)
        assert hass.states.get(PENDING).state == STATE_UNAVAILABLE
        assert hass.states.get(EVENTS).state == STATE_UNAVAILABLE
    assert len(integration_errors(caplog)) == 1
    assert "Error fetching mobile_token data" in caplog.text

    await end_fault(emulator, freezer, kind)
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == "1"
    assert "recovered" in caplog.text
    # Nothing lost: the operation that came during the fault is there and can be approved.
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert await server_status(emulator, operation["id"]) == "APPROVED"
    await assert_counter_in_step(hass, emulator, entry, hass_storage, freezer)


@pytest.mark.parametrize("kind", list(FAULTS))
async def test_actions_fail_translated_within_a_bound_then_work(
    hass: HomeAssistant,
    emulator: Any,
    entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    kind: str,
) -> None:
    to_approve = await create_operation(emulator)
    to_reject = await create_operation(emulator)
    to_claim = await create_operation(emulator, userId=None, name="login")
    await call(hass, "refresh", {})
    actions = [
        ("approve", {"operation_id": to_approve["id"], "pin": PIN}),
        ("reject", {"operation_id": to_reject["id"], "reason": "UNEXPECTED_OPERATION"}),
        ("claim", {"operation_id": to_claim["id"]}),
        ("get_operation", {"operation_id": to_claim["id"]}),
    ]
    for service, data in actions:
        if kind != "down" or service == "approve":
            await FAULTS[kind](emulator)
        started = time.monotonic()
        with pytest.raises(HomeAssistantError) as err:
            await with_time_passing(freezer, call(hass, service, data))
        # A 10 s answer is not waited for: the action fails once the request times out.
        assert time.monotonic() - started < ACTION_BOUND_S
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key in ("cannot_connect", "server_error")
        assert err.value.translation_key in EXCEPTIONS
    await end_fault(emulator, freezer, kind)

    # Everything works again; a malformed answer came after the server did the work.
    await call(hass, "approve", {"operation_id": to_approve["id"], "pin": PIN})
    assert await server_status(emulator, to_approve["id"]) == "APPROVED"
    if kind != "malformed":
        await call(hass, "reject", actions[1][1])
    assert await server_status(emulator, to_reject["id"]) == "REJECTED"
    claimed = await call(hass, "claim", {"operation_id": to_claim["id"]})
    assert claimed["operation"]["id"] == to_claim["id"]
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == "1"
    await assert_counter_in_step(hass, emulator, entry, hass_storage, freezer)
    await approve_works(hass, emulator)


def before_request(
    entry: MobileTokenConfigEntry, path: str, effect: Callable[[], Awaitable[None]]
) -> Any:
    """Run ``effect`` just before the session sends a request to ``path``.

    The session has persisted the advanced counter by then: this is the moment
    a crash or a lost connection costs a counter value.
    """
    transport = entry.runtime_data.coordinator.session.transport
    original = transport.post

    async def post(request_path: str, body: bytes, headers: Any = None) -> Any:
        if request_path == path:
            await effect()
        return await original(request_path, body, headers)

    return patch.object(transport, "post", post)


@pytest.mark.parametrize("how", ["crash", "drop", "lost_answer"])
async def test_counter_spent_without_an_answer_then_restart(
    hass: HomeAssistant,
    emulator: Any,
    entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    how: str,
) -> None:
    operation = await create_operation(emulator)
    await call(hass, "refresh", {})
    counter = stored_state(hass_storage, entry)["ctrByte"]
    server = await server_counter(emulator)
    lowest_level = patch.object(
        aiohttp.ClientSession, "_request", side_effect=aiohttp.ClientOSError("host went down")
    )

    async def crash() -> None:
        lowest_level.start()

    effects = {
        "crash": crash,
        "drop": lambda: emulator.admin.fault("drop"),
        "lost_answer": lambda: emulator.admin.fault("malformed"),
    }
    with (
        before_request(entry, PATH_AUTHORIZE, effects[how]),
        pytest.raises(HomeAssistantError) as err,
    ):
        await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    if how == "crash":
        lowest_level.stop()
    assert err.value.translation_key == "cannot_connect"
    # The counter was persisted before the request left.
    assert stored_state(hass_storage, entry)["ctrByte"] == (counter + 1) % 256
    processed = how == "lost_answer"
    assert await server_counter(emulator) == server + processed
    assert await server_status(emulator, operation["id"]) == (
        "APPROVED" if processed else "PENDING"
    )

    # Home Assistant starts again from the private store.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass, freezer)
    if not processed:
        await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    # Nothing lost: the operation ends approved either way.
    assert await server_status(emulator, operation["id"]) == "APPROVED"
    await approve_works(hass, emulator)
    await assert_counter_in_step(hass, emulator, entry, hass_storage, freezer)


async def test_status_check_resynchronises_a_counter_far_ahead(
    hass: HomeAssistant,
    emulator: Any,
    entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    # Eleven requests lost after their counter was persisted (over half the look-ahead of 20).
    lost = 11
    server = await server_counter(emulator)
    await hass.config_entries.async_unload(entry.entry_id)
    stored = stored_state(hass_storage, entry)
    ctr_data = base64.b64decode(stored["ctrData"])
    stored["ctrData"] = base64.b64encode(advance_counter(ctr_data, lost)).decode()
    stored["ctrByte"] = (stored["ctrByte"] + lost) % 256

    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass, freezer)
    # The status check at setup proved a signature, which moved the server's counter on.
    assert await server_counter(emulator) == server + lost + 1
    assert stored_state(hass_storage, entry)["ctrByte"] == (server + lost + 1) % 256
    await approve_works(hass, emulator)


async def test_config_flows_abandoned_by_a_restart_leave_nothing(
    hass: HomeAssistant, emulator: Any, hass_storage: dict[str, Any]
) -> None:
    # Stopped at the activation form, then at the bank's confirmation.
    abandoned = await start_flow(hass, emulator)
    hass.config_entries.flow.async_abort(abandoned["flow_id"])
    pending = await start_flow(hass, emulator)
    code = await new_activation_code(emulator, commit="manual")
    pending = await hass.config_entries.flow.async_configure(
        pending["flow_id"], activation_input(code)
    )
    assert pending["step_id"] == "commit"
    hass.config_entries.flow.async_abort(pending["flow_id"])
    assert not hass.config_entries.async_entries(DOMAIN)
    # No secrets of an activation nobody uses were written.
    assert not [key for key in hass_storage if key.startswith(f"{DOMAIN}.")]

    entry = await activate(hass, emulator)
    assert entry.state is ConfigEntryState.LOADED
    await approve_works(hass, emulator)


async def test_entry_reloaded_mid_poll(
    hass: HomeAssistant,
    emulator: Any,
    entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await create_operation(emulator)
    await emulator.admin.fault("latency", value=SLOW_ANSWER_S)
    freezer.tick(INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    # The poll waits for the slow server while the entry is reloaded.
    assert await with_time_passing(freezer, hass.config_entries.async_reload(entry.entry_id))
    await settle(hass, freezer)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(PENDING).state == "1"
    await pass_time(freezer, SLOW_ANSWER_S)
    await approve_works(hass, emulator)


async def test_entry_reloaded_while_an_approval_waits(
    hass: HomeAssistant,
    emulator: Any,
    entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    operation = await create_operation(emulator)
    # The approval fetches the operation slowly; meanwhile the entry reloads.
    await emulator.admin.fault("latency", value=FAST_TIMEOUT / 2)
    approval = hass.async_create_task(
        call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    )
    await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.05)
    assert await hass.config_entries.async_reload(entry.entry_id)
    # The old session signs nothing more: the new one owns the counter now.
    with pytest.raises(HomeAssistantError) as err:
        await with_time_passing(freezer, approval)
    assert err.value.translation_key in EXCEPTIONS
    assert await server_status(emulator, operation["id"]) == "PENDING"

    # The next approval signs with a counter value the server has not seen.
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert await server_status(emulator, operation["id"]) == "APPROVED"
    await assert_counter_in_step(hass, emulator, entry, hass_storage, freezer)


def skew_issue(issue_registry: ir.IssueRegistry, entry: MobileTokenConfigEntry) -> Any:
    """The clock-skew repair issue of the entry, if any."""
    return issue_registry.async_get_issue(DOMAIN, f"clock_skew_{entry.entry_id}")


@pytest.mark.parametrize("skew", [2 * 3600, -2 * 3600])
async def test_clock_skew_from_the_start(
    hass: HomeAssistant,
    emulator: Any,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    skew: int,
) -> None:
    await emulator.admin.fault("clock_skew", count=0, value=skew)
    # The activation (ECIES) and the token work through the server's time.
    entry = await activate(hass, emulator)
    coordinator = entry.runtime_data.coordinator
    assert abs(coordinator.session.clock.offset_ms - skew * 1000) < 1000
    issue = skew_issue(issue_registry, entry)
    assert issue is not None
    assert issue.translation_key == "clock_skew"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {"name": "Kitchen tablet", "minutes": "120"}
    await approve_works(hass, emulator)
    history = await call(hass, "get_history", {"pin": PIN})
    assert history["operations"][0]["status"] == "APPROVED"

    # The clocks agree again: the issue goes at the next status check.
    await emulator.admin.fault("clock_skew", count=0, value=0)
    await tick(hass, freezer, STATUS_CHECK_INTERVAL)
    assert skew_issue(issue_registry, entry) is None
    await approve_works(hass, emulator)


async def test_clock_skew_arising_while_running(
    hass: HomeAssistant,
    emulator: Any,
    entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    assert skew_issue(issue_registry, entry) is None
    operation = await create_operation(emulator, expiresInSeconds=3 * 3600)
    await emulator.admin.fault("clock_skew", count=0, value=-2 * 3600)
    # A token signed with our time is refused; a new one (ECIES) is made on the server's time.
    await tick(hass, freezer)
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == "1"
    assert skew_issue(issue_registry, entry) is not None
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert await server_status(emulator, operation["id"]) == "APPROVED"
    await approve_works(hass, emulator)

    # A restart starts with the server's time: the issue stays while the skew does.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass, freezer)
    assert skew_issue(issue_registry, entry) is not None
    await approve_works(hass, emulator)


def ws_approve(entry: MobileTokenConfigEntry, operation_id: str, **fields: Any) -> dict[str, Any]:
    """The card's approve command."""
    return {
        "type": "mobile_token/approve",
        "entry_id": entry.entry_id,
        "operation_id": operation_id,
        "pin": PIN,
        **fields,
    }


async def ws_call(client: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Send a command and wait for its own result."""
    await client.send_json_auto_id(message)
    while True:
        response: dict[str, Any] = await client.receive_json()
        if response["id"] == message["id"]:
            return response


async def test_ten_concurrent_approvals_spend_distinct_counters(
    hass: HomeAssistant,
    emulator: Any,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    hass_ws_client: WebSocketGenerator,
) -> None:
    persisted: list[str] = []
    original_save = ActivationStore.async_save

    async def recording_save(store: ActivationStore, state: dict[str, Any]) -> None:
        persisted.append(state["ctrData"])
        await original_save(store, state)

    with patch.object(ActivationStore, "async_save", recording_save):
        entry = await activate(hass, emulator)
        operations = [await create_operation(emulator) for _ in range(10)]
        await call(hass, "refresh", {})
        persisted.clear()
        clients = [await hass_ws_client(hass) for _ in range(5)]
        server = await server_counter(emulator)

        results = await asyncio.gather(
            *(
                call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
                for operation in operations[:5]
            ),
            *(
                ws_call(client, ws_approve(entry, operation["id"]))
                for client, operation in zip(clients, operations[5:], strict=True)
            ),
        )

    assert [result["success"] for result in results[5:]] == [True] * 5
    for operation in operations:
        assert await server_status(emulator, operation["id"]) == "APPROVED"
    # One persisted counter value per signature, none twice, all accepted in order.
    assert len(persisted) == 10
    assert len(set(persisted)) == 10
    assert await server_counter(emulator) == server + 10
    assert stored_state(hass_storage, entry)["ctrData"] == persisted[-1]
    assert hass.states.get(PENDING).state == "0"


async def test_last_pin_attempt_needs_the_risk_accepted(
    hass: HomeAssistant,
    emulator: Any,
    entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
) -> None:
    operation = await create_operation(emulator, maxFailureCount=10)
    for _ in range(4):
        with pytest.raises(HomeAssistantError):
            await call(hass, "approve", {"operation_id": operation["id"], "pin": "0000"})
    # Still known after a restart: the status is read at setup.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass, freezer)
    assert hass.states.get(STATUS).attributes["remaining_attempts"] == 1

    client = await hass_ws_client(hass)
    refused = await ws_call(client, ws_approve(entry, operation["id"]))
    assert not refused["success"]
    assert refused["error"]["translation_key"] == "block_risk"
    assert "blocks the mobile token" in refused["error"]["message"]
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert err.value.translation_key == "block_risk"
    assert err.value.translation_placeholders == {"remaining_attempts": "1"}
    assert await server_status(emulator, operation["id"]) == "PENDING"

    # Possession alone risks nothing; the right PIN with the risk accepted approves.
    accepted = await ws_call(client, ws_approve(entry, operation["id"], accept_block_risk=True))
    assert accepted["success"], accepted
    assert await server_status(emulator, operation["id"]) == "APPROVED"
    assert hass.states.get(STATUS).attributes["remaining_attempts"] == 5


async def test_tls_verification_off_is_a_repair_issue_until_turned_on(
    hass: HomeAssistant, emulator: Any, issue_registry: ir.IssueRegistry
) -> None:
    entry = await add_mock_entry(hass, emulator, verify_ssl=False)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    issue_id = f"tls_verification_disabled_{entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "tls_verification_disabled"
    assert issue.translation_placeholders == {"name": "Kitchen tablet", "url": emulator.url}
    assert issue.severity is ir.IssueSeverity.WARNING

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: emulator.url, CONF_VERIFY_SSL: True, CONF_NAME: "Kitchen tablet"},
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_VERIFY_SSL] is True
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    # Off again, then the entry removed: no warning left behind.
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_VERIFY_SSL: False})
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    await hass.config_entries.async_remove(entry.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize("language", ["en", "cs"])
def test_repair_issues_are_translated(language: str) -> None:
    issues = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))["issues"]
    for key, placeholders in (
        ("clock_skew", ("{name}", "{minutes}")),
        ("tls_verification_disabled", ("{name}", "{url}")),
    ):
        text = issues[key]["title"] + issues[key]["description"]
        assert all(placeholder in text for placeholder in placeholders), (language, key)
