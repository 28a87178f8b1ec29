"""The Mobile Token API: operation JSON, server rules of section 7, and every refusal."""

import re
import secrets
import time

from emu_helpers import OTHER_USER_ID, PAYMENT_DATA, USER_ID, activate, payment
from raw_client import (
    PATH_AUTHORIZE,
    PATH_CANCEL,
    PATH_CLAIM,
    PATH_DETAIL,
    PATH_HISTORY,
    PATH_LIST,
    URI_AUTHORIZE,
    URI_CANCEL,
    URI_HISTORY,
    Device,
    RawClient,
)

from emulator.crypto import totp
from emulator.testing import RunningEmulator
from mtoken.encoding import b64decode
from mtoken.signature import SignatureType

P = SignatureType.POSSESSION
PK = SignatureType.POSSESSION_KNOWLEDGE
PB = SignatureType.POSSESSION_BIOMETRY
DATE_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000")
PATH_PUSH = "/api/push/device/register/token"


async def listed_ids(client: RawClient, device: Device) -> list[str]:
    reply = await client.token_post(device, PATH_LIST)
    assert reply.status == 200, reply.raw
    return [op["id"] for op in reply.response_object]


async def detail(client: RawClient, device: Device, op_id: str, path: str = PATH_DETAIL):
    return await client.token_post(device, path, {"requestObject": {"id": op_id}})


async def authorize(client: RawClient, device: Device, op: dict, signature_type=PK, **extra):
    body = {"requestObject": {"id": op["id"], "data": op["data"], **extra}}
    return await client.signed_post(device, PATH_AUTHORIZE, URI_AUTHORIZE, body, signature_type)


async def reject(
    client: RawClient, device: Device, op_id: str, reason: str = "UNEXPECTED_OPERATION"
):
    body = {"requestObject": {"id": op_id, "reason": reason}}
    return await client.signed_post(device, PATH_CANCEL, URI_CANCEL, body, P)


# -- list, detail, claim ------------------------------------------------------------------------


async def test_operation_json_is_the_wire_format(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    created = await payment(emu, ui={"flipButtons": True})
    reply = await client.token_post(device, PATH_LIST)
    assert list(reply.body) == ["status", "currentTimestamp", "responseObject"]
    assert DATE_RE.fullmatch(reply.body["currentTimestamp"])
    (op,) = reply.response_object
    assert list(op) == [
        "id",
        "name",
        "data",
        "status",
        "operationCreated",
        "operationExpires",
        "ui",
        "allowedSignatureType",
        "formData",
    ]
    assert op["id"] == created["id"]
    assert (op["name"], op["data"], op["status"]) == ("authorize_payment", PAYMENT_DATA, "PENDING")
    assert DATE_RE.fullmatch(op["operationCreated"])
    assert DATE_RE.fullmatch(op["operationExpires"])
    assert op["allowedSignatureType"] == {
        "type": "2FA",
        "variants": ["possession_knowledge", "possession_biometry"],
    }
    assert op["formData"]["title"] == "Payment"
    assert op["formData"]["attributes"][0]["type"] == "AMOUNT"
    assert op["ui"] == {"flipButtons": True}
    one_factor = await payment(emu, allowedFactors=["possession"])
    reply = await detail(client, device, one_factor["id"])
    assert reply.response_object["allowedSignatureType"] == {"type": "1FA", "variants": []}


async def test_list_shows_own_pending_operations_newest_first(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    other = await activate(client, emu, OTHER_USER_ID)
    first = await payment(emu)
    second = await payment(emu)
    await payment(emu, userId=None)
    await payment(emu, userId=OTHER_USER_ID)
    await payment(emu, activationId=other.activation_id)
    await payment(emu, expiresInSeconds=-1)
    finished = await payment(emu)
    assert (await reject(client, device, finished["id"])).status == 200
    assert await listed_ids(client, device) == [second["id"], first["id"]]


async def test_list_holds_at_most_100(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    created = [await payment(emu) for _ in range(105)]
    ids = await listed_ids(client, device)
    assert ids == [op["id"] for op in reversed(created)][:100]


async def test_texts_follow_accept_language(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    texts = {"cs": {"title": "Platba", "message": "Potvrďte platbu", "attributes": []}}
    await payment(emu, texts=texts)
    client.language = "cs-CZ,cs;q=0.9,en;q=0.8"
    reply = await client.token_post(device, PATH_LIST)
    assert reply.response_object[0]["formData"]["title"] == "Platba"
    client.language = "de"
    reply = await client.token_post(device, PATH_LIST)
    assert reply.response_object[0]["formData"]["title"] == "Payment"


async def test_expiry_is_applied_lazily(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    created = await payment(emu, expiresInSeconds=1)
    assert await listed_ids(client, device) == [created["id"]]
    await emu.admin.fault("clock_skew", count=0, value=5)
    assert await listed_ids(client, device) == []
    assert (await emu.admin.get_operation(created["id"]))["status"] == "EXPIRED"
    reply = await detail(client, device, created["id"])
    assert (reply.status, reply.code) == (400, "OPERATION_EXPIRED")
    await emu.admin.fault("clock_skew", count=0, value=0)


async def test_detail_refusals(emu: RunningEmulator, client: RawClient, device: Device) -> None:
    foreign = await payment(emu, userId=OTHER_USER_ID)
    reply = await detail(client, device, foreign["id"])
    assert (reply.status, reply.code) == (400, "INVALID_REQUEST")
    reply = await detail(client, device, "no-such-operation")
    assert (reply.status, reply.code) == (400, "INVALID_OPERATION")
    approved = await payment(emu)
    assert (await authorize(client, device, approved)).status == 200
    reply = await detail(client, device, approved["id"])
    assert (reply.status, reply.code) == (400, "OPERATION_ALREADY_FINISHED")
    failed = await payment(emu, maxFailureCount=1)
    assert (await authorize(client, device, failed, P)).status == 400
    reply = await detail(client, device, failed["id"])
    assert (reply.status, reply.code) == (400, "OPERATION_ALREADY_FAILED")


async def test_claim_makes_an_unclaimed_operation_ours(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    created = await payment(emu, userId=None)
    assert await listed_ids(client, device) == []
    reply = await detail(client, device, created["id"], PATH_CLAIM)
    assert reply.status == 200
    assert reply.response_object["id"] == created["id"]
    assert DATE_RE.fullmatch(reply.body["currentTimestamp"])
    assert await listed_ids(client, device) == [created["id"]]
    assert (await emu.admin.get_operation(created["id"]))["userId"] == USER_ID
    other = await activate(client, emu, OTHER_USER_ID)
    reply = await detail(client, other, created["id"], PATH_CLAIM)
    assert (reply.status, reply.code) == (400, "INVALID_OPERATION")
    expired = await payment(emu, userId=None, expiresInSeconds=-1)
    reply = await detail(client, device, expired["id"], PATH_CLAIM)
    assert (reply.status, reply.code) == (400, "OPERATION_EXPIRED")


# -- tokens ---------------------------------------------------------------------------------------


async def test_token_refusals(emu: RunningEmulator, client: RawClient, device: Device) -> None:
    assert (await client.create_token(device)).status == 200
    now = client.now_ms()
    assert (await client.token_post(device, PATH_LIST, timestamp_ms=now - 7_100_000)).status == 200
    assert (await client.token_post(device, PATH_LIST, timestamp_ms=now + 1_750_000)).status == 200
    for stamp in (now - 7_300_000, now + 1_900_000):
        reply = await client.token_post(device, PATH_LIST, timestamp_ms=stamp)
        assert (reply.status, reply.code) == (401, "POWERAUTH_AUTH_FAIL")
    nonce = secrets.token_bytes(16)
    assert (await client.token_post(device, PATH_LIST, nonce=nonce)).status == 200
    replay = await client.token_post(device, PATH_LIST, nonce=nonce)
    assert (replay.status, replay.code) == (401, "POWERAUTH_AUTH_FAIL")
    secret = device.token_secret
    device.token_secret = secrets.token_bytes(16)
    assert (await client.token_post(device, PATH_LIST)).status == 401
    device.token_secret = secret
    assert (await client.post(PATH_LIST, {})).status == 401
    bad_header = {"X-PowerAuth-Token": 'PowerAuth token_id="x"'}
    assert (await client.post(PATH_LIST, {}, bad_header)).status == 401
    await emu.admin.block(device.activation_id)
    assert (await client.token_post(device, PATH_LIST)).status == 401


async def test_token_survives_a_skewed_server_within_the_window(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    await client.create_token(device)
    await emu.admin.fault("clock_skew", count=1, value=-3 * 3600)
    reply = await client.token_post(device, PATH_LIST)
    assert (reply.status, reply.code) == (401, "POWERAUTH_AUTH_FAIL")
    assert (await client.token_post(device, PATH_LIST)).status == 200


# -- history ---------------------------------------------------------------------------------------


async def test_history_needs_two_factors(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    rejected = await payment(emu)
    await reject(client, device, rejected["id"])
    pending = await payment(emu)
    await payment(emu, userId=OTHER_USER_ID)
    reply = await client.signed_post(device, PATH_HISTORY, URI_HISTORY, {}, PB)
    assert reply.status == 200
    assert [(op["id"], op["status"]) for op in reply.response_object] == [
        (pending["id"], "PENDING"),
        (rejected["id"], "REJECTED"),
    ]
    assert reply.response_object[1]["statusReason"] == "UNEXPECTED_OPERATION"
    reply = await client.signed_post(device, PATH_HISTORY, URI_HISTORY, {}, P)
    assert (reply.status, reply.code) == (401, "POWERAUTH_AUTH_FAIL")


# -- authorize -----------------------------------------------------------------------------------


async def test_authorize_with_each_allowed_factor(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    for signature_type in (PK, PB):
        created = await payment(emu)
        assert (await authorize(client, device, created, signature_type)).status == 200
        recorded = await emu.admin.get_operation(created["id"])
        assert (recorded["status"], recorded["signatureType"]) == ("APPROVED", str(signature_type))
    one_factor = await payment(emu, allowedFactors=["possession"])
    assert (await authorize(client, device, one_factor, P)).status == 200


async def test_authorize_refusals_count_failures(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    created = await payment(emu, maxFailureCount=4)
    reply = await authorize(client, device, created, P)
    assert (reply.status, reply.code) == (401, "OPERATION_FAILED")
    reply = await authorize(client, device, {**created, "data": "A1*A999999CZK"})
    assert (reply.status, reply.code) == (401, "OPERATION_FAILED")
    bad_signature = await client.signed_post(
        device,
        PATH_AUTHORIZE,
        URI_AUTHORIZE,
        {"requestObject": {"id": created["id"], "data": created["data"]}},
        PK,
        keys=[device.keys.possession, secrets.token_bytes(16)],
    )
    assert (bad_signature.status, bad_signature.code) == (401, "POWERAUTH_AUTH_FAIL")
    assert (await emu.admin.get_operation(created["id"]))["failureCount"] == 3
    reply = await authorize(client, device, created, P)
    assert (reply.status, reply.code) == (400, "OPERATION_ALREADY_FAILED")
    assert (await emu.admin.get_operation(created["id"]))["status"] == "FAILED"
    reply = await authorize(client, device, created)
    assert (reply.status, reply.code) == (400, "OPERATION_ALREADY_FAILED")


async def test_bad_signature_can_make_the_operation_fail(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    created = await payment(emu, maxFailureCount=1)
    reply = await client.signed_post(
        device,
        PATH_AUTHORIZE,
        URI_AUTHORIZE,
        {"requestObject": {"id": created["id"], "data": created["data"]}},
        PK,
        keys=[device.keys.possession, secrets.token_bytes(16)],
    )
    assert (reply.status, reply.code) == (400, "OPERATION_ALREADY_FAILED")


async def test_authorize_of_finished_foreign_or_expired_operation(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    approved = await payment(emu)
    assert (await authorize(client, device, approved)).status == 200
    reply = await authorize(client, device, approved)
    assert (reply.status, reply.code) == (400, "OPERATION_ALREADY_FINISHED")
    foreign = await payment(emu, userId=OTHER_USER_ID)
    reply = await authorize(client, device, foreign)
    assert (reply.status, reply.code) == (401, "OPERATION_FAILED")
    assert (await emu.admin.get_operation(foreign["id"]))["status"] == "PENDING"
    expired = await payment(emu, expiresInSeconds=-1)
    reply = await authorize(client, device, expired)
    assert (reply.status, reply.code) == (400, "OPERATION_EXPIRED")
    reply = await authorize(client, device, {"id": "no-such-operation", "data": "x"})
    assert (reply.status, reply.code) == (400, "INVALID_OPERATION")


async def test_authorize_checks_the_proximity_otp(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    created = await payment(emu, proximity=True)
    seed = b64decode(created["totpSeed"])
    assert (await authorize(client, device, created)).code == "OPERATION_FAILED"
    wrong = {
        "otp": "00000000" if totp(seed, time.time()) != "00000000" else "11111111",
        "type": "QR_CODE",
    }
    assert (
        await authorize(client, device, created, proximityCheck=wrong)
    ).code == "OPERATION_FAILED"
    previous_step = totp(seed, time.time() - 30)
    check = {
        "otp": previous_step,
        "type": "QR_CODE",
        "timestampReceived": "2023-10-27T11:04:15Z",
        "timestampSent": "2023-10-27T11:04:20Z",
    }
    assert (await authorize(client, device, created, proximityCheck=check)).status == 200
    fresh = await payment(emu, proximity=True)
    current = {"otp": await emu.admin.get_totp(fresh["id"]), "type": "DEEPLINK"}
    assert (await authorize(client, device, fresh, proximityCheck=current)).status == 200


async def test_operation_bound_to_another_activation(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    second = await activate(client, emu)
    bound = await payment(emu, activationId=second.activation_id)
    assert (await authorize(client, device, bound)).code == "OPERATION_FAILED"
    assert (await authorize(client, second, bound)).status == 200


# -- cancel and push -------------------------------------------------------------------------------


async def test_reject_stores_the_reason(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    created = await payment(emu)
    assert (await reject(client, device, created["id"], "POSSIBLE_FRAUD")).status == 200
    recorded = await emu.admin.get_operation(created["id"])
    assert (recorded["status"], recorded["rejectReason"]) == ("REJECTED", "POSSIBLE_FRAUD")
    reply = await reject(client, device, created["id"])
    assert (reply.status, reply.code) == (400, "OPERATION_ALREADY_FINISHED")


async def test_reject_refusals(emu: RunningEmulator, client: RawClient, device: Device) -> None:
    created = await payment(emu)
    body = {"requestObject": {"id": created["id"], "reason": "UNKNOWN"}}
    reply = await client.signed_post(device, PATH_CANCEL, URI_CANCEL, body, PK)
    assert (reply.status, reply.code) == (401, "POWERAUTH_AUTH_FAIL")
    foreign = await payment(emu, userId=OTHER_USER_ID)
    reply = await reject(client, device, foreign["id"])
    assert (reply.status, reply.code) == (401, "OPERATION_FAILED")
    reply = await reject(client, device, "no-such-operation")
    assert (reply.status, reply.code) == (400, "INVALID_OPERATION")


async def test_push_registration_is_stored(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    body = {"requestObject": {"platform": "android", "token": "fcm-token-1"}}
    assert (await client.token_post(device, PATH_PUSH, body)).status == 200
    assert emu.emulator.db.push_device(device.activation_id) == ("android", "fcm-token-1")
    bad = {"requestObject": {"platform": "pager", "token": "x"}}
    reply = await client.token_post(device, PATH_PUSH, bad)
    assert (reply.status, reply.code) == (400, "INVALID_REQUEST")
    assert (await client.post(PATH_PUSH, body)).status == 401
