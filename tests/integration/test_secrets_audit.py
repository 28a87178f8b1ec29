"""Secrets audit: every flow at DEBUG, and no secret anywhere it could leak.

The test activates through the real config flow, polls, approves with each
factor, rejects, reads the history, claims, signs an offline QR code, drives
the card's websocket commands, downloads the diagnostics and activates again
through reauth, with the root logger at DEBUG. It records every secret as it
is created (PINs, activation codes, every key of the private store in each
version written, the keys the server side derived, the vault key, the device
private key, the PIN-derived key, the app secret) in every encoding it could
take, then looks for them in the log records, the diagnostics, every state
and attribute, every bus event, every action and websocket answer, the config
entry and every ``.storage`` file other than the integration's private store.
"""

from __future__ import annotations

import base64
import inspect
import json
import logging
import os
import stat
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    CONF_PIN,
    CONF_URL,
    CONF_VERIFY_SSL,
    EVENT_CALL_SERVICE,
    EVENT_LOGGING_CHANGED,
    MATCH_ALL,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import restore_state
from homeassistant.helpers.json import JSONEncoder
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.mobile_token import store as store_module
from custom_components.mobile_token.const import (
    ATTR_PIN,
    CONF_ACTIVATION_ID,
    CONF_ALLOW_BIOMETRY,
    CONF_APP_CONFIG,
    CONF_APP_VALUES,
    CONF_PIN_CONFIRM,
    DOMAIN,
)
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry
from custom_components.mobile_token.diagnostics import async_get_config_entry_diagnostics
from custom_components.mobile_token.mtoken import protection
from custom_components.mobile_token.mtoken.keys import (
    load_private_key,
    load_public_key,
    master_secret,
)

from .conftest import USER_ID, activation_input, create_operation

# Distinctive PINs: eight digits never found by chance in ids, counters or timestamps.
PIN: Final = "73915062"
WRONG_PIN: Final = "73916284"
REAUTH_PIN: Final = "48260317"
POLL: Final = timedelta(seconds=8)
# Long enough for every delayed ``.storage`` write (registries wait 10 s).
FLUSH: Final = timedelta(seconds=60)
# Shorter encodings (a 4-digit PIN, a one-byte counter) would match by chance.
MIN_FORM_LENGTH: Final = 8
PRIVATE_FILE_MODE: Final = 0o600

# The private store's fields that are keys or key material (ActivationState.to_dict);
# activationId, version, ctrByte, tokenId and the two public keys are not secret.
SECRET_STATE_FIELDS: Final = (
    "possessionKey",
    "encryptedKnowledgeKey",
    "knowledgeSalt",
    "biometryKey",
    "transportKey",
    "ctrData",
    "tokenSecret",
    "encryptedDevicePrivateKey",
)
# The keys the server derived for the activation (emulator records): the
# integration holds the knowledge key only encrypted, the vault key only in a
# vault unlock, the master secret only during the activation.
SERVER_KEY_FIELDS: Final = (
    "possession_key",
    "knowledge_key",
    "biometry_key",
    "transport_key",
    "vault_key",
    "ctr_data",
)

# Home Assistant's own DEBUG output that echoes data handed to it, not ours:
# - the test harness's storage mock logs every write and load with its data,
#   the private store included (Home Assistant's real Store logs no data);
# - the websocket connection logs every message it receives, so a PIN typed
#   into the card shows there when a user enables DEBUG for
#   ``homeassistant.components.websocket_api`` (the README warns about it).
#   What it sends is still audited;
# - the event bus logs every event it handles, an action call with its data:
#   a PIN given to an action shows there (the call_service events themselves
#   are audited below with only that field left out).
HARNESS_STORAGE_LOGGER: Final = "pytest_homeassistant_custom_component.common"
HARNESS_STORAGE_MESSAGES: Final = ("Writing data to %s: %s", "Loading data for %s: %s")
WEBSOCKET_LOGGER: Final = "homeassistant.components.websocket_api.http.connection"
WEBSOCKET_RECEIVED: Final = "%s: Received %s"
BUS_LOGGER: Final = "homeassistant.core"
BUS_HANDLING: Final = "Bus:Handling %s"
ACTION_CALL_REPR: Final = f"<Event {EVENT_CALL_SERVICE}[L]: domain={DOMAIN},"


def byte_forms(raw: bytes) -> set[str]:
    """Every way bytes could be written into a log line, an attribute or a file."""
    standard = base64.b64encode(raw).decode()
    return {
        standard,
        standard.rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        raw.hex().upper(),
        raw.decode("latin-1"),
        repr(raw)[2:-1],
    }


@dataclass
class Secrets:
    """Every secret seen, keyed by each encoded form, with a label saying what it is."""

    forms: dict[str, str] = field(default_factory=dict)

    def add_bytes(self, label: str, raw: bytes) -> None:
        """A key: all its encodings."""
        for form in byte_forms(raw):
            if len(form) >= MIN_FORM_LENGTH:
                self.forms.setdefault(form, label)

    def add_text(self, label: str, text: str) -> None:
        """A PIN or a code: itself and its UTF-8 bytes encoded."""
        self.forms.setdefault(text, label)
        self.add_bytes(label, text.encode())

    def add_code(self, label: str, code: str, signature: str | None) -> None:
        """An activation code as typed, without dashes, and as the signed QR text."""
        self.add_text(label, code)
        self.add_text(label, code.replace("-", ""))
        if signature is not None:
            self.add_text(label, f"{code}#{signature}")

    def add_b64(self, label: str, value: str | None) -> None:
        """A Base64 value from the store: the text and the decoded bytes."""
        if value:
            self.forms.setdefault(value, label)
            self.add_bytes(label, base64.b64decode(value))

    def leaks(self, places: Iterable[tuple[str, str]]) -> list[str]:
        """Return 'secret in place' for every form found in a place's text."""
        return sorted(
            {
                f"{label} in {place}"
                for place, text in places
                for form, label in self.forms.items()
                if form in text
            }
        )


@dataclass
class Recorder:
    """What the flows produced: states written to the private store, events, answers."""

    saved_states: list[dict[str, Any]] = field(default_factory=list)
    stores: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    answers: list[tuple[str, Any]] = field(default_factory=list)

    def answer(self, place: str, value: Any) -> Any:
        """Keep an action's or a websocket command's answer; return it."""
        self.answers.append((place, value))
        return value


def to_text(value: Any) -> str:
    """JSON as Home Assistant would write it (states, datetimes and all)."""
    return json.dumps(value, cls=JSONEncoder, ensure_ascii=False)


def event_text(event: Event) -> str:
    """The event as a listener or automation sees it."""
    data = dict(event.data)
    if event.event_type == EVENT_CALL_SERVICE and data.get("domain") == DOMAIN:
        # The platform puts an action's fields on the bus: a PIN given to an
        # action is visible there by design (the card sends it over its own
        # websocket command instead). Anything else in the call must be clean.
        service_data = dict(data["service_data"])
        service_data.pop(ATTR_PIN, None)
        data["service_data"] = service_data
    return to_text({"event_type": event.event_type, "data": data})


LOG_FORMAT: Final = logging.Formatter("%(name)s %(levelname)s %(message)s")


def is_harness_echo(record: logging.LogRecord) -> bool:
    """Home Assistant's own loggers echoing data handed to them (see above)."""
    if record.name == HARNESS_STORAGE_LOGGER:
        return record.msg in HARNESS_STORAGE_MESSAGES
    if record.name == WEBSOCKET_LOGGER:
        # The connection's adapter prefixes the connection id.
        return str(record.msg).endswith(WEBSOCKET_RECEIVED)
    if record.name == BUS_LOGGER and record.msg == BUS_HANDLING:
        return isinstance(record.args, tuple) and str(record.args[0]).startswith(ACTION_CALL_REPR)
    return False


def log_text(record: logging.LogRecord) -> str:
    """The line as a handler writes it (traceback included) and the raw arguments."""
    return f"{LOG_FORMAT.format(record)}\n{record.args!r}"


@pytest.fixture
def recorder(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Record every private-store write and every bus event from now on."""
    recorded = Recorder()
    original_save = store_module.ActivationStore.async_save

    async def recording_save(self: store_module.ActivationStore, state: dict[str, Any]) -> None:
        recorded.saved_states.append(json.loads(json.dumps(state)))
        recorded.stores[state["activationId"]] = self._store
        await original_save(self, state)

    monkeypatch.setattr(store_module.ActivationStore, "async_save", recording_save)

    @callback
    def _event(event: Event) -> None:
        recorded.events.append(event)

    hass.bus.async_listen(MATCH_ALL, _event)
    return recorded


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Let time pass: polls and delayed writes run."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def call(hass: HomeAssistant, recorder: Recorder, service: str, data: dict[str, Any]) -> Any:
    """Call an action of the integration; keep its answer when it has one."""
    response = service not in ("approve", "reject", "refresh")
    result = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )
    return recorder.answer(f"action {service}", result)


type Card = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


async def card_for(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, recorder: Recorder
) -> Card:
    """The card's websocket commands (the only way a PIN goes in); every answer is kept."""
    client = await hass_ws_client(hass)

    async def command(message: dict[str, Any]) -> dict[str, Any]:
        await client.send_json_auto_id(message)
        while True:
            received: dict[str, Any] = await client.receive_json()
            recorder.answer("websocket message", received)
            if received["id"] == message["id"] and received["type"] == "result":
                return received

    return command


async def new_code(emulator: Any, secrets: Secrets, label: str, *, signed: bool) -> str:
    """An activation code from the bank, recorded as a secret; the QR text when signed."""
    created = await emulator.admin.create_activation_code(USER_ID)
    code, signature = str(created["activationCode"]), str(created["activationSignature"])
    secrets.add_code(label, code, signature)
    return f"{code}#{signature}" if signed else code


async def activate_with_defaults(
    hass: HomeAssistant, emulator: Any, secrets: Secrets
) -> MobileTokenConfigEntry:
    """The real config flow as a user fills it in, leaving certificate checking at its default."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        # The collapsed section comes as an empty dict, as the frontend sends it.
        {CONF_URL: emulator.url, CONF_APP_CONFIG: emulator.app_config, CONF_APP_VALUES: {}},
    )
    assert result["step_id"] == "activate", result
    code = await new_code(emulator, secrets, "activation code", signed=True)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        activation_input(code, **{CONF_PIN: PIN, CONF_PIN_CONFIRM: PIN, CONF_ALLOW_BIOMETRY: True}),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: MobileTokenConfigEntry = result["result"]
    assert entry.unique_id == entry.data[CONF_ACTIVATION_ID]
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def run_actions(
    hass: HomeAssistant,
    emulator: Any,
    recorder: Recorder,
    freezer: FrozenDateTimeFactory,
    card: Card,
    entry: MobileTokenConfigEntry,
) -> None:
    """Polling, every approval factor, a wrong PIN, rejection, history, claim, offline QR."""
    target = {"entry_id": entry.entry_id}
    one_factor = await create_operation(emulator, allowedFactors=["possession"])
    with_pin = await create_operation(emulator)
    biometry = await create_operation(emulator)
    rejected = await create_operation(emulator)
    for _ in range(3):
        await tick(hass, freezer, POLL)
    pending = hass.states.get("sensor.kitchen_tablet_pending_operations")
    assert pending is not None
    assert pending.state == "4"

    await call(hass, recorder, "approve", {"operation_id": one_factor["id"]})
    approve = {"type": f"{DOMAIN}/approve", **target, "operation_id": with_pin["id"]}
    wrong = await card({**approve, "pin": WRONG_PIN})
    assert wrong["error"]["code"] == "wrong_pin", wrong
    assert (await card({**approve, "pin": PIN}))["success"]
    await call(
        hass,
        recorder,
        "approve",
        {"operation_id": biometry["id"], "factor": "possession_biometry"},
    )
    await call(hass, recorder, "reject", {"operation_id": rejected["id"], "reason": "UNEXPECTED"})
    assert (await card({"type": f"{DOMAIN}/history", **target, "pin": PIN}))["success"]
    await call(hass, recorder, "get_history", {"factor": "possession_biometry"})

    unclaimed = await create_operation(emulator, userId=None, name="login", title="Log in")
    await call(hass, recorder, "claim", {"operation_id": unclaimed["id"]})
    await call(hass, recorder, "get_operation", {"operation_id": unclaimed["id"]})
    assert (await card({**approve, "operation_id": unclaimed["id"], "pin": PIN}))["success"]

    offline = await create_operation(emulator, title="Offline payment")
    qr = await emulator.admin.offline_qr(offline["id"])
    await call(hass, recorder, "parse_offline_qr", {"qr": qr})
    signed = await card({"type": f"{DOMAIN}/sign_offline_qr", **target, "qr": qr, "pin": PIN})
    assert signed["success"], signed
    await call(hass, recorder, "sign_offline_qr", {"qr": qr, "factor": "possession_biometry"})
    await call(hass, recorder, "refresh", {})
    statuses = [
        (await emulator.admin.get_operation(op["id"]))["status"]
        for op in (one_factor, with_pin, biometry, rejected, unclaimed)
    ]
    assert statuses == ["APPROVED", "APPROVED", "APPROVED", "REJECTED", "APPROVED"]


async def run_websocket(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    recorder: Recorder,
    entry: MobileTokenConfigEntry,
) -> None:
    """The card: subscribe, a wrong PIN, approve with the PIN and with biometry, reject."""
    operations = [await create_operation(emulator) for _ in range(3)]
    client = await hass_ws_client(hass)

    async def command(message: dict[str, Any]) -> dict[str, Any]:
        await client.send_json_auto_id(message)
        while True:
            received: dict[str, Any] = await client.receive_json()
            recorder.answer("websocket message", received)
            if received["id"] == message["id"] and received["type"] == "result":
                return received

    target = {"entry_id": entry.entry_id}
    assert (await command({"type": f"{DOMAIN}/subscribe", **target}))["success"]
    await call(hass, recorder, "refresh", {})
    approve = {"type": f"{DOMAIN}/approve", **target, "operation_id": operations[0]["id"]}
    wrong = await command({**approve, "pin": WRONG_PIN})
    assert wrong["error"]["code"] == "wrong_pin", wrong
    assert (await command({**approve, "pin": PIN}))["success"]
    biometry = {**approve, "operation_id": operations[1]["id"], "factor": "possession_biometry"}
    assert (await command(biometry))["success"]
    reject = {
        "type": f"{DOMAIN}/reject",
        **target,
        "operation_id": operations[2]["id"],
        "reason": "POSSIBLE_FRAUD",
    }
    assert (await command(reject))["success"]
    await client.close()


async def run_reauth(
    hass: HomeAssistant,
    emulator: Any,
    secrets: Secrets,
    recorder: Recorder,
    entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    card: Card,
) -> None:
    """The bank blocks the activation; the next poll asks for a new one; the user gives it."""
    await emulator.admin.block(entry.unique_id)
    await tick(hass, freezer, POLL)
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    code = await new_code(emulator, secrets, "reauth activation code", signed=False)
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"],
        {
            **activation_input(code),
            CONF_PIN: REAUTH_PIN,
            CONF_PIN_CONFIRM: REAUTH_PIN,
            CONF_ALLOW_BIOMETRY: True,
        },
    )
    assert result["reason"] == "reauth_successful", result
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    operation = await create_operation(emulator)
    await tick(hass, freezer, POLL)
    approve = {
        "type": f"{DOMAIN}/approve",
        "entry_id": entry.entry_id,
        "operation_id": operation["id"],
        "pin": REAUTH_PIN,
    }
    assert (await card(approve))["success"]


def collect_key_secrets(secrets: Secrets, emulator: Any, recorder: Recorder) -> None:
    """Every key of every state written, and what the server side derived for each activation."""
    pins = (PIN, REAUTH_PIN)
    for state in recorder.saved_states:
        for name in SECRET_STATE_FIELDS:
            secrets.add_b64(name, state.get(name))
        # The PIN-derived key that encrypts the knowledge key.
        salt = base64.b64decode(state["knowledgeSalt"])
        for pin in pins:
            secrets.add_bytes("PIN-derived key", protection.derive_pin_key(pin, salt))
    for activation_id in recorder.stores:
        record = emulator.emulator.db.get_activation(activation_id)
        for name in SERVER_KEY_FIELDS:
            if (value := getattr(record, name)) is not None:
                secrets.add_bytes(f"server-side {name}", value)
        secrets.add_bytes(
            "master secret",
            master_secret(
                load_private_key(record.server_private_key),
                load_public_key(record.device_public_key),
            ),
        )
        encrypted = next(
            base64.b64decode(state["encryptedDevicePrivateKey"])
            for state in recorder.saved_states
            if state["activationId"] == activation_id
        )
        secrets.add_bytes(
            "device private key",
            protection.decrypt_device_private_key(record.vault_key, encrypted),
        )


async def flush_storage(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Write what Home Assistant would write: restore state and every delayed save."""
    await restore_state.async_get(hass).async_dump_states()
    await tick(hass, freezer, FLUSH)


def places(
    caplog: pytest.LogCaptureFixture,
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    recorder: Recorder,
    diagnostics: list[dict[str, Any]],
    private_keys: set[str],
) -> list[tuple[str, str]]:
    """Every place a secret must not be, as (where, text)."""
    found: list[tuple[str, str]] = [
        (f"log {record.name}", log_text(record))
        for record in caplog.records
        if not is_harness_echo(record)
    ]
    found += [("diagnostics", to_text(item)) for item in diagnostics]
    found += [(f"state {state.entity_id}", to_text(state)) for state in hass.states.async_all()]
    found += [(f"event {event.event_type}", event_text(event)) for event in recorder.events]
    found += [(place, to_text(answer)) for place, answer in recorder.answers]
    found += [
        (f".storage/{key}", to_text(value))
        for key, value in hass_storage.items()
        if key not in private_keys
    ]
    return found


async def test_no_secret_leaks_in_any_flow(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    hass_storage: dict[str, Any],
    recorder: Recorder,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # The bus reads its logger's level only when told that logging changed.
    hass.bus.async_fire(EVENT_LOGGING_CHANGED)
    await hass.async_block_till_done()
    secrets = Secrets()
    for label, pin in (("PIN", PIN), ("wrong PIN", WRONG_PIN), ("reauth PIN", REAUTH_PIN)):
        secrets.add_text(label, pin)

    entry = await activate_with_defaults(hass, emulator, secrets)
    # Certificate checking is on unless the user turns it off.
    assert entry.data[CONF_VERIFY_SSL] is True
    first_id = entry.unique_id
    card = await card_for(hass, hass_ws_client, recorder)
    await run_actions(hass, emulator, recorder, freezer, card, entry)
    await run_websocket(hass, hass_ws_client, emulator, recorder, entry)
    diagnostics = [await async_get_config_entry_diagnostics(hass, entry)]
    await run_reauth(hass, emulator, secrets, recorder, entry, freezer, card)
    diagnostics.append(await async_get_config_entry_diagnostics(hass, entry))
    await flush_storage(hass, freezer)

    collect_key_secrets(secrets, emulator, recorder)
    private_keys = {f"{DOMAIN}.{activation_id}" for activation_id in recorder.stores}
    # Both activations wrote their private store; the blocked one's was deleted.
    assert set(recorder.stores) == {first_id, entry.unique_id}
    assert f"{DOMAIN}.{first_id}" not in hass_storage
    assert f"{DOMAIN}.{entry.unique_id}" in hass_storage
    # The audit saw what it must: our DEBUG lines, the delayed writes, a token.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")]
    assert any(message.startswith("Approving operation") for message in ours)
    assert {"core.config_entries", "core.restore_state", "core.entity_registry"} <= set(
        hass_storage
    )
    assert any(state.get("tokenSecret") for state in recorder.saved_states)
    labels = set(secrets.forms.values())
    assert labels >= {*SECRET_STATE_FIELDS, "PIN-derived key", "master secret"}
    # (The server's copies of the stored keys are the same values, labelled as stored.)
    assert labels >= {"server-side knowledge_key", "server-side vault_key", "device private key"}
    # The detector finds the stored keys where they belong (it cannot pass blindly).
    stored = to_text(hass_storage[f"{DOMAIN}.{entry.unique_id}"])
    assert len(secrets.leaks([("private store", stored)])) >= len(SECRET_STATE_FIELDS)

    leaks = secrets.leaks(places(caplog, hass, hass_storage, recorder, diagnostics, private_keys))
    assert not leaks, "\n".join(leaks)

    # The config entry: no key, PIN or code in its data or options. The app
    # secret is part of the application configuration kept in the entry by
    # design (needed for every request; redacted from diagnostics).
    assert secrets.leaks([("config entry", to_text(entry.as_dict()))]) == []
    app = Secrets()
    app.add_text("app configuration", emulator.app_config)
    app.add_b64("app secret", emulator.app_secret)
    everything_but_the_entry = [
        place
        for place in places(caplog, hass, hass_storage, recorder, diagnostics, private_keys)
        if place[0] != ".storage/core.config_entries"
    ]
    assert app.leaks(everything_but_the_entry) == []


def write_through_store(store: Any, path: Path, data: dict[str, Any]) -> None:
    """Home Assistant's own file writer of a store, aimed at `path`.

    Home Assistant 2026.10 writes to the store's (cached) path; 2025.4 takes it as an argument.
    """
    store.path = str(path)
    if "path" in inspect.signature(store._write_data).parameters:
        store._write_data(str(path), data)
    else:
        store._write_data(data)


async def test_private_store_is_written_0600(
    hass: HomeAssistant,
    emulator: Any,
    recorder: Recorder,
    tmp_path: Path,
) -> None:
    entry = await activate_with_defaults(hass, emulator, Secrets())
    store = recorder.stores[str(entry.unique_id)]
    assert store._private is True
    assert store._atomic_writes is True
    # The harness replaces the store's file writing; write once through Home
    # Assistant's real writer with this store's settings, into a temporary directory.
    path = tmp_path / ".storage" / store.key
    data = {"version": 1, "key": store.key, "data": recorder.saved_states[-1]}
    await hass.async_add_executor_job(write_through_store, store, path, data)
    assert stat.S_IMODE(os.stat(path).st_mode) == PRIVATE_FILE_MODE
    assert json.loads(path.read_text())["data"] == recorder.saved_states[-1]
