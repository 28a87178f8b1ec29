"""The PowerAuth endpoints: each success path and the refusals the reference server makes."""

import json
import secrets
from dataclasses import replace

import pytest
from emu_helpers import USER_ID, activate
from raw_client import (
    PATH_ACTIVATION_CREATE,
    PATH_KEYSTORE,
    Device,
    RawClient,
    dumps,
)

from emulator.testing import RunningEmulator
from mtoken.ecies import (
    ENCRYPTION_HEADER,
    SH1_TOKEN_CREATE,
    SH1_VAULT_UNLOCK,
    build_encryption_header,
)
from mtoken.encoding import b64decode, b64encode
from mtoken.keystore import application_jwt_key, build_request_jwt
from mtoken.protection import decrypt_vault_key
from mtoken.signature import SignatureType
from mtoken.status import ActivationStatus

P = SignatureType.POSSESSION
PK = SignatureType.POSSESSION_KNOWLEDGE
PB = SignatureType.POSSESSION_BIOMETRY
PATH_VALIDATE = "/pa/v3/signature/validate"
URI_VALIDATE = "/pa/signature/validate"
PATH_REMOVE = "/pa/v3/activation/remove"
URI_REMOVE = "/pa/activation/remove"
PATH_VAULT = "/pa/v3/vault/unlock"
URI_VAULT = "/pa/vault/unlock"
PATH_TOKEN_REMOVE = "/pa/v3/token/remove"
URI_TOKEN_REMOVE = "/pa/token/remove"
AUTH_FAIL = "POWERAUTH_AUTH_FAIL"


def wrong_pin(device: Device) -> list[bytes]:
    """Possession and a knowledge key derived from a wrong PIN."""
    return [device.keys.possession, secrets.token_bytes(16)]


async def validate(client: RawClient, device: Device, signature_type: SignatureType = PK, **kw):
    return await client.signed_post(device, PATH_VALIDATE, URI_VALIDATE, {}, signature_type, **kw)


async def activation_of(emu: RunningEmulator, device: Device) -> dict:
    return {a["activationId"]: a for a in await emu.admin.activations()}[device.activation_id]


# -- temporary keys -------------------------------------------------------------------


async def test_temporary_keys_in_both_scopes(client: RawClient, device: Device) -> None:
    app_key_id, _ = await client.temporary_key()
    activation_key_id, _ = await client.temporary_key(device)
    assert app_key_id != activation_key_id


async def test_temporary_key_refuses_bad_jwt(client: RawClient, emu: RunningEmulator) -> None:
    challenge = b64encode(secrets.token_bytes(18))
    forged = build_request_jwt(client.app_key, secrets.token_bytes(16), None, challenge)
    reply = await client.post(PATH_KEYSTORE, {"requestObject": {"jwt": forged}})
    assert (reply.status, reply.code) == (400, "ERR_TEMPORARY_KEY")
    other_app = b64encode(secrets.token_bytes(16))
    key = application_jwt_key(b64decode(client.app_secret))
    wrong_app = build_request_jwt(other_app, key, None, challenge)
    reply = await client.post(PATH_KEYSTORE, {"requestObject": {"jwt": wrong_app}})
    assert (reply.status, reply.code) == (400, "ERR_TEMPORARY_KEY")
    unknown = build_request_jwt(
        client.app_key, key, "8d1bd3a0-0000-4000-8000-000000000001", challenge
    )
    reply = await client.post(PATH_KEYSTORE, {"requestObject": {"jwt": unknown}})
    assert (reply.status, reply.code) == (400, "ERR_TEMPORARY_KEY")


async def test_blocked_activation_gets_no_temporary_key(
    client: RawClient, emu: RunningEmulator, device: Device
) -> None:
    await emu.admin.block(device.activation_id)
    with pytest.raises(AssertionError, match="ERR_TEMPORARY_KEY"):
        await client.temporary_key(device)


# -- activation -----------------------------------------------------------------------


async def test_activation_makes_an_active_activation(
    client: RawClient, emu: RunningEmulator
) -> None:
    device = await activate(client, emu)
    listed = await activation_of(emu, device)
    assert listed == listed | {
        "userId": USER_ID,
        "status": "ACTIVE",
        "failedAttempts": 0,
        "maxFailedAttempts": 5,
        "counter": 0,
    }
    blob = await client.status(device)
    assert blob is not None
    assert blob.status == ActivationStatus.ACTIVE
    assert (blob.ctr_byte, blob.failed_attempts, blob.max_failed_attempts) == (0, 0, 5)


async def test_activation_code_works_once(client: RawClient, emu: RunningEmulator) -> None:
    code = (await emu.admin.create_activation_code(USER_ID))["activationCode"]
    await client.activate(code)
    payload, *_ = await client.activation_request(code)
    reply = await client.post(PATH_ACTIVATION_CREATE, payload, client.encryption_header())
    assert (reply.status, reply.code) == (400, "ERR_ACTIVATION")
    payload, *_ = await client.activation_request("AAAAA-AAAAA-AAAAA-AAAAA")
    reply = await client.post(PATH_ACTIVATION_CREATE, payload, client.encryption_header())
    assert (reply.status, reply.code) == (400, "ERR_ACTIVATION")


async def test_activation_with_manual_commit_waits(client: RawClient, emu: RunningEmulator) -> None:
    code = await emu.admin.create_activation_code(USER_ID, commit="manual")
    device = await client.activate(code["activationCode"])
    assert (await client.status(device)).status == ActivationStatus.PENDING_COMMIT
    assert (await validate(client, device)).status == 401
    await emu.admin.commit(device.activation_id)
    assert (await client.status(device)).status == ActivationStatus.ACTIVE


@pytest.mark.parametrize("version", ["3.0", "3.1", "3.2"])
async def test_older_protocol_versions_are_accepted(
    client: RawClient, emu: RunningEmulator, version: str
) -> None:
    code = await emu.admin.create_activation_code(USER_ID)
    device = await client.activate(code["activationCode"], version=version)
    assert (await validate(client, device, version=version)).status == 200
    payload, decryptor = await client.encrypt(SH1_TOKEN_CREATE, b"{}", device, version=version)
    reply = await client.signed_post(
        device, "/pa/v3/token/create", "/pa/token/create", payload, P, version=version
    )
    assert reply.status == 200, reply.raw
    assert set(json.loads(decryptor.decrypt_response(reply.body))) == {"tokenId", "tokenSecret"}


async def test_activation_refuses_tampered_mac(client: RawClient, emu: RunningEmulator) -> None:
    code = (await emu.admin.create_activation_code(USER_ID))["activationCode"]
    payload, *_ = await client.activation_request(code)
    mac = bytearray(b64decode(payload["mac"]))
    mac[0] ^= 1
    reply = await client.post(
        PATH_ACTIVATION_CREATE,
        {**payload, "mac": b64encode(bytes(mac))},
        client.encryption_header(),
    )
    assert (reply.status, reply.code) == (400, "ERR_ENCRYPTION")


async def test_activation_refuses_stale_and_replayed_requests(
    client: RawClient, emu: RunningEmulator
) -> None:
    code = (await emu.admin.create_activation_code(USER_ID))["activationCode"]
    client.offset_ms = -61_000
    stale, *_ = await client.activation_request(code)
    client.offset_ms = 0
    reply = await client.post(PATH_ACTIVATION_CREATE, stale, client.encryption_header())
    assert (reply.status, reply.code) == (400, "ERR_ENCRYPTION")
    payload, *_ = await client.activation_request(code)
    assert (
        await client.post(PATH_ACTIVATION_CREATE, payload, client.encryption_header())
    ).status == 200
    replay = await client.post(PATH_ACTIVATION_CREATE, payload, client.encryption_header())
    assert (replay.status, replay.code) == (400, "ERR_ENCRYPTION")


async def test_activation_refuses_unknown_temporary_key_and_application(
    client: RawClient, emu: RunningEmulator
) -> None:
    code = (await emu.admin.create_activation_code(USER_ID))["activationCode"]
    payload, *_ = await client.activation_request(code)
    unknown = {**payload, "temporaryKeyId": "00000000-0000-4000-8000-000000000000"}
    reply = await client.post(PATH_ACTIVATION_CREATE, unknown, client.encryption_header())
    assert (reply.status, reply.code) == (400, "ERR_TEMPORARY_KEY")
    other = {ENCRYPTION_HEADER: build_encryption_header("3.3", b64encode(bytes(range(16))))}
    reply = await client.post(PATH_ACTIVATION_CREATE, payload, other)
    assert (reply.status, reply.code) == (400, "ERR_ENCRYPTION")


async def test_status_of_unknown_activation_is_random(client: RawClient, device: Device) -> None:
    stranger = Device(
        "8d1bd3a0-0000-4000-8000-000000000001",
        device.server_public_key,
        device.keys,
        device.ctr_data,
    )
    assert await client.status(stranger) is None


# -- signatures -------------------------------------------------------------------------


async def test_signature_counter_look_ahead_and_advance(
    client: RawClient, emu: RunningEmulator, device: Device
) -> None:
    assert (await validate(client, device)).status == 200
    for _ in range(5):  # signatures the server never saw
        client.signature_header(device, URI_VALIDATE, b"{}")
    assert (await validate(client, device, PB)).status == 200
    assert (await activation_of(emu, device))["counter"] == 7
    blob = await client.status(device)
    assert blob.ctr_byte == 7
    for _ in range(20):
        client.signature_header(device, URI_VALIDATE, b"{}")
    reply = await validate(client, device, P)
    assert (reply.status, reply.code) == (401, AUTH_FAIL)
    assert (await activation_of(emu, device))["counter"] == 7


async def test_replayed_signature_is_refused(client: RawClient, device: Device) -> None:
    body = b"{}"
    ctr_before = device.ctr_data
    headers = client.signature_header(device, URI_VALIDATE, body)
    assert (await client.post(PATH_VALIDATE, body, headers)).status == 200
    replay = await client.post(PATH_VALIDATE, body, headers)
    assert (replay.status, replay.code) == (401, AUTH_FAIL)
    device.ctr_data = ctr_before
    reused_counter = await validate(client, device)
    assert reused_counter.status == 401


async def test_signature_must_cover_the_exact_body(client: RawClient, device: Device) -> None:
    headers = client.signature_header(device, URI_VALIDATE, b'{"a":1}')
    reply = await client.post(PATH_VALIDATE, b'{"a":2}', headers)
    assert (reply.status, reply.code) == (401, AUTH_FAIL)


async def test_old_signature_versions_are_accepted(client: RawClient, device: Device) -> None:
    for version in ("3.0", "3.1", "3.2"):
        assert (await validate(client, device, version=version)).status == 200


async def test_wrong_pin_counts_and_blocks_at_five(
    client: RawClient, emu: RunningEmulator, device: Device
) -> None:
    bad_possession = [secrets.token_bytes(16)]
    assert (await validate(client, device, P, keys=bad_possession)).status == 401
    assert (await activation_of(emu, device))["failedAttempts"] == 0
    for attempt in range(1, 5):
        assert (await validate(client, device, keys=wrong_pin(device))).status == 401
        assert (await client.status(device)).failed_attempts == attempt
    assert (await validate(client, device)).status == 200
    assert (await activation_of(emu, device))["failedAttempts"] == 0
    for _ in range(5):
        assert (await validate(client, device, keys=wrong_pin(device))).status == 401
    listed = await activation_of(emu, device)
    assert (listed["status"], listed["failedAttempts"]) == ("BLOCKED", 5)
    assert (await client.status(device)).status == ActivationStatus.BLOCKED
    assert (await validate(client, device)).status == 401
    await emu.admin.unblock(device.activation_id)
    assert (await validate(client, device)).status == 200


async def test_wrong_application_key_counts_as_failure(
    client: RawClient, emu: RunningEmulator, device: Device
) -> None:
    reply = await validate(client, device, app_key=b64encode(bytes(range(16))))
    assert (reply.status, reply.code) == (401, AUTH_FAIL)
    assert (await activation_of(emu, device))["failedAttempts"] == 1


async def test_unknown_removed_and_blocked_activations_cannot_sign(
    client: RawClient, emu: RunningEmulator, device: Device
) -> None:
    stranger = Device(
        "8d1bd3a0-0000-4000-8000-000000000001",
        device.server_public_key,
        device.keys,
        device.ctr_data,
    )
    assert (await validate(client, stranger)).status == 401
    await emu.admin.block(device.activation_id)
    assert (await validate(client, device)).status == 401
    await emu.admin.remove(device.activation_id)
    assert (await validate(client, device)).status == 401
    assert (await client.status(device)).status == ActivationStatus.REMOVED


async def test_malformed_signature_header_is_refused(client: RawClient, device: Device) -> None:
    for header in ("", "PowerAuth", 'PowerAuth pa_version="3.3"', "Basic abc"):
        reply = await client.post(PATH_VALIDATE, b"{}", {"X-PowerAuth-Authorization": header})
        assert (reply.status, reply.code) == (401, AUTH_FAIL)
    reply = await client.post(PATH_VALIDATE, b"{}")
    assert (reply.status, reply.code) == (401, AUTH_FAIL)


# -- tokens, removal, vault, time ------------------------------------------------------------


async def test_token_create_and_remove(client: RawClient, device: Device) -> None:
    assert (await client.create_token(device)).status == 200
    reply = await client.signed_post(
        device,
        PATH_TOKEN_REMOVE,
        URI_TOKEN_REMOVE,
        {"requestObject": {"tokenId": device.token_id}},
        P,
    )
    assert reply.status == 200
    assert reply.response_object == {"tokenId": device.token_id}
    listed = await client.token_post(device, "/api/auth/token/app/operation/list")
    assert (listed.status, listed.code) == (401, AUTH_FAIL)


async def test_token_create_needs_a_valid_signature(client: RawClient, device: Device) -> None:
    real = device.keys
    device.keys = replace(real, possession=secrets.token_bytes(16))
    reply = await client.create_token(device)
    assert (reply.status, reply.code) == (401, AUTH_FAIL)
    device.keys = real
    reply = await client.create_token(device, SignatureType.KNOWLEDGE)
    assert (reply.status, reply.code) == (401, AUTH_FAIL)
    assert (await client.create_token(device, PB)).status == 200


async def test_token_create_needs_activation_scope_encryption(
    client: RawClient, device: Device
) -> None:
    payload, _ = await client.encrypt(SH1_TOKEN_CREATE, b"{}")
    reply = await client.signed_post(device, "/pa/v3/token/create", "/pa/token/create", payload, P)
    assert (reply.status, reply.code) == (400, "ERR_TEMPORARY_KEY")
    payload, _ = await client.encrypt(SH1_TOKEN_CREATE, b"{}", device, version="3.2")
    payload["mac"] = b64encode(bytes(32))
    reply = await client.signed_post(
        device, "/pa/v3/token/create", "/pa/token/create", payload, P, version="3.2"
    )
    assert (reply.status, reply.code) == (400, "ERR_ENCRYPTION")


async def test_activation_remove_needs_two_factors(
    client: RawClient, emu: RunningEmulator, device: Device
) -> None:
    reply = await client.signed_post(device, PATH_REMOVE, URI_REMOVE, {}, P)
    assert (reply.status, reply.code) == (401, AUTH_FAIL)
    reply = await client.signed_post(device, PATH_REMOVE, URI_REMOVE, {}, PK)
    assert reply.status == 200
    assert reply.response_object == {"activationId": device.activation_id}
    assert (await activation_of(emu, device))["status"] == "REMOVED"


async def test_vault_unlock_hands_out_the_vault_key(client: RawClient, device: Device) -> None:
    payload, decryptor = await client.encrypt(
        SH1_VAULT_UNLOCK, dumps({"reason": "FETCH_ENCRYPTION_KEY"}), device
    )
    reply = await client.signed_post(device, PATH_VAULT, URI_VAULT, payload, PK)
    assert reply.status == 200, reply.raw
    answer = json.loads(decryptor.decrypt_response(reply.body))
    encrypted = b64decode(answer["encryptedVaultEncryptionKey"])
    assert decrypt_vault_key(device.keys.transport, encrypted) == device.keys.vault


async def test_vault_unlock_refusals(client: RawClient, device: Device) -> None:
    payload, _ = await client.encrypt(SH1_VAULT_UNLOCK, dumps({"reason": "ADD_BIOMETRY"}), device)
    reply = await client.signed_post(device, PATH_VAULT, URI_VAULT, payload, P)
    assert (reply.status, reply.code) == (401, AUTH_FAIL)
    payload, _ = await client.encrypt(SH1_VAULT_UNLOCK, dumps({"reason": "STEAL"}), device)
    reply = await client.signed_post(device, PATH_VAULT, URI_VAULT, payload, PK)
    assert (reply.status, reply.code) == (400, "ERR_SECURE_VAULT")


async def test_server_time_follows_clock_skew(client: RawClient, emu: RunningEmulator) -> None:
    before = client.now_ms()
    reply = await client.post("/pa/v3/status", {"requestObject": {}})
    assert abs(reply.response_object["serverTime"] - before) < 5_000
    await emu.admin.fault("clock_skew", count=1, value=3600)
    skewed = await client.post("/pa/v3/status", {})
    assert skewed.response_object["serverTime"] - before > 3_590_000
    back = await client.post("/pa/v3/status", {})
    assert abs(back.response_object["serverTime"] - before) < 5_000


async def test_get_signature_covers_the_canonical_query(client: RawClient, device: Device) -> None:
    query = "limit=10&b=x%20y&a=2&a=1"
    headers = client.signature_header(device, URI_VALIDATE, b"a=1&a=2&b=x+y&limit=10", method="GET")
    async with client.http.get(f"{client.url}{PATH_VALIDATE}?{query}", headers=headers) as response:
        assert response.status == 200
    headers = client.signature_header(device, URI_VALIDATE, b"limit=10", method="GET")
    async with client.http.get(f"{client.url}{PATH_VALIDATE}?{query}", headers=headers) as response:
        assert response.status == 401
    headers = client.signature_header(device, URI_VALIDATE, b"", method="DELETE")
    async with client.http.delete(f"{client.url}{PATH_VALIDATE}", headers=headers) as response:
        assert response.status == 200


SIGNED_ENDPOINTS = [
    ("/api/auth/token/app/operation/history", "/operation/history", PK),
    ("/api/auth/token/app/operation/authorize", "/operation/authorize", PK),
    ("/api/auth/token/app/operation/cancel", "/operation/cancel", P),
    ("/pa/v3/token/create", "/pa/token/create", P),
    ("/pa/v3/token/remove", URI_TOKEN_REMOVE, P),
    ("/pa/v3/vault/unlock", URI_VAULT, PK),
    (PATH_REMOVE, URI_REMOVE, PK),
    (PATH_VALIDATE, URI_VALIDATE, PK),
]
TOKEN_ENDPOINTS = [
    "/api/auth/token/app/operation/list",
    "/api/auth/token/app/operation/detail",
    "/api/auth/token/app/operation/detail/claim",
    "/api/push/device/register/token",
]


async def test_every_signed_endpoint_refuses_bad_signatures_and_activations(
    client: RawClient, emu: RunningEmulator, device: Device
) -> None:
    stranger = Device(
        "8d1bd3a0-0000-4000-8000-000000000001",
        device.server_public_key,
        device.keys,
        device.ctr_data,
    )
    await client.create_token(device)
    for path, uri_id, signature_type in SIGNED_ENDPOINTS:
        wrong_uri = await client.signed_post(device, path, "/somewhere/else", {}, signature_type)
        unknown = await client.signed_post(stranger, path, uri_id, {}, signature_type)
        for reply in (wrong_uri, unknown):
            assert (reply.status, reply.code) == (401, AUTH_FAIL), path
    # Five of those were two-factor signatures that failed: the activation is now blocked.
    assert (await activation_of(emu, device))["status"] == "BLOCKED"
    for path, uri_id, signature_type in SIGNED_ENDPOINTS:
        reply = await client.signed_post(device, path, uri_id, {}, signature_type)
        assert (reply.status, reply.code) == (401, AUTH_FAIL), path
    for path in TOKEN_ENDPOINTS:
        reply = await client.token_post(device, path, {"requestObject": {"id": "x"}})
        assert (reply.status, reply.code) == (401, AUTH_FAIL), path
