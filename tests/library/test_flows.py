"""The library's full flows against the emulator over HTTP on 127.0.0.1."""

import asyncio
from typing import Any

import aiohttp
import pytest

from mtoken.errors import (
    ActivationBlockedError,
    AuthenticationError,
    InvalidActivationCodeSignatureError,
    InvalidInputError,
    InvalidPinError,
    InvalidQrCodeError,
    InvalidStateError,
    ServerError,
)
from mtoken.factors import Authentication
from mtoken.keys import load_private_key, public_key_bytes
from mtoken.model import ProximityCheck, ProximityCheckType
from mtoken.protection import decrypt_device_private_key
from mtoken.qr import parse_qr_operation

from .conftest import PIN, USER_ID, Device, make_device, payment


async def test_activation_reports_fingerprint_and_active_status(device: Device) -> None:
    state = device.session.state
    assert len(device.session.fingerprint) == 8
    assert device.session.fingerprint.isdigit()
    activations = await device.emu.admin.activations()
    assert [a["activationId"] for a in activations] == [state.activation_id]
    assert activations[0]["status"] == "ACTIVE"
    assert device.saved[-1]["activationId"] == state.activation_id
    assert "1234" not in str(device.saved[-1])


async def test_activation_code_signature_is_verified(emu: Any, http: aiohttp.ClientSession) -> None:
    created = await emu.admin.create_activation_code(USER_ID)
    signed = f"{created['activationCode'].lower()}#{created['activationSignature']}"
    result = await make_device(http, emu).session.create_activation(signed, PIN, name="QR")
    assert result.status.status == "active"

    other = await emu.admin.create_activation_code(USER_ID)
    forged = f"{other['activationCode']}#{created['activationSignature']}"
    with pytest.raises(InvalidActivationCodeSignatureError):
        await make_device(http, emu).session.create_activation(forged, PIN, name="QR")


async def test_short_pin_is_refused_before_anything_is_sent(
    emu: Any, http: aiohttp.ClientSession
) -> None:
    created = await emu.admin.create_activation_code(USER_ID)
    with pytest.raises(InvalidPinError):
        await make_device(http, emu).session.create_activation(
            created["activationCode"], "12", name="x"
        )
    assert await emu.admin.activations() == []


async def test_list_detail_and_approve_with_pin(device: Device) -> None:
    created = await payment(device.emu)
    operations = await device.client.list_operations()
    assert [op.id for op in operations] == [created["id"]]
    operation = await device.client.get_operation(created["id"])
    await device.client.authorize(operation, Authentication.with_pin(PIN))
    recorded = await device.emu.admin.get_operation(created["id"])
    assert recorded["status"] == "APPROVED"
    assert recorded["signatureType"] == "possession_knowledge"
    assert await device.client.list_operations() == []


async def test_approve_with_biometry_and_one_factor(device: Device) -> None:
    two_factor = await payment(device.emu)
    one_factor = await payment(device.emu, name="login", allowedFactors=["possession"])
    ops = {op.id: op for op in await device.client.list_operations()}
    await device.client.authorize(ops[two_factor["id"]], Authentication.biometry())
    await device.client.authorize(ops[one_factor["id"]], Authentication.possession())
    assert (await device.emu.admin.get_operation(two_factor["id"]))["signatureType"] == (
        "possession_biometry"
    )
    assert (await device.emu.admin.get_operation(one_factor["id"]))["status"] == "APPROVED"


async def test_wrong_pin_reports_remaining_attempts_then_blocks(device: Device) -> None:
    created = await payment(device.emu)
    operation = await device.client.get_operation(created["id"])
    with pytest.raises(AuthenticationError) as caught:
        await device.client.authorize(operation, Authentication.with_pin("9999"))
    assert caught.value.remaining_attempts == 4
    for remaining in (3, 2, 1):
        fresh = await device.client.get_operation((await payment(device.emu))["id"])
        with pytest.raises(AuthenticationError) as caught:
            await device.client.authorize(fresh, Authentication.with_pin("9999"))
        assert caught.value.remaining_attempts == remaining
    last = await device.client.get_operation((await payment(device.emu))["id"])
    with pytest.raises(ActivationBlockedError):
        await device.client.authorize(last, Authentication.with_pin("9999"))
    status = await device.session.fetch_status()
    assert status.status == "blocked"


async def test_reject_stores_reason(device: Device) -> None:
    created = await payment(device.emu)
    await device.client.reject(created["id"], "POSSIBLE_FRAUD")
    recorded = await device.emu.admin.get_operation(created["id"])
    assert recorded["status"] == "REJECTED"
    assert recorded["rejectReason"] == "POSSIBLE_FRAUD"


async def test_finished_and_expired_operations_are_refused(device: Device) -> None:
    created = await payment(device.emu)
    operation = await device.client.get_operation(created["id"])
    await device.client.authorize(operation, Authentication.with_pin(PIN))
    with pytest.raises(ServerError) as finished:
        await device.client.get_operation(created["id"])
    assert finished.value.code == "OPERATION_ALREADY_FINISHED"

    expiring = await payment(device.emu, expiresInSeconds=1)
    stale = await device.client.get_operation(expiring["id"])
    await asyncio.sleep(1.2)
    with pytest.raises(ServerError) as expired:
        await device.client.authorize(stale, Authentication.with_pin(PIN))
    assert expired.value.code == "OPERATION_EXPIRED"


async def test_claim_makes_operation_ours(device: Device) -> None:
    created = await payment(device.emu, userId=None)
    assert await device.client.list_operations() == []
    claimed = await device.client.claim_operation(created["id"])
    assert claimed.id == created["id"]
    assert [op.id for op in await device.client.list_operations()] == [created["id"]]


async def test_history_needs_two_factors(device: Device) -> None:
    created = await payment(device.emu)
    await device.client.reject(created["id"], "UNKNOWN")
    history = await device.client.history(Authentication.with_pin(PIN))
    assert [(op.id, str(op.status)) for op in history] == [(created["id"], "REJECTED")]
    with pytest.raises(InvalidStateError):
        await device.client.history(Authentication.possession())


async def test_proximity_check_with_totp(device: Device) -> None:
    created = await payment(device.emu, proximity=True)
    operation = await device.client.get_operation(created["id"])
    totp = await device.emu.admin.get_totp(created["id"])
    proximity = ProximityCheck(
        totp=totp, type=ProximityCheckType.QR_CODE, timestamp_received=device.session.clock.now()
    )
    await device.client.authorize(operation, Authentication.with_pin(PIN), proximity=proximity)
    assert (await device.emu.admin.get_operation(created["id"]))["status"] == "APPROVED"


async def test_counter_behind_the_server_is_resynchronised(device: Device) -> None:
    old_state = device.saved[-1]
    for _ in range(3):
        created = await payment(device.emu)
        await device.client.reject(created["id"], "UNKNOWN")
    restored = device.reopen(old_state)
    assert (await restored.session.fetch_status()).status == "active"
    assert restored.saved, "the adopted counter must be persisted"
    created = await payment(device.emu)
    await restored.client.authorize(
        await restored.client.get_operation(created["id"]), Authentication.with_pin(PIN)
    )


async def test_counter_far_ahead_is_resynchronised_with_a_signature(device: Device) -> None:
    created = await payment(device.emu)
    qr = parse_qr_operation(await device.emu.admin.offline_qr(created["id"]))
    for _ in range(15):
        await device.client.sign_offline_qr(qr, Authentication.with_pin(PIN))
    assert (await device.session.fetch_status()).status == "active"
    fresh = await payment(device.emu)
    await device.client.authorize(
        await device.client.get_operation(fresh["id"]), Authentication.with_pin(PIN)
    )


async def test_concurrent_approvals_never_share_a_counter(device: Device) -> None:
    created = [await payment(device.emu) for _ in range(10)]
    operations = await device.client.list_operations()
    before = len(device.saved)
    await asyncio.gather(
        *(device.client.authorize(op, Authentication.biometry()) for op in operations)
    )
    # A reused counter would fail verification at the server: all ten must pass.
    for op in created:
        assert (await device.emu.admin.get_operation(op["id"]))["status"] == "APPROVED"
    counters = [s["ctrData"] for s in device.saved[before - 1 :]]
    assert len(counters) == 11
    assert len(set(counters)) == 11


async def test_rejected_token_is_created_again(device: Device) -> None:
    await device.client.list_operations()
    first_token = device.session.state.token_id
    forged = device.reopen({**device.saved[-1], "tokenSecret": "AAAAAAAAAAAAAAAAAAAAAA=="})
    assert await forged.client.list_operations() == []
    assert forged.session.state.token_id not in (None, first_token)


async def test_offline_qr_code_verifies_at_the_server(device: Device) -> None:
    created = await payment(device.emu)
    for signing_key in ("master", "personalized"):
        text = await device.emu.admin.offline_qr(
            created["id"], signing_key=signing_key, activation_id=device.session.state.activation_id
        )
        qr = parse_qr_operation(text)
        code = await device.client.sign_offline_qr(qr, Authentication.with_pin(PIN))
        assert await device.emu.admin.verify_offline(
            device.session.state.activation_id, created["id"], code
        )


async def test_forged_offline_qr_is_refused(device: Device) -> None:
    created = await payment(device.emu)
    text = await device.emu.admin.offline_qr(created["id"])
    lines = text.split("\n")
    lines[1] = "Another title"
    with pytest.raises(InvalidQrCodeError):
        await device.client.sign_offline_qr(
            parse_qr_operation("\n".join(lines)), Authentication.with_pin(PIN)
        )


async def test_remove_activation(device: Device) -> None:
    activation_id = device.session.state.activation_id
    await device.session.remove_activation(Authentication.with_pin(PIN))
    activations = {a["activationId"]: a for a in await device.emu.admin.activations()}
    assert activations[activation_id]["status"] == "REMOVED"
    assert not device.session.has_activation


async def test_offline_qr_with_biometry_custom_uri_id_and_totp_line(device: Device) -> None:
    activation_id = device.session.state.activation_id
    created = await payment(device.emu, proximity=True)
    qr = parse_qr_operation(await device.emu.admin.offline_qr(created["id"]))
    assert qr.flags.biometry
    assert qr.totp is not None
    code = await device.client.sign_offline_qr(qr, Authentication.biometry(), uri_id="/custom/uri")
    assert not await device.emu.admin.verify_offline(activation_id, created["id"], code)
    assert await device.emu.admin.verify_offline(
        activation_id, created["id"], code, uri_id="/custom/uri"
    )


async def test_offline_qr_without_biometry_flag_needs_the_pin(device: Device) -> None:
    created = await payment(device.emu, allowedFactors=["possession_knowledge"])
    qr = parse_qr_operation(await device.emu.admin.offline_qr(created["id"]))
    assert not qr.flags.biometry
    with pytest.raises(InvalidStateError):
        await device.client.sign_offline_qr(qr, Authentication.biometry())


async def test_vault_unlock_gives_the_key_of_the_device_private_key(device: Device) -> None:
    vault_key = await device.session.unlock_vault(
        Authentication.with_pin(PIN), "FETCH_ENCRYPTION_KEY"
    )
    state = device.session.state
    private = load_private_key(
        decrypt_device_private_key(vault_key, state.encrypted_device_private_key)
    )
    assert public_key_bytes(private) == state.device_public_key


async def test_push_registration(device: Device) -> None:
    await device.client.register_push("android", "push-token-1")


async def test_long_list_is_parsed_newest_first(device: Device) -> None:
    created = [await payment(device.emu, title=f"Payment {n}") for n in range(25)]
    listed = await device.client.list_operations()
    assert [op.id for op in listed] == [op["id"] for op in reversed(created)]


async def test_offline_qr_pasted_with_windows_line_endings(device: Device) -> None:
    created = await payment(device.emu)
    text = await device.emu.admin.offline_qr(created["id"])
    pasted = parse_qr_operation(text.replace("\n", "\r\n"))
    assert pasted == parse_qr_operation(text)
    code = await device.client.sign_offline_qr(pasted, Authentication.with_pin(PIN))
    assert await device.emu.admin.verify_offline(
        device.session.state.activation_id, created["id"], code
    )


async def test_approvals_the_server_must_refuse_are_refused_first(device: Device) -> None:
    two_factor = await device.client.get_operation((await payment(device.emu))["id"])
    with pytest.raises(InvalidInputError, match="only with"):
        await device.client.authorize(two_factor, Authentication.possession())
    login = await payment(
        device.emu,
        proximity=True,
        ui={"preApprovalScreen": {"type": "QR_SCAN", "heading": "Scan", "message": "Scan it"}},
    )
    with pytest.raises(InvalidInputError, match="proximity code"):
        await device.client.authorize(
            await device.client.get_operation(login["id"]), Authentication.with_pin(PIN)
        )
    for created in (two_factor.id, login["id"]):
        assert (await device.emu.admin.get_operation(created))["failureCount"] == 0
