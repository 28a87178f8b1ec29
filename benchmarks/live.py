"""Poll, approve, loop-stall and memory figures of the integration in a real Home Assistant.

Everything runs in one event loop (Home Assistant's), against the project's
emulator in its own process (``benchmarks.server``), so that the server's work
never counts as a stall of the measured loop. The measured path is the real
one: the config flow activates, the real coordinator polls (token header,
request, parse, diff) and the real pending-operations sensor writes its state
with its attributes; approvals go through the integration's library client
with the integration's private store persisting the counter before each
request.

Floors are bare aiohttp round trips to the same endpoint with the same bytes,
measured interleaved with the real calls so that load from elsewhere hits both
alike: for the list, the token header is computed before the clock starts and
the answer is read, not parsed; for an approval, a second activation (user
``floor``) signs an identical request before the clock starts, so the server
does the same verification work for the floor as for the measured call.
"""

import asyncio
import gc
import secrets
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.json import json_bytes as ha_json_bytes

from custom_components.mobile_token.const import CONF_ACTIVATION_ID
from custom_components.mobile_token.coordinator import MobileTokenCoordinator
from custom_components.mobile_token.mtoken.app_config import AppConfig, parse_config_string
from custom_components.mobile_token.mtoken.counter import next_counter
from custom_components.mobile_token.mtoken.encoding import b64encode
from custom_components.mobile_token.mtoken.factors import Authentication, Factor
from custom_components.mobile_token.mtoken.http import USER_AGENT
from custom_components.mobile_token.mtoken.jsonbody import json_bytes
from custom_components.mobile_token.mtoken.operations import (
    PATH_AUTHORIZE,
    PATH_LIST,
    URI_ID_AUTHORIZE,
    MobileTokenClient,
)
from custom_components.mobile_token.mtoken.protection import (
    decrypt_knowledge_key,
    derive_pin_key,
)
from custom_components.mobile_token.mtoken.session import PROTOCOL_VERSION, PowerAuthSession
from custom_components.mobile_token.mtoken.signature import (
    AUTHORIZATION_HEADER,
    SignatureType,
    build_authorization_header,
    compute_online_signature,
    select_factor_keys,
    signature_base_string,
)
from custom_components.mobile_token.mtoken.state import ActivationState
from custom_components.mobile_token.mtoken.token import (
    TOKEN_HEADER,
    build_token_header,
    compute_token_digest,
)
from custom_components.mobile_token.store import ActivationStore

from .hass import PIN, USER_ID, activate, home_assistant, pending_sensor_id
from .server import EmulatorProcess, emulator_process
from .timing import MS_PER_S, LoopLagProbe, median, time_async

SETUP: Final = (
    "a real Home Assistant core (config flow, coordinator, sensor, private store on disk); "
    "the emulator in its own process with its list limit raised to 1,000 for this run only"
)
FLOOR_USER: Final = "floor"
POLL_COUNTS: Final = (10, 100, 1000)
#: Interleaved (floor, measured) pairs per figure: fewer where one cycle is long.
POLL_ROUNDS: Final = {10: 60, 100: 50, 1000: 12}
APPROVE_ROUNDS: Final = 25
#: Passes of each loop-stall phase; the least disturbed one counts (shared machine).
STALL_PASSES: Final = 3
STALL_POLLS: Final = 3
CREATE_BATCH: Final = 50
EXPIRES_S: Final = 3600
PBKDF2_ROUNDS: Final = 10
OPERATION_DATA: Final = "A1*A100CZK*Q238400856/0300**D20170629*NUtility Bill"
APPROVALS: Final = {
    "2fa": (Factor.POSSESSION_KNOWLEDGE, Authentication.with_pin(PIN)),
    "biometry": (Factor.POSSESSION_BIOMETRY, Authentication.biometry()),
    "1fa": (Factor.POSSESSION, Authentication.possession()),
}


def request_headers(language: str, extra: dict[str, str]) -> dict[str, str]:
    """The headers the library's transport sends, plus the authentication one."""
    return {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Accept-Language": language,
        "User-Agent": USER_AGENT,
        **extra,
    }


async def bare_post(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[float, bytes]:
    """One bare round trip: send the bytes, read the answer's bytes; no decoding."""
    start = time.perf_counter()
    async with http.post(url, data=body, headers=headers) as response:
        raw = await response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        raise RuntimeError(f"floor request refused: HTTP {response.status} {raw[:200]!r}")
    return elapsed, raw


class FloorSigner:
    """Signs authorize requests of the floor activation before the clock starts.

    It keeps its own counter (the state is not used by any session after
    activation), so each header is valid exactly once, like the library's.
    """

    def __init__(self, state: ActivationState, config: AppConfig) -> None:
        self.state = state
        self.config = config
        self.ctr_data = state.ctr_data
        self.knowledge = decrypt_knowledge_key(
            derive_pin_key(PIN, state.knowledge_salt), state.encrypted_knowledge_key
        )

    def header(self, factor: Factor, body: bytes) -> str:
        """A valid ``X-PowerAuth-Authorization`` for ``body``; advances the counter."""
        signature_type = SignatureType(factor.value)
        keys = select_factor_keys(
            signature_type,
            possession=self.state.possession_key,
            knowledge=self.knowledge,
            biometry=self.state.biometry_key,
        )
        nonce = b64encode(secrets.token_bytes(16))
        data = signature_base_string("POST", URI_ID_AUTHORIZE, nonce, body, self.config.app_secret)
        signature = compute_online_signature(keys, self.ctr_data, data, version=PROTOCOL_VERSION)
        self.ctr_data = next_counter(self.ctr_data)
        return build_authorization_header(
            version=PROTOCOL_VERSION,
            activation_id=self.state.activation_id,
            application_key=self.config.app_key,
            nonce=nonce,
            signature_type=signature_type,
            signature=signature,
        )


@dataclass
class Rig:
    """Everything the measurements share."""

    hass: HomeAssistant
    emu: EmulatorProcess
    coordinator: MobileTokenCoordinator
    sensor_id: str
    http: aiohttp.ClientSession
    floor: FloorSigner
    stalls: dict[str, float]

    @property
    def client(self) -> MobileTokenClient:
        """The integration's Mobile Token API client."""
        return self.coordinator.client

    @property
    def session(self) -> PowerAuthSession:
        """The integration's PowerAuth session."""
        return self.coordinator.session

    def token_headers(self) -> dict[str, str]:
        """A fresh token header of the integration's activation (as the library builds it)."""
        state = self.session.state
        if state.token_id is None or state.token_secret is None:
            raise RuntimeError("the activation has no token yet")
        nonce = secrets.token_bytes(16)
        timestamp = self.session.clock.now_ms()
        digest = compute_token_digest(
            state.token_secret, nonce, timestamp, version=PROTOCOL_VERSION
        )
        header = build_token_header(
            version=PROTOCOL_VERSION,
            token_id=state.token_id,
            token_digest=digest,
            nonce=b64encode(nonce),
            timestamp_ms=timestamp,
        )
        return request_headers(self.session.language, {TOKEN_HEADER: header})


async def create_operations(
    emu: EmulatorProcess, user_id: str, count: int, factors: list[str]
) -> list[str]:
    """``count`` new operations of ``user_id`` (ids), created in concurrent batches."""
    ids: list[str] = []
    while len(ids) < count:
        batch = min(CREATE_BATCH, count - len(ids))
        created = await asyncio.gather(
            *(
                emu.admin.create_operation(
                    userId=user_id,
                    name="authorize_payment",
                    data=OPERATION_DATA,
                    title="Payment",
                    message="Please confirm the payment of 100 CZK to Utility Bill",
                    attributes=[
                        {
                            "type": "AMOUNT",
                            "id": "operation.amount",
                            "label": "Amount",
                            "amount": 100,
                            "currency": "CZK",
                        }
                    ],
                    allowedFactors=factors,
                    expiresInSeconds=EXPIRES_S,
                    proximity=False,
                )
                for _ in range(batch)
            )
        )
        ids.extend(str(operation["id"]) for operation in created)
    return ids


async def refresh(rig: Rig, count: int) -> None:
    """One poll cycle of the real coordinator; check it saw ``count`` operations."""
    await rig.coordinator.async_refresh()
    if not rig.coordinator.last_update_success or len(rig.coordinator.data) != count:
        raise RuntimeError(f"the poll did not list {count} operations")


async def poll_figures(rig: Rig, count: int) -> dict[str, float]:
    """Median poll cycle against the median bare round trip of the same list."""
    url = f"{rig.emu.url}{PATH_LIST}"
    body = json_bytes({})
    await refresh(rig, count)  # warm-up: the new operations are added (events) once
    floors: list[float] = []
    polls: list[float] = []
    raw = b""
    for _ in range(POLL_ROUNDS[count]):
        elapsed, raw = await bare_post(rig.http, url, body, rig.token_headers())
        floors.append(elapsed)
        polls.append(await time_async(lambda: refresh(rig, count)))
    floor, poll = median(floors), median(polls)
    return {
        f"poll_{count}_ms": poll * MS_PER_S,
        f"poll_{count}_floor_ms": floor * MS_PER_S,
        f"poll_{count}_vs_floor": poll / floor,
        f"list_{count}_response_bytes": len(raw),
    }


def attributes_bytes(rig: Rig) -> int:
    """Size of the pending-operations sensor's attributes as Home Assistant serialises them."""
    state = rig.hass.states.get(rig.sensor_id)
    if state is None:
        raise RuntimeError("the pending-operations sensor has no state")
    return len(ha_json_bytes(dict(state.attributes)))


async def memory_figures(rig: Rig, count: int) -> dict[str, int]:
    """Memory a poll cycle leaves held (the list, the diff's index, the sensor's state).

    tracemalloc counts only blocks allocated while it traces, so the previous
    cycle's objects, freed during this one, are not subtracted: what remains
    is what the integration holds for ``count`` operations.
    """
    gc.collect()
    tracemalloc.start()
    try:
        await refresh(rig, count)
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {f"memory_bytes_{count}": held, f"memory_peak_bytes_{count}": peak}


async def approve_once(rig: Rig, factor: Factor, auth: Authentication, operation_id: str) -> float:
    """Seconds from a fetched detail to the server's answer of the approval."""
    operation = await rig.client.get_operation(operation_id)
    if not operation.allows(factor):
        raise RuntimeError(f"operation does not allow {factor}")
    return await time_async(lambda: rig.client.authorize(operation, auth))


async def approve_floor_once(rig: Rig, factor: Factor, operation_id: str) -> float:
    """A bare round trip of an identical, pre-signed authorize request of the floor user."""
    body = json_bytes({"requestObject": {"id": operation_id, "data": OPERATION_DATA}})
    headers = request_headers(
        rig.session.language, {AUTHORIZATION_HEADER: rig.floor.header(factor, body)}
    )
    elapsed, _ = await bare_post(rig.http, f"{rig.emu.url}{PATH_AUTHORIZE}", body, headers)
    return elapsed


def pbkdf2_seconds(state: ActivationState) -> float:
    """Median PBKDF2 of the PIN (what a 2FA approval adds, run in the executor)."""
    runs = []
    for _ in range(PBKDF2_ROUNDS):
        start = time.perf_counter()
        derive_pin_key(PIN, state.knowledge_salt)
        runs.append(time.perf_counter() - start)
    return median(runs)


async def approve_figures(rig: Rig, store: ActivationStore) -> dict[str, float]:
    """Each approval kind against the bare round trip of the same request.

    Rounds interleave the kinds, their floors and a write of the private store
    (which every signed request awaits first), so that a slow moment of the
    shared disk or CPU hits all of them alike. ``approve_2fa_vs_floor`` takes
    the PBKDF2 time off (target: 2x the floor plus PBKDF2); the
    ``*_without_persist_vs_floor`` figures also take off the store write.
    """
    figures: dict[str, float] = {}
    pbkdf2 = pbkdf2_seconds(rig.session.state)
    own: dict[str, list[str]] = {}
    floor_ids: dict[str, list[str]] = {}
    for kind, (factor, auth) in APPROVALS.items():
        own[kind] = await create_operations(rig.emu, USER_ID, APPROVE_ROUNDS + 1, [factor.value])
        floor_ids[kind] = await create_operations(
            rig.emu, FLOOR_USER, APPROVE_ROUNDS + 1, [factor.value]
        )
        await approve_once(rig, factor, auth, own[kind].pop())  # warm-up
        await approve_floor_once(rig, factor, floor_ids[kind].pop())
    state = rig.session.state.to_dict()
    floors: dict[str, list[float]] = {kind: [] for kind in APPROVALS}
    approvals: dict[str, list[float]] = {kind: [] for kind in APPROVALS}
    persists: list[float] = []
    for index in range(APPROVE_ROUNDS):
        for kind, (factor, auth) in APPROVALS.items():
            floors[kind].append(await approve_floor_once(rig, factor, floor_ids[kind][index]))
            persists.append(await time_async(lambda: store.async_save(state)))
            approvals[kind].append(await approve_once(rig, factor, auth, own[kind][index]))
    persist = median(persists)
    figures["pbkdf2_ms"] = pbkdf2 * MS_PER_S
    figures["persist_ms"] = persist * MS_PER_S
    for kind, (factor, _) in APPROVALS.items():
        floor, approve = median(floors[kind]), median(approvals[kind])
        key_derivation = pbkdf2 if factor is Factor.POSSESSION_KNOWLEDGE else 0.0
        figures[f"approve_{kind}_ms"] = approve * MS_PER_S
        figures[f"approve_{kind}_floor_ms"] = floor * MS_PER_S
        if key_derivation:
            figures[f"approve_{kind}_raw_vs_floor"] = approve / floor
        figures[f"approve_{kind}_vs_floor"] = (approve - key_derivation) / floor
        figures[f"approve_{kind}_without_persist_vs_floor"] = (
            approve - key_derivation - persist
        ) / floor
    return figures


async def least_stall(passes: int, work: Callable[[], Awaitable[None]]) -> float:
    """The smallest, over ``passes`` runs of ``work``, of the longest loop stall in a run."""
    stalls = []
    for _ in range(passes):
        async with LoopLagProbe() as probe:
            await work()
        stalls.append(probe.max_lag_ms)
    return min(stalls)


async def polling_stall(rig: Rig, count: int) -> float:
    """Longest loop stall over a few poll cycles with ``count`` operations."""

    async def polls() -> None:
        for _ in range(STALL_POLLS):
            await refresh(rig, count)

    return await least_stall(STALL_PASSES, polls)


async def approval_stall(rig: Rig) -> float:
    """Longest loop stall over one approval of each kind (the PIN's PBKDF2 in the executor)."""

    async def approvals() -> None:
        for factor, auth in APPROVALS.values():
            (op_id,) = await create_operations(rig.emu, USER_ID, 1, [factor.value])
            operation = await rig.client.get_operation(op_id)
            await rig.client.authorize(operation, auth)

    return await least_stall(STALL_PASSES, approvals)


async def floor_activation(
    emu: EmulatorProcess, http: aiohttp.ClientSession, hass: HomeAssistant
) -> tuple[FloorSigner, float]:
    """Activate the floor user with the library alone; return its signer and the loop stall."""
    config = parse_config_string(emu.app_config)
    session = PowerAuthSession(http, emu.url, config, run_blocking=hass.async_add_executor_job)
    code = (await emu.admin.create_activation_code(FLOOR_USER))["activationCode"]
    async with LoopLagProbe() as probe:
        await session.server_time()
        await session.create_activation(code, PIN, name="Floor", allow_biometry=True)
    return FloorSigner(session.state, config), probe.max_lag_ms


async def measure(tmp: Path) -> dict[str, Any]:
    """Every live figure, in one Home Assistant and one emulator process."""
    figures: dict[str, Any] = {"live_setup": SETUP}
    async with emulator_process(tmp / "emulator") as emu, home_assistant(tmp / "config") as hass:
        http = async_get_clientsession(hass)
        code = (await emu.admin.create_activation_code(USER_ID))["activationCode"]
        async with LoopLagProbe() as probe:
            entry = await activate(hass, emu.url, emu.app_config, code)
        floor, floor_stall = await floor_activation(emu, http, hass)
        coordinator = entry.runtime_data.coordinator
        coordinator.async_stop_polling()  # only the benchmark's refreshes, never a timer's
        rig = Rig(
            hass,
            emu,
            coordinator,
            pending_sensor_id(hass, entry),
            http,
            floor,
            {"activation": min(probe.max_lag_ms, floor_stall)},
        )
        created = 0
        for count in POLL_COUNTS:
            await create_operations(
                emu, USER_ID, count - created, ["possession_knowledge", "possession_biometry"]
            )
            created = count
            figures.update(await poll_figures(rig, count))
            figures[f"attributes_bytes_{count}"] = attributes_bytes(rig)
            figures[f"stall_polling_{count}_ms"] = await polling_stall(rig, count)
        figures.update(await memory_figures(rig, POLL_COUNTS[-1]))
        # A second handle on the integration's private store file, to time its writes.
        store = ActivationStore(hass, entry.data[CONF_ACTIVATION_ID])
        figures.update(await approve_figures(rig, store))
        figures["stall_approval_ms"] = await approval_stall(rig)
        figures["stall_activation_ms"] = rig.stalls["activation"]
        figures["max_loop_stall_ms"] = max(
            value for key, value in figures.items() if key.startswith("stall_")
        )
    return figures


def live_figures() -> dict[str, Any]:
    """Run the live measurements in a fresh event loop and temporary directory."""
    with tempfile.TemporaryDirectory(prefix="mobile-token-bench-") as tmp:
        return asyncio.run(measure(Path(tmp)))
