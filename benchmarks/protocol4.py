"""PowerAuth 4.0 figures next to 3.3: activation, authentication code vs one KMAC, approve vs floor.

The crypto figures are ratios to a primitive measured in the same run, as in
``crypto``. The live ones run the library against the emulator in its own
process (speaking both protocols), so the server's work is not counted as
the client's: activations are timed per protocol, interleaved; approvals are
timed against a floor that sends an identical, already authenticated
request of a second 4.0 activation (user ``floor``), so the server verifies
the same kind of code for both.
"""

import secrets
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import aiohttp

from mtoken import auth_code
from mtoken.app_config import AppConfig, parse_config_string
from mtoken.factors import Authentication
from mtoken.jsonbody import json_bytes
from mtoken.kmac import kmac256
from mtoken.operations import PATH_AUTHORIZE, URI_ID_AUTHORIZE, MobileTokenClient
from mtoken.session import PowerAuthSession
from mtoken.session4 import PowerAuth4Session
from mtoken.signature import AUTHORIZATION_HEADER, signature_base_string

from .crypto import best_of, signature_vs_hmac
from .server import emulator_process
from .timing import MS_PER_S, median

PIN: Final = "1357"
ACTIVATIONS: Final = 5
APPROVALS: Final = 15
FLOOR_USER: Final = "floor"


def code_vs_kmac() -> dict[str, float]:
    """A 2FA 4.0 authentication code (with its data string) against one KMAC-256."""
    keys = [secrets.token_bytes(32), secrets.token_bytes(32)]
    ctr = secrets.token_bytes(32)
    body = b'{"requestObject":{"id":"op","data":"A1*A100CZK*Q238400856/0300"}}'
    nonce = "AAAAAAAAAAAAAAAAAAAAAA=="

    def code() -> str:
        data = signature_base_string("POST", "/operation/authorize", nonce, body, "c2VjcmV0")
        return auth_code.online_code(keys, ctr, data)

    kmac_time = best_of(lambda: kmac256(keys[0], body, b"PA4CODE"), number=2000)
    code_time = best_of(code, number=1000)
    v3 = signature_vs_hmac()
    return {
        "kmac_us": kmac_time * 1e6,
        "auth_code_v4_us": code_time * 1e6,
        "auth_code_v4_vs_kmac": code_time / kmac_time,
        "auth_code_v4_vs_signature_v3": code_time / (v3["signature_us"] / 1e6),
    }


async def _activate(
    http: aiohttp.ClientSession, emu: Any, config: AppConfig, user: str, v4: bool
) -> tuple[float, PowerAuthSession | PowerAuth4Session]:
    created = await emu.admin.create_activation_code(user)
    session_class = PowerAuth4Session if v4 else PowerAuthSession
    session = session_class(http, emu.url, config)
    await session.server_time()
    start = time.perf_counter()
    await session.create_activation(created["activationCode"], PIN, name="bench")
    return time.perf_counter() - start, session


async def _floor_once(http: aiohttp.ClientSession, emu: Any, floor: PowerAuth4Session) -> float:
    """A bare round trip of an authorize request the floor activation authenticated beforehand."""
    created = await emu.admin.create_payment(FLOOR_USER)
    body = json_bytes({"requestObject": {"id": created["id"], "data": created["data"]}})
    keys = await floor._factor_keys(Authentication.with_pin(PIN))
    header = await floor._code_and_advance(
        "POST", URI_ID_AUTHORIZE, body, keys, Authentication.with_pin(PIN)
    )
    headers = {"Content-Type": "application/json", AUTHORIZATION_HEADER: header}
    start = time.perf_counter()
    async with http.post(f"{emu.url}{PATH_AUTHORIZE}", data=body, headers=headers) as response:
        await response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        raise RuntimeError(f"floor request refused: HTTP {response.status}")
    return elapsed


async def live_v4_figures() -> dict[str, Any]:
    """Activation per protocol, and a 4.0 approval against its floor."""
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            emulator_process(Path(tmp), protocol="both") as emu,
            aiohttp.ClientSession() as http,
        ):
            config = parse_config_string(emu.app_config)
            times: dict[bool, list[float]] = {False: [], True: []}
            for index in range(ACTIVATIONS):
                for v4 in (False, True):
                    elapsed, _ = await _activate(http, emu, config, f"act{index}", v4)
                    times[v4].append(elapsed)
            _, device = await _activate(http, emu, config, "bench", True)
            _, floor = await _activate(http, emu, config, FLOOR_USER, True)
            assert isinstance(device, PowerAuth4Session)  # noqa: S101 - created as 4.0
            assert isinstance(floor, PowerAuth4Session)  # noqa: S101
            client = MobileTokenClient(device)
            approvals: list[float] = []
            floors: list[float] = []
            for _ in range(APPROVALS):
                floors.append(await _floor_once(http, emu, floor))
                created = await emu.admin.create_payment("bench")
                operation = await client.get_operation(created["id"])
                start = time.perf_counter()
                await client.authorize(operation, Authentication.with_pin(PIN))
                approvals.append(time.perf_counter() - start)
            suite = device.state.algorithm
    activation_v3, activation_v4 = median(times[False]), median(times[True])
    approve, floor_time = median(approvals), median(floors)
    return {
        "v4_suite": suite,
        "activation_v3_ms": activation_v3 * MS_PER_S,
        "activation_v4_ms": activation_v4 * MS_PER_S,
        "activation_v4_vs_v3": activation_v4 / activation_v3,
        "approve_v4_2fa_ms": approve * MS_PER_S,
        "approve_v4_2fa_floor_ms": floor_time * MS_PER_S,
        "approve_v4_2fa_vs_floor": approve / floor_time,
    }
