"""Bad input to every endpoint: the reference error envelope with 400, never a 500.

Each body is sent with valid authentication for its endpoint (signed,
token, encryption header), so what is refused is the body itself.
"""

import json
import random
from typing import Any

import pytest
from emu_helpers import activate, payment
from raw_client import Device, RawClient

from emulator.httpio import MAX_BODY_SIZE
from emulator.testing import RunningEmulator
from mtoken.signature import SignatureType

OVERSIZED = b'{"requestObject": "' + b"x" * (MAX_BODY_SIZE + 10) + b'"}'
BAD_BODIES = {
    "not JSON": b"not json",
    "not UTF-8": b"\xff\xfe{}",
    "NaN": b'{"requestObject": NaN}',
    "array": b"[]",
    "empty": b"",
    "no requestObject": b"{}",
    "requestObject not an object": b'{"requestObject": 5}',
    "wrong types": b'{"requestObject": {"id": 5, "data": [], "jwt": 1, "activationId": {},'
    b' "challenge": 3, "tokenId": false, "platform": 1, "token": 2, "reason": 7}}',
    "missing fields": b'{"requestObject": {}}',
    "bad challenge": b'{"requestObject": {"activationId": "a", "challenge": "!!"}}',
    "oversized": OVERSIZED,
    "deep nesting": b"[" * 100_000,
}
SIGNED = {
    "/api/auth/token/app/operation/history": (
        "/operation/history",
        SignatureType.POSSESSION_KNOWLEDGE,
    ),
    "/api/auth/token/app/operation/authorize": (
        "/operation/authorize",
        SignatureType.POSSESSION_KNOWLEDGE,
    ),
    "/api/auth/token/app/operation/cancel": ("/operation/cancel", SignatureType.POSSESSION),
    "/pa/v3/token/create": ("/pa/token/create", SignatureType.POSSESSION),
    "/pa/v3/token/remove": ("/pa/token/remove", SignatureType.POSSESSION),
    "/pa/v3/activation/remove": ("/pa/activation/remove", SignatureType.POSSESSION_KNOWLEDGE),
    "/pa/v3/signature/validate": ("/pa/signature/validate", SignatureType.POSSESSION),
    "/pa/v3/vault/unlock": ("/pa/vault/unlock", SignatureType.POSSESSION_KNOWLEDGE),
}
TOKEN = [
    "/api/auth/token/app/operation/list",
    "/api/auth/token/app/operation/detail",
    "/api/auth/token/app/operation/detail/claim",
    "/api/push/device/register/token",
]
PLAIN = [
    "/pa/v3/keystore/create",
    "/pa/v3/activation/status",
    "/pa/v3/activation/create",
    "/pa/v3/status",
]
ADMIN = [
    "/admin/activation-code",
    "/admin/operations",
    "/admin/verify-offline",
    "/admin/faults",
    "/admin/operations/{op}/offline-qr",
]
# Bodies an endpoint accepts as they are (it reads no field of them).
ACCEPTED = {
    ("/api/auth/token/app/operation/list", "no requestObject"),
    ("/api/auth/token/app/operation/list", "requestObject not an object"),
    ("/api/auth/token/app/operation/list", "wrong types"),
    ("/api/auth/token/app/operation/list", "missing fields"),
    ("/api/auth/token/app/operation/list", "bad challenge"),
    ("/api/auth/token/app/operation/history", "no requestObject"),
    ("/api/auth/token/app/operation/history", "requestObject not an object"),
    ("/api/auth/token/app/operation/history", "wrong types"),
    ("/api/auth/token/app/operation/history", "missing fields"),
    ("/api/auth/token/app/operation/history", "bad challenge"),
    ("/pa/v3/status", "empty"),
    ("/pa/v3/status", "no requestObject"),
    ("/pa/v3/status", "requestObject not an object"),
    ("/pa/v3/status", "wrong types"),
    ("/pa/v3/status", "missing fields"),
    ("/pa/v3/status", "bad challenge"),
    ("/admin/operations/{op}/offline-qr", "no requestObject"),
    ("/admin/operations/{op}/offline-qr", "requestObject not an object"),
    ("/admin/operations/{op}/offline-qr", "wrong types"),
    ("/admin/operations/{op}/offline-qr", "missing fields"),
    ("/admin/operations/{op}/offline-qr", "bad challenge"),
}
for _path in ("/pa/v3/activation/remove", "/pa/v3/signature/validate"):
    for _name in (
        "empty",
        "array",
        "no requestObject",
        "requestObject not an object",
        "wrong types",
        "missing fields",
        "bad challenge",
    ):
        ACCEPTED.add((_path, _name))


def _refused(reply: Any) -> None:
    assert reply.status == 400, (reply.status, reply.raw[:200])
    assert reply.body["status"] == "ERROR"
    assert set(reply.body["responseObject"]) == {"code", "message"}
    assert isinstance(reply.body["responseObject"]["code"], str)


async def _send(
    client: RawClient, device: Device, emu: RunningEmulator, path: str, body: bytes
) -> Any:
    if path in SIGNED:
        uri_id, signature_type = SIGNED[path]
        headers = client.signature_header(device, uri_id, body, signature_type)
        return await client.post(path, body, headers)
    if path in TOKEN:
        if device.token_id is None:
            await client.create_token(device)
        return await client.post(path, body, client.token_header(device))
    if path == "/pa/v3/activation/create":
        return await client.post(path, body, client.encryption_header())
    if "{op}" in path:
        created = await payment(emu)
        return await client.post(path.replace("{op}", created["id"]), body)
    return await client.post(path, body)


@pytest.mark.parametrize("path", list(SIGNED) + TOKEN + PLAIN + ADMIN)
async def test_bad_bodies_get_the_error_envelope(
    emu: RunningEmulator, client: RawClient, device: Device, path: str
) -> None:
    for name, body in BAD_BODIES.items():
        reply = await _send(client, device, emu, path, body)
        if (path, name) in ACCEPTED:
            assert reply.status == 200, (name, reply.raw[:200])
            if path == "/pa/v3/activation/remove":
                device = await activate(client, emu)
        else:
            _refused(reply)
    # Nothing broke: the device still signs and lists.
    assert (
        await client.signed_post(device, "/pa/v3/signature/validate", "/pa/signature/validate")
    ).status == 200


async def test_unknown_paths_and_methods_get_the_envelope(client: RawClient) -> None:
    reply = await client.post("/pa/v3/nothing", {})
    assert reply.status == 404
    assert reply.body["responseObject"]["code"] == "ERROR_NOT_FOUND"
    async with client.http.get(f"{client.url}/pa/v3/status") as response:
        assert response.status == 405
        assert (await response.json())["status"] == "ERROR"


async def test_admin_validates_its_fields(emu: RunningEmulator, client: RawClient) -> None:
    bad_operations = [
        {"data": "x"},
        {"name": "x"},
        {"name": "x", "data": "y", "allowedFactors": ["knowledge"]},
        {"name": "x", "data": "y", "allowedFactors": []},
        {"name": "x", "data": "y", "expiresInSeconds": "soon"},
        {"name": "x", "data": "y", "proximity": "yes"},
        {"name": "x", "data": "y", "attributes": {"type": "AMOUNT"}},
        {"name": "x", "data": "y", "ui": []},
        {"name": "x", "data": "y", "userId": 7},
    ]
    for body in bad_operations:
        _refused(await client.post("/admin/operations", body))
    for body in (
        {"kind": "meteor"},
        {"kind": "latency", "count": -1},
        {"kind": "latency", "value": "slow"},
        {"kind": "latency", "value": 1e9},
    ):
        _refused(await client.post("/admin/faults", body))
    _refused(await client.post("/admin/activation-code", {"userId": ""}))
    _refused(await client.post("/admin/activation-code", {"userId": "u", "commit": "later"}))
    created = await payment(emu)
    _refused(
        await client.post(f"/admin/operations/{created['id']}/offline-qr", {"signingKey": "x"})
    )
    reply = await client.post("/admin/operations/unknown/offline-qr", {})
    assert (reply.status, reply.code) == (404, "ERROR_NOT_FOUND")


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """Flip, cut, duplicate or splice in junk: what a broken proxy or an attacker sends."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(5)
        position = rng.randrange(len(out) + 1)
        if choice == 0 and out:
            out[min(position, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif choice == 1:
            del out[position:]
        elif choice == 2:
            out[position:position] = rng.choice(
                [b'"', b"{", b"]", b"\\u0000", b"1e999", b"-1", b"null"]
            )
        elif choice == 3:
            out[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            out += out[: rng.randint(0, 16)]
    return bytes(out)


async def test_random_garbage_never_crashes_the_server(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    rng = random.Random(20240229)
    code = (await emu.admin.create_activation_code("mallory"))["activationCode"]
    activation, *_ = await client.activation_request(code)
    seeds = [
        json.dumps(activation).encode(),
        json.dumps(
            {
                "requestObject": {
                    "activationId": device.activation_id,
                    "challenge": "AAAAAAAAAAAAAAAAAAAAAA==",
                }
            }
        ).encode(),
        json.dumps(
            {"requestObject": {"id": "x", "data": "A1*A100CZK", "proximityCheck": {"otp": "1"}}}
        ).encode(),
        b'{"requestObject":{"jwt":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhIjoxfQ.AAAA"}}',
    ]
    await client.create_token(device)
    headers = [
        client.signature_header(device, "/pa/signature/validate", b"{}"),
        client.token_header(device),
        client.encryption_header(),
    ]
    for path in list(SIGNED) + TOKEN + PLAIN:
        for _ in range(12):
            body = _mutate(rng, rng.choice(seeds))
            name, value = next(iter(rng.choice(headers).items()))
            # Header values stay printable ASCII: anything else is refused by HTTP itself.
            mutated = bytes(b for b in _mutate(rng, value.encode()) if 32 <= b < 127)
            junk = {name: mutated.decode("ascii")} if rng.random() < 0.7 else {}
            reply = await client.post(path, body, junk)
            assert reply.status in (200, 400, 401), (path, reply.status, reply.raw[:200])
            assert reply.body is not None
            assert reply.body["status"] in ("OK", "ERROR")
    assert (await client.post("/pa/v3/status", {})).status == 200
