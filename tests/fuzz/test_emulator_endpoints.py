"""The emulator's endpoints under random and mutated requests: never HTTP 500, and every
error in the reference envelope ``{"status": "ERROR", "responseObject": {code, message}}``.

One emulator per test (function-scoped fixtures, started once, not per
example): pytest-asyncio runs each hypothesis example of these ``async def``
properties in the test's event loop, against the same server. Signed and
token requests are made correctly (the counter is read from the server's
database before each signature) so that the random body, not the
authentication, is what reaches the handler.
"""

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from emulator.httpio import MAX_BODY_SIZE
from emulator.testing import RunningEmulator
from mtoken import ecies, protection
from mtoken.app_config import parse_config_string
from mtoken.encoding import b64decode, b64encode
from mtoken.operations import MobileTokenClient
from mtoken.session import PowerAuthSession
from mtoken.signature import (
    SignatureType,
    build_authorization_header,
    compute_online_signature,
    select_factor_keys,
    signature_base_string,
)
from mtoken.state import ActivationState
from mtoken.token import build_token_header, compute_token_digest

from .support import dumps, fuzz, json_trees, mutated_base64

PIN: Final = "2468"
USER_ID: Final = "fuzz-user"
OPS: Final = "/api/auth/token/app/operation"
PA_PATHS: Final = [
    "/pa/v3/keystore/create",
    "/pa/v3/activation/create",
    "/pa/v3/activation/status",
    "/pa/v3/activation/remove",
    "/pa/v3/token/create",
    "/pa/v3/token/remove",
    "/pa/v3/signature/validate",
    "/pa/v3/vault/unlock",
    "/pa/v3/status",
]
TOKEN_PATHS: Final = [
    f"{OPS}/list",
    f"{OPS}/detail",
    f"{OPS}/detail/claim",
    "/api/push/device/register/token",
]
SIGNED_PATHS: Final = {
    f"{OPS}/history": "/operation/history",
    f"{OPS}/authorize": "/operation/authorize",
    f"{OPS}/cancel": "/operation/cancel",
    "/pa/v3/token/create": "/pa/token/create",
    "/pa/v3/token/remove": "/pa/token/remove",
    "/pa/v3/signature/validate": "/pa/signature/validate",
    "/pa/v3/vault/unlock": "/pa/vault/unlock",
}
"""Signed endpoints fuzzed with valid signatures; activation removal would end the run."""
ADMIN_POSTS: Final = [
    "/admin/activation-code",
    "/admin/operations",
    "/admin/verify-offline",
    "/admin/faults",
    "/admin/activations/{activation}/{action}",
    "/admin/operations/{operation}/offline-qr",
]
ADMIN_GETS: Final = [
    "/admin/activations",
    "/admin/operations/{operation}",
    "/admin/operations/{operation}/totp",
]
POWERAUTH_HEADERS: Final = [
    "X-PowerAuth-Authorization",
    "X-PowerAuth-Token",
    "X-PowerAuth-Encryption",
]
REQUEST_KEYS = st.sampled_from(
    [
        "requestObject",
        "id",
        "data",
        "reason",
        "jwt",
        "activationId",
        "challenge",
        "tokenId",
        "platform",
        "token",
        "proximityCheck",
        "otp",
        "type",
        "timestampSent",
        "userId",
        "name",
        "allowedFactors",
        "expiresInSeconds",
        "attributes",
        "texts",
        "title",
        "ui",
        "kind",
        "count",
        "value",
        "signingKey",
        "code",
        "commit",
        "maxFailedAttempts",
        "proximity",
    ]
)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "",
        "application/json; charset=latin-1",
    ]
)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, as received."""

    status: int
    raw: bytes


def check_answer(answer: Answer) -> Any:
    """The properties: no 500; errors in the reference envelope; otherwise JSON."""
    assert answer.status != 500, answer.raw[:300]
    body = json.loads(answer.raw)
    inner = body.get("responseObject") if isinstance(body, dict) else None
    code = inner.get("code") if isinstance(inner, dict) else None
    event(
        f"HTTP {answer.status} {code if isinstance(code, str) else ''}"
    )  # --hypothesis-show-statistics
    if answer.status >= 400:
        assert body["status"] == "ERROR", body
        assert set(body["responseObject"]) == {"code", "message"}, body
        assert isinstance(body["responseObject"]["code"], str)
        assert isinstance(body["responseObject"]["message"], str)
    return body


@dataclass
class Client:
    """Sends raw requests, and signs or tokenises them as the activated device."""

    http: aiohttp.ClientSession
    emu: RunningEmulator
    state: ActivationState
    knowledge_key: bytes

    async def send(
        self, path: str, body: bytes, headers: dict[str, str] | None = None, method: str = "POST"
    ) -> Answer:
        async with self.http.request(
            method, f"{self.emu.url}{path}", data=body, headers=headers or {}
        ) as response:
            return Answer(response.status, await response.read())

    def signature(self, uri_id: str, body: bytes, signature_type: SignatureType) -> str:
        """A valid header over ``body`` with the counter the server expects now."""
        activation = self.emu.emulator.db.get_activation(self.state.activation_id)
        assert activation is not None
        assert activation.ctr_data is not None
        nonce = b64encode(secrets.token_bytes(16))
        data = signature_base_string("POST", uri_id, nonce, body, self.emu.app_secret)
        factor_keys = select_factor_keys(
            signature_type,
            possession=self.state.possession_key,
            knowledge=self.knowledge_key,
            biometry=self.state.biometry_key,
        )
        return build_authorization_header(
            version="3.3",
            activation_id=self.state.activation_id,
            application_key=self.emu.app_key,
            nonce=nonce,
            signature_type=signature_type,
            signature=compute_online_signature(
                factor_keys, activation.ctr_data, data, version="3.3"
            ),
        )

    def token(self) -> str:
        """A fresh valid X-PowerAuth-Token value."""
        assert self.state.token_id is not None
        assert self.state.token_secret is not None
        nonce = secrets.token_bytes(16)
        now = int(time.time() * 1000)
        return build_token_header(
            version="3.3",
            token_id=self.state.token_id,
            token_digest=compute_token_digest(self.state.token_secret, nonce, now, version="3.3"),
            nonce=b64encode(nonce),
            timestamp_ms=now,
        )


@pytest.fixture
async def client(emu: RunningEmulator, http: aiohttp.ClientSession) -> Client:
    """An ACTIVE activation with biometry and a token, and a few operations to aim at."""
    saved: list[dict[str, Any]] = []

    async def persist(data: dict[str, Any]) -> None:
        saved.append(data)

    session = PowerAuthSession(http, emu.url, parse_config_string(emu.app_config), persist=persist)
    code = await emu.admin.create_activation_code(USER_ID)
    await session.server_time()
    await session.create_activation(code["activationCode"], PIN, name="Fuzz", allow_biometry=True)
    await MobileTokenClient(session).list_operations()
    for proximity in (False, True):
        await emu.admin.create_operation(
            userId=USER_ID, name="payment", data="A1*A100CZK", proximity=proximity
        )
    await emu.admin.create_operation(name="login", data="A2")
    state = ActivationState.from_dict(saved[-1])
    pin_key = protection.derive_pin_key(PIN, state.knowledge_salt)
    knowledge = protection.decrypt_knowledge_key(pin_key, state.encrypted_knowledge_key)
    return Client(http, emu, state, knowledge)


def _operation_ids(client: Client) -> list[str]:
    return [op.id for op in client.emu.emulator.db.operations_of(USER_ID)] + ["unknown"]


@st.composite
def request_bodies(draw: st.DrawFn, ids: list[str]) -> bytes:
    """Random bytes, random JSON, request-shaped JSON with real ids, or bodies near the limit."""
    kind = draw(st.sampled_from(["bytes", "json", "shaped", "huge"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return dumps(draw(json_trees(REQUEST_KEYS)))
    if kind == "huge":
        size = draw(
            st.sampled_from(
                [MAX_BODY_SIZE - 2, MAX_BODY_SIZE, MAX_BODY_SIZE + 1, 3 * MAX_BODY_SIZE]
            )
        )
        return b'"' + b"x" * size + b'"'
    request_object = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "id": st.sampled_from(ids) | json_trees(max_leaves=2),
                "data": st.sampled_from(["A1*A100CZK", "A2"]) | json_trees(max_leaves=2),
                "proximityCheck": json_trees(st.sampled_from(["otp", "type", "timestampSent"])),
                "reason": json_trees(max_leaves=2),
                "tokenId": json_trees(max_leaves=2),
                "platform": st.sampled_from(["ios", "android", "fcm"]) | json_trees(max_leaves=2),
                "token": json_trees(max_leaves=2),
                "activationId": json_trees(max_leaves=2),
                "challenge": st.binary(max_size=20).map(b64encode) | json_trees(max_leaves=2),
            },
        )
    )
    outer = draw(st.sampled_from(["requestObject", "other"]))
    return dumps(
        {outer: request_object}
        | draw(st.dictionaries(REQUEST_KEYS, json_trees(max_leaves=3), max_size=2))
    )


@st.composite
def random_headers(draw: st.DrawFn) -> dict[str, str]:
    """Content types, languages and malformed PowerAuth headers."""
    headers = {"Content-Type": draw(content_types)}
    if draw(st.booleans()):
        headers["Accept-Language"] = draw(header_text)
    for name in draw(st.sets(st.sampled_from(POWERAUTH_HEADERS))):
        pairs = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(
                        [
                            "pa_version",
                            "pa_activation_id",
                            "pa_application_key",
                            "pa_nonce",
                            "pa_signature_type",
                            "pa_signature",
                            "token_id",
                            "token_digest",
                            "nonce",
                            "timestamp",
                            "version",
                            "application_key",
                            "activation_id",
                        ]
                    ),
                    header_text,
                ),
                max_size=7,
            )
        )
        prefix = draw(st.sampled_from(["PowerAuth ", "", "Bearer "]))
        headers[name] = prefix + ", ".join(f'{key}="{value}"' for key, value in pairs)
    return headers


@fuzz
@given(data=st.data())
async def test_unauthenticated_random_requests_never_fail_with_500(
    client: Client, data: st.DataObject
) -> None:
    path = data.draw(
        st.sampled_from(PA_PATHS + TOKEN_PATHS + list(SIGNED_PATHS))
        | st.sampled_from(["/pa/v3/", f"{OPS}/"]).flatmap(
            lambda prefix: st.text("abcdefghijklmnopqrstuvwxyz/._-%0", max_size=12).map(
                prefix.__add__
            )
        )
    )
    method = data.draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE"]))
    body = data.draw(request_bodies(_operation_ids(client)))
    check_answer(await client.send(path, body, data.draw(random_headers()), method))


@fuzz
@given(data=st.data())
async def test_correctly_signed_random_bodies_never_fail_with_500(
    client: Client, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(sorted(SIGNED_PATHS)))
    body = data.draw(request_bodies(_operation_ids(client)))
    signature_type = SignatureType(data.draw(st.sampled_from(list(SignatureType))))
    header = client.signature(SIGNED_PATHS[path], body, signature_type)
    headers = {"X-PowerAuth-Authorization": header, "Content-Type": data.draw(content_types)}
    check_answer(await client.send(path, body, headers))


@fuzz
@given(data=st.data())
async def test_random_bodies_with_a_valid_token_never_fail_with_500(
    client: Client, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(TOKEN_PATHS))
    body = data.draw(request_bodies(_operation_ids(client)))
    headers = {"X-PowerAuth-Token": client.token(), "Accept-Language": data.draw(header_text)}
    check_answer(await client.send(path, body, headers))


LAYER1_KEYS = st.sampled_from(
    [
        "type",
        "identityAttributes",
        "code",
        "activationData",
        "customAttributes",
        "devicePublicKey",
        "activationName",
        "platform",
    ]
)


@fuzz
@given(data=st.data())
async def test_mutated_activation_envelopes_never_fail_with_500(
    client: Client, data: st.DataObject
) -> None:
    """Application-scope ECIES 3.2 (no temporary key needed): genuine envelopes, random or
    mutated contents, so the layers behind the MAC are reached too."""
    emu = client.emu
    encryptor = ecies.EciesEncryptor(
        b64decode(emu.master_public_key),
        ecies.SH1_APPLICATION_GENERIC,
        ecies.sh2_base_application(emu.app_secret),
        ecies.associated_data("3.2", emu.app_key, None, None),
        version="3.2",
    )
    layer1 = data.draw(
        json_trees(LAYER1_KEYS)
        | st.fixed_dictionaries(
            {
                "type": st.just("CODE") | json_trees(max_leaves=2),
                "identityAttributes": st.fixed_dictionaries({"code": st.text(max_size=25)})
                | json_trees(LAYER1_KEYS),
                "activationData": json_trees(
                    st.sampled_from(
                        ["ephemeralPublicKey", "encryptedData", "mac", "nonce", "timestamp"]
                    )
                ),
            }
        )
    )
    payload, _ = encryptor.encrypt_request(
        dumps(layer1), timestamp_ms=int(time.time() * 1000), temporary_key_id=None
    )
    if data.draw(st.booleans()):
        field = data.draw(st.sampled_from(sorted(payload)))
        value = payload[field]
        payload[field] = data.draw(
            (mutated_base64(value) if isinstance(value, str) else st.nothing())
            | json_trees(max_leaves=3)
            | st.integers(min_value=-(2**70), max_value=2**70)
        )
    version = data.draw(st.sampled_from(["3.2", "3.2", "3.3", "3.1", "3.0", "9.9", ""]))
    headers = {
        "X-PowerAuth-Encryption": ecies.build_encryption_header("3.2", emu.app_key).replace(
            "3.2", version, 1
        )
    }
    check_answer(await client.send("/pa/v3/activation/create", dumps(payload), headers))


@fuzz
@given(data=st.data())
async def test_admin_random_requests_never_fail_with_500(
    client: Client, data: st.DataObject
) -> None:
    ids = _operation_ids(client)
    template = data.draw(st.sampled_from(ADMIN_POSTS + ADMIN_GETS))
    path = template.format(
        activation=data.draw(
            st.sampled_from([client.state.activation_id, "nobody"]) | st.text("abc-0", max_size=8)
        ),
        action=data.draw(st.sampled_from(["block", "unblock", "commit", "remove", "explode"])),
        operation=data.draw(st.sampled_from(ids) | st.text("abc-0", max_size=8)),
    )
    method = (
        "GET" if template in ADMIN_GETS else data.draw(st.sampled_from(["POST", "POST", "GET"]))
    )
    body = data.draw(request_bodies(ids) | json_trees(REQUEST_KEYS).map(dumps))
    try:
        check_answer(
            await client.send(path, body, {"Content-Type": data.draw(content_types)}, method)
        )
    finally:
        client.emu.emulator.faults.armed.clear()  # an accepted fault must not fail later examples
