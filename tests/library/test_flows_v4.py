"""Protocol 4.0 flows of the library against the emulator over HTTP on 127.0.0.1."""

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.testing import run_emulator
from mtoken import e2ee4, pq, session4
from mtoken.app_config import parse_config_string
from mtoken.counter4 import advance_counter
from mtoken.encoding import b64decode, b64encode
from mtoken.errors import (
    ActivationBlockedError,
    AuthenticationError,
    CounterAheadError,
    InvalidActivationIdError,
    InvalidQrCodeError,
    InvalidStateError,
    ServerError,
    StateNotSavedError,
)
from mtoken.factors import Authentication
from mtoken.jsonbody import json_bytes
from mtoken.operations import MobileTokenClient
from mtoken.qr import parse_qr_operation
from mtoken.session import MAX_UNCONFIRMED_STEPS
from mtoken.session4 import PowerAuth4Session, ProtocolNotOfferedError
from mtoken.sessions import server_offers_v4
from mtoken.state4 import ActivationState4
from mtoken.upgrade import finish_upgrade, start_upgrade, upgrade_offered

from .conftest import PIN, USER_ID, payment


class Device4:
    """A 4.0 mobile token under test and every state it persisted."""

    def __init__(
        self, http: aiohttp.ClientSession, emu: Any, state: ActivationState4 | None = None
    ):
        self.http, self.emu, self.saved = http, emu, []

        async def persist(data: dict[str, Any]) -> None:
            self.saved.append(data)

        self.session = PowerAuth4Session(
            http, emu.url, parse_config_string(emu.app_config), state=state, persist=persist
        )
        self.client = MobileTokenClient(self.session)

    def reopen(self) -> "Device4":
        return Device4(self.http, self.emu, ActivationState4.from_dict(self.saved[-1]))


async def _activate(http: aiohttp.ClientSession, emu: Any) -> Device4:
    created = await emu.admin.create_activation_code(USER_ID)
    device = Device4(http, emu)
    result = await device.session.create_activation(
        created["activationCode"], PIN, name="Test", allow_biometry=True
    )
    assert result.status.status == "active"
    return device


@pytest.fixture
async def device4(emu: Any, http: aiohttp.ClientSession) -> Device4:
    """An ACTIVE 4.0 activation of USER_ID with PIN and the biometry factor."""
    return await _activate(http, emu)


async def test_activation_picks_the_best_suite_and_shows_a_fingerprint(device4: Device4) -> None:
    expected = "EC_P384_ML_L3" if pq.available() else "EC_P384"
    assert device4.session.state.algorithm == expected
    assert device4.session.protocol_version == "4.0"
    assert len(device4.session.fingerprint) == 8
    stored = device4.saved[-1]
    assert stored["protocol"] == "4.0"
    assert PIN not in str(stored)
    activations = await device4.emu.admin.activations()
    assert activations[0]["activationId"] == device4.session.state.activation_id


async def test_list_approve_with_every_factor_and_reject(device4: Device4) -> None:
    two_factor = await payment(device4.emu)
    by_biometry = await payment(device4.emu)
    one_factor = await payment(device4.emu, name="login", allowedFactors=["possession"])
    rejected = await payment(device4.emu)
    ops = {op.id: op for op in await device4.client.list_operations()}
    assert set(ops) == {two_factor["id"], by_biometry["id"], one_factor["id"], rejected["id"]}
    await device4.client.authorize(ops[two_factor["id"]], Authentication.with_pin(PIN))
    await device4.client.authorize(ops[by_biometry["id"]], Authentication.biometry())
    await device4.client.authorize(ops[one_factor["id"]], Authentication.possession())
    await device4.client.reject(rejected["id"], "UNEXPECTED_OPERATION")
    admin = device4.emu.admin
    assert (await admin.get_operation(two_factor["id"]))["signatureType"] == "possession_knowledge"
    assert (await admin.get_operation(by_biometry["id"]))["signatureType"] == "possession_biometry"
    assert (await admin.get_operation(one_factor["id"]))["status"] == "APPROVED"
    assert (await admin.get_operation(rejected["id"]))["status"] == "REJECTED"
    assert await device4.client.list_operations() == []


async def test_claim_and_history(device4: Device4) -> None:
    created = await device4.emu.admin.create_payment(None)
    claimed = await device4.client.claim_operation(created["id"])
    assert claimed.id == created["id"]
    await device4.client.authorize(claimed, Authentication.with_pin(PIN))
    history = await device4.client.history(Authentication.with_pin(PIN))
    assert [op.id for op in history] == [created["id"]]


async def test_wrong_pin_counts_down_then_blocks(device4: Device4) -> None:
    for remaining in (4, 3, 2, 1):
        operation = await device4.client.get_operation((await payment(device4.emu))["id"])
        with pytest.raises(AuthenticationError) as caught:
            await device4.client.authorize(operation, Authentication.with_pin("9999"))
        assert caught.value.remaining_attempts == remaining
    last = await device4.client.get_operation((await payment(device4.emu))["id"])
    with pytest.raises(ActivationBlockedError):
        await device4.client.authorize(last, Authentication.with_pin("9999"))
    assert (await device4.session.fetch_status()).status == "blocked"


async def test_offline_qr_signed_with_the_p384_master_key(device4: Device4) -> None:
    created = await payment(device4.emu)
    activation_id = device4.session.state.activation_id
    text = await device4.emu.admin.offline_qr(created["id"], protocol="4.0")
    code = await device4.client.sign_offline_qr(
        parse_qr_operation(text), Authentication.with_pin(PIN)
    )
    assert await device4.emu.admin.verify_offline(activation_id, created["id"], code)
    legacy = await device4.emu.admin.offline_qr(created["id"], protocol="3.3")
    with pytest.raises(InvalidQrCodeError):
        await device4.client.sign_offline_qr(
            parse_qr_operation(legacy), Authentication.with_pin(PIN)
        )


async def test_counter_survives_a_restart_and_resynchronises(device4: Device4) -> None:
    operation = await payment(device4.emu)
    await device4.session.validate_signature(Authentication.possession())
    again = device4.reopen()
    ops = await again.client.list_operations()
    await again.client.authorize(ops[0], Authentication.with_pin(PIN))
    assert (await device4.emu.admin.get_operation(operation["id"]))["status"] == "APPROVED"
    behind = Device4(device4.http, device4.emu, ActivationState4.from_dict(device4.saved[1]))
    assert (await behind.session.fetch_status()).status == "active"
    assert behind.saved[-1]["ctrData"] == again.saved[-1]["ctrData"]


async def test_token_removal_and_activation_removal(device4: Device4) -> None:
    await device4.client.list_operations()
    assert device4.session.state.has_token
    await device4.session.remove_token()
    assert not device4.session.state.has_token
    await device4.client.list_operations()
    activation_id = device4.session.state.activation_id
    await device4.session.remove_activation(Authentication.with_pin(PIN))
    statuses = {a["activationId"]: a["status"] for a in await device4.emu.admin.activations()}
    assert statuses[activation_id] == "REMOVED"


async def test_3_3_activation_is_refused_when_the_server_accepts_only_4_0(
    emu: Any, http: aiohttp.ClientSession
) -> None:
    from .conftest import make_device

    v3 = make_device(http, emu)
    created = await emu.admin.create_activation_code(USER_ID)
    await v3.session.create_activation(created["activationCode"], PIN, name="Old")
    assert await v3.client.list_operations() == []
    await emu.admin.set_min_protocol(4)
    with pytest.raises(ServerError, match="Protocol version not supported"):
        await v3.client.list_operations()
    assert await server_offers_v4(http, emu.url, parse_config_string(emu.app_config))
    device = await _activate(http, emu)
    await payment(emu)
    assert len(await device.client.list_operations()) == 1


async def test_4_0_only_server_activates(socket_enabled: None, tmp_path: Path) -> None:
    async with (
        run_emulator(tmp_path / "emulator", protocol="4.0") as emu,
        aiohttp.ClientSession() as http,
    ):
        device = await _activate(http, emu)
        created = await payment(emu)
        ops = await device.client.list_operations()
        await device.client.authorize(ops[0], Authentication.with_pin(PIN))
        assert (await emu.admin.get_operation(created["id"]))["status"] == "APPROVED"


async def test_3_3_only_server_offers_no_4_0(socket_enabled: None, tmp_path: Path) -> None:
    async with (
        run_emulator(tmp_path / "emulator", protocol="3.3") as emu,
        aiohttp.ClientSession() as http,
    ):
        config = parse_config_string(emu.app_config)
        assert not await server_offers_v4(http, emu.url, config)
        session = PowerAuth4Session(http, emu.url, config)
        with pytest.raises(ProtocolNotOfferedError):
            await session.choose_algorithm()


async def _v3_device(http: aiohttp.ClientSession, emu: Any) -> Any:
    from .conftest import make_device

    device = make_device(http, emu)
    created = await emu.admin.create_activation_code(USER_ID)
    await device.session.create_activation(
        created["activationCode"], PIN, name="Old", allow_biometry=True
    )
    return device


async def test_3_3_activation_upgrades_to_4_0_and_keeps_working(
    emu: Any, http: aiohttp.ClientSession
) -> None:
    v3 = await _v3_device(http, emu)
    assert upgrade_offered(v3.session)
    v4 = Device4(http, emu)
    await start_upgrade(v3.session, v4.session, PIN)
    assert v4.saved[-1]["pendingUpgradeV3"]["activationId"] == v3.session.state.activation_id
    # The 3.3 session may no longer write its state; the server still speaks 3.3 until confirmed.
    with pytest.raises(InvalidStateError):
        await v3.session.validate_signature(Authentication.possession())
    assert await v3.reopen(v4.saved[-1]["pendingUpgradeV3"]).client.list_operations() == []
    assert await finish_upgrade(v4.session) is None
    assert v4.saved[-1]["pendingUpgradeV3"] is None
    created = await payment(emu)
    ops = await v4.client.list_operations()
    await v4.client.authorize(ops[0], Authentication.with_pin(PIN))
    assert (await emu.admin.get_operation(created["id"]))["status"] == "APPROVED"
    assert (await v4.session.fetch_status()).status == "active"
    (listed,) = await emu.admin.activations()
    assert listed["protocolVersion"] == "4.0"
    assert listed["algorithm"] == v4.session.state.algorithm


async def test_upgrade_interrupted_after_the_confirmation_resumes(
    emu: Any, http: aiohttp.ClientSession
) -> None:
    v3 = await _v3_device(http, emu)
    v4 = Device4(http, emu)
    await start_upgrade(v3.session, v4.session, PIN)
    started = v4.saved[-1]
    assert await finish_upgrade(v4.session) is None
    # The confirmation's answer was lost: the last state stored before it left
    # still says "pending", with the counter already past the value it used.
    in_flight = v4.saved[-2]
    assert in_flight["pendingUpgradeV3"] is not None
    assert in_flight["ctrData"] != started["ctrData"]
    restarted = Device4(http, emu, ActivationState4.from_dict(in_flight))
    assert await finish_upgrade(restarted.session) is None
    assert restarted.saved[-1]["pendingUpgradeV3"] is None
    assert (await restarted.session.fetch_status()).status == "active"


async def test_upgrade_the_server_forgot_rolls_back_to_3_3(
    emu: Any, http: aiohttp.ClientSession
) -> None:
    v3 = await _v3_device(http, emu)
    v4 = Device4(http, emu)
    await start_upgrade(v3.session, v4.session, PIN)
    emu.emulator.db.set_setting(f"upgrade:{v3.session.state.activation_id}", "")
    rollback = await finish_upgrade(v4.session)
    assert rollback is not None
    back = v3.reopen(rollback)
    await payment(emu)
    ops = await back.client.list_operations()
    await back.client.authorize(ops[0], Authentication.with_pin(PIN))


async def test_a_4_0_only_server_still_lets_3_3_upgrade(
    emu: Any, http: aiohttp.ClientSession
) -> None:
    v3 = await _v3_device(http, emu)
    await emu.admin.set_min_protocol(4)
    v4 = Device4(http, emu)
    await start_upgrade(v3.session, v4.session, PIN)
    assert await finish_upgrade(v4.session) is None
    await payment(emu)
    assert len(await v4.client.list_operations()) == 1


async def test_server_refuses_replayed_stale_and_forged_4_0_requests(device4: Device4) -> None:
    session = device4.session
    scope = session._activation_scope()
    headers = {
        "X-PowerAuth-Encryption": session4.encryption_header(
            session.config.app_key, scope.activation_id
        )
    }
    encryptor = await session.encryptor(e2ee4.SH1_ACTIVATION_GENERIC, scope)
    body = json_bytes(encryptor.encrypt_request(b"{}", session.clock.now_ms()))
    await session.transport.post(session4.PATH_ACTIVATION_STATUS, body, headers)
    with pytest.raises(ServerError, match="ERR_ENCRYPTION"):
        await session.transport.post(session4.PATH_ACTIVATION_STATUS, body, headers)

    stale = await session.encryptor(e2ee4.SH1_ACTIVATION_GENERIC, scope)
    old = json_bytes(stale.encrypt_request(b"{}", session.clock.now_ms() - 6 * 60 * 1000))
    with pytest.raises(ServerError, match="ERR_ENCRYPTION"):
        await session.transport.post(session4.PATH_ACTIVATION_STATUS, old, headers)

    forged = await session.encryptor(e2ee4.SH1_ACTIVATION_GENERIC, scope)
    payload = forged.encrypt_request(b"{}", session.clock.now_ms())
    sealed = bytearray(b64decode(payload["encryptedData"]))
    sealed[-1] ^= 1
    payload["encryptedData"] = b64encode(bytes(sealed))
    with pytest.raises(ServerError, match="ERR_ENCRYPTION"):
        await session.transport.post(session4.PATH_ACTIVATION_STATUS, json_bytes(payload), headers)
    assert (await session.fetch_status()).status == "active"


async def test_upgrade_start_without_its_encryption_header_is_refused(
    emu: Any, http: aiohttp.ClientSession
) -> None:
    v3 = await _v3_device(http, emu)
    with pytest.raises(ServerError, match="ERR_ENCRYPTION"):
        await v3.session.signed_post(
            "/pa/v4/upgrade/start", "/pa/upgrade/start", {}, Authentication.with_pin(PIN)
        )
    assert await v3.client.list_operations() == []


# -- the counter inside the server's window, saved before it is used, ids that are UUIDs ------


async def _server_counter(device: Device4) -> int:
    activation_id = device.session.state.activation_id
    [activation] = [
        item
        for item in await device.emu.admin.activations()
        if item["activationId"] == activation_id
    ]
    return int(activation["counter"])


async def _offline_code(device: Device4, operation_id: str) -> str:
    text = await device.emu.admin.offline_qr(operation_id, protocol="4.0")
    return await device.client.sign_offline_qr(
        parse_qr_operation(text), Authentication.with_pin(PIN)
    )


async def test_offline_codes_stay_within_half_the_look_ahead(device4: Device4) -> None:
    offline = await payment(device4.emu)
    for _ in range(25):
        await _offline_code(device4, offline["id"])
        assert device4.session.state.unconfirmed_steps <= MAX_UNCONFIRMED_STEPS
        assert device4.saved[-1]["unconfirmedSteps"] == device4.session.state.unconfirmed_steps
    # The server still finds the token's codes: an online approval works.
    operation = await payment(device4.emu)
    [pending] = [op for op in await device4.client.list_operations() if op.id == operation["id"]]
    await device4.client.authorize(pending, Authentication.with_pin(PIN))
    assert (await device4.emu.admin.get_operation(operation["id"]))["status"] == "APPROVED"
    assert device4.session.state.unconfirmed_steps == 0


async def test_counter_ahead_without_the_server_is_refused(device4: Device4) -> None:
    offline = await payment(device4.emu)
    text = await device4.emu.admin.offline_qr(offline["id"], protocol="4.0")
    for _ in range(MAX_UNCONFIRMED_STEPS):
        await _offline_code(device4, offline["id"])
    saved = len(device4.saved)
    await device4.emu.admin.fault("drop", count=1)
    with pytest.raises(CounterAheadError):
        await device4.client.sign_offline_qr(parse_qr_operation(text), Authentication.with_pin(PIN))
    assert len(device4.saved) == saved
    # Connected again, the token resynchronises and signs.
    await _offline_code(device4, offline["id"])
    assert device4.session.state.unconfirmed_steps == 1


async def test_a_counter_that_cannot_be_saved_is_never_used(device4: Device4) -> None:
    await device4.client.list_operations()
    operation = await payment(device4.emu)
    [pending] = [op for op in await device4.client.list_operations() if op.id == operation["id"]]
    before, server = device4.session.state, await _server_counter(device4)

    async def refuse(data: dict[str, Any]) -> None:
        raise StateNotSavedError("stopping")

    device4.session._persist = refuse
    with pytest.raises(StateNotSavedError):
        await device4.client.authorize(pending, Authentication.biometry())
    assert device4.session.state == before
    assert await _server_counter(device4) == server
    assert (await device4.emu.admin.get_operation(operation["id"]))["status"] == "PENDING"


async def test_reading_the_status_only_never_moves_the_counter(device4: Device4) -> None:
    state = device4.session.state
    # Far enough ahead that a synchronising read would prove a code to the server.
    ahead = MAX_UNCONFIRMED_STEPS + 5
    await device4.session.save(
        state.with_counter(
            advance_counter(state.ctr_data, ahead), state.ctr_byte + ahead, unconfirmed_steps=ahead
        )
    )
    saved, server = len(device4.saved), await _server_counter(device4)
    assert (await device4.session.fetch_status(synchronize=False)).status == "active"
    assert len(device4.saved) == saved
    assert device4.session.state.unconfirmed_steps == ahead
    assert await _server_counter(device4) == server
    await device4.session.fetch_status()
    assert await _server_counter(device4) > server
    assert device4.session.state.unconfirmed_steps == 0


async def test_activation_id_that_is_not_a_uuid_writes_nothing(
    emu: Any, http: aiohttp.ClientSession
) -> None:
    created = await emu.admin.create_activation_code(USER_ID, activationId="../../x")
    device = Device4(http, emu)
    with pytest.raises(InvalidActivationIdError):
        await device.session.create_activation(created["activationCode"], PIN, name="Test")
    assert device.saved == []
    assert not device.session.has_activation
