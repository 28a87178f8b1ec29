"""A raw PowerAuth / Mobile Token client for the emulator's tests, built on the primitives only.

It builds every request by hand (JWTs, ECIES envelopes, signature and token
headers) so tests can also send what a well-behaved client never would: a
wrong factor, a replayed nonce, a stale timestamp, a tampered MAC.
"""

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from mtoken.counter import next_counter
from mtoken.ecies import (
    ENCRYPTION_HEADER,
    SH1_ACTIVATION_LAYER2,
    SH1_APPLICATION_GENERIC,
    SH1_TOKEN_CREATE,
    EciesEncryptor,
    EciesResponseDecryptor,
    associated_data,
    build_encryption_header,
    sh2_base_activation,
    sh2_base_application,
)
from mtoken.encoding import b64decode, b64encode
from mtoken.kdf import DerivedKeys, derive_keys
from mtoken.keys import generate_private_key, load_public_key, master_secret, public_key_bytes
from mtoken.keystore import (
    activation_jwt_key,
    application_jwt_key,
    build_request_jwt,
    verify_response_jwt,
)
from mtoken.signature import (
    AUTHORIZATION_HEADER,
    SignatureType,
    build_authorization_header,
    compute_online_signature,
    select_factor_keys,
    signature_base_string,
)
from mtoken.status import StatusBlob, decrypt_status_blob
from mtoken.token import TOKEN_HEADER, build_token_header, compute_token_digest

VERSION = "3.3"
PATH_KEYSTORE = "/pa/v3/keystore/create"
PATH_ACTIVATION_CREATE = "/pa/v3/activation/create"
PATH_STATUS = "/pa/v3/activation/status"
PATH_TOKEN_CREATE = "/pa/v3/token/create"
URI_TOKEN_CREATE = "/pa/token/create"
PATH_LIST = "/api/auth/token/app/operation/list"
PATH_DETAIL = "/api/auth/token/app/operation/detail"
PATH_CLAIM = "/api/auth/token/app/operation/detail/claim"
PATH_HISTORY = "/api/auth/token/app/operation/history"
PATH_AUTHORIZE = "/api/auth/token/app/operation/authorize"
PATH_CANCEL = "/api/auth/token/app/operation/cancel"
URI_HISTORY = "/operation/history"
URI_AUTHORIZE = "/operation/authorize"
URI_CANCEL = "/operation/cancel"


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Reply:
    status: int
    body: Any
    raw: bytes

    @property
    def code(self) -> str | None:
        obj = self.body.get("responseObject") if isinstance(self.body, dict) else None
        return obj.get("code") if isinstance(obj, dict) else None

    @property
    def response_object(self) -> Any:
        assert isinstance(self.body, dict), self.raw
        return self.body.get("responseObject")


@dataclass
class Device:
    """An activation as the device holds it."""

    activation_id: str
    server_public_key: bytes
    keys: DerivedKeys
    ctr_data: bytes
    ctr_byte: int = 0
    token_id: str | None = None
    token_secret: bytes | None = None

    def factor_keys(self, signature_type: SignatureType) -> list[bytes]:
        return select_factor_keys(
            signature_type,
            possession=self.keys.possession,
            knowledge=self.keys.knowledge,
            biometry=self.keys.biometry,
        )


@dataclass
class RawClient:
    http: aiohttp.ClientSession
    url: str
    app_key: str
    app_secret: str
    master_public_key: bytes
    language: str = "en"
    offset_ms: int = 0
    last_temporary_key_id: str | None = field(default=None, init=False)

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    async def post(
        self, path: str, body: bytes | Any = b"{}", headers: dict[str, str] | None = None
    ) -> Reply:
        raw_body = body if isinstance(body, bytes) else dumps(body)
        all_headers = {"Content-Type": "application/json", "Accept-Language": self.language}
        all_headers.update(headers or {})
        async with self.http.post(f"{self.url}{path}", data=raw_body, headers=all_headers) as resp:
            raw = await resp.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return Reply(resp.status, parsed, raw)

    # -- temporary keys and ECIES ------------------------------------------------------

    async def temporary_key(self, device: Device | None = None) -> tuple[str, bytes]:
        secret = b64decode(self.app_secret)
        if device is None:
            hs_key, signer, activation_id = (
                application_jwt_key(secret),
                self.master_public_key,
                None,
            )
        else:
            hs_key = activation_jwt_key(device.keys.transport, secret)
            signer, activation_id = device.server_public_key, device.activation_id
        challenge = b64encode(secrets.token_bytes(18))
        jwt = build_request_jwt(self.app_key, hs_key, activation_id, challenge)
        reply = await self.post(PATH_KEYSTORE, {"requestObject": {"jwt": jwt}})
        assert reply.status == 200, reply.raw
        key = verify_response_jwt(
            reply.response_object["jwt"],
            signer,
            challenge=challenge,
            app_key=self.app_key,
            activation_id=activation_id,
        )
        self.last_temporary_key_id = key.key_id
        return key.key_id, key.public_key

    async def encrypt(
        self,
        sh1: str,
        plaintext: bytes,
        device: Device | None = None,
        *,
        version: str = VERSION,
        timestamp_ms: int | None = None,
    ) -> tuple[dict[str, Any], EciesResponseDecryptor]:
        """An ECIES request in application scope, or activation scope with ``device``."""
        key_id: str | None = None
        if version == "3.3":
            key_id, recipient = await self.temporary_key(device)
        elif device is None:
            recipient = self.master_public_key
        else:
            recipient = device.server_public_key
        if device is None:
            sh2_base = sh2_base_application(self.app_secret)
            ad = associated_data(version, self.app_key, None, key_id)
        else:
            sh2_base = sh2_base_activation(device.keys.transport, self.app_secret)
            ad = associated_data(version, self.app_key, device.activation_id, key_id)
        encryptor = EciesEncryptor(recipient, sh1, sh2_base, ad, version=version)
        stamp = timestamp_ms if timestamp_ms is not None else self.now_ms()
        return encryptor.encrypt_request(plaintext, timestamp_ms=stamp, temporary_key_id=key_id)

    # -- activation ---------------------------------------------------------------------

    async def activation_request(
        self, code: str, *, version: str = VERSION, device_key: Any = None
    ) -> tuple[dict[str, Any], Any, Any, Any]:
        device_private = device_key or generate_private_key()
        layer2 = {
            "devicePublicKey": b64encode(public_key_bytes(device_private, compressed=True)),
            "activationName": "Raw client",
            "platform": "unknown",
            "deviceInfo": "tests",
        }
        l2_payload, l2_decryptor = await self.encrypt(
            SH1_ACTIVATION_LAYER2, dumps(layer2), version=version
        )
        layer1 = {
            "type": "CODE",
            "identityAttributes": {"code": code},
            "activationData": l2_payload,
        }
        l1_payload, l1_decryptor = await self.encrypt(
            SH1_APPLICATION_GENERIC, dumps(layer1), version=version
        )
        return l1_payload, l1_decryptor, l2_decryptor, device_private

    def encryption_header(self, version: str = VERSION) -> dict[str, str]:
        return {ENCRYPTION_HEADER: build_encryption_header(version, self.app_key)}

    async def activate(self, code: str, *, version: str = VERSION) -> Device:
        payload, l1_decryptor, l2_decryptor, device_private = await self.activation_request(
            code, version=version
        )
        reply = await self.post(PATH_ACTIVATION_CREATE, payload, self.encryption_header(version))
        assert reply.status == 200, reply.raw
        layer1 = json.loads(l1_decryptor.decrypt_response(reply.body))
        layer2 = json.loads(l2_decryptor.decrypt_response(layer1["activationData"]))
        server_public = b64decode(layer2["serverPublicKey"])
        secret = master_secret(device_private, load_public_key(server_public))
        return Device(
            activation_id=layer2["activationId"],
            server_public_key=server_public,
            keys=derive_keys(secret),
            ctr_data=b64decode(layer2["ctrData"], length=16),
        )

    # -- signatures and tokens ----------------------------------------------------------

    def signature_header(
        self,
        device: Device,
        uri_id: str,
        body: bytes,
        signature_type: SignatureType = SignatureType.POSSESSION_KNOWLEDGE,
        *,
        version: str = VERSION,
        nonce: str | None = None,
        keys: list[bytes] | None = None,
        method: str = "POST",
        app_key: str | None = None,
    ) -> dict[str, str]:
        """Sign with the current counter and advance it, as a client must."""
        nonce = nonce or b64encode(secrets.token_bytes(16))
        data = signature_base_string(method, uri_id, nonce, body, self.app_secret)
        factor_keys = keys or device.factor_keys(signature_type)
        signature = compute_online_signature(factor_keys, device.ctr_data, data, version=version)
        device.ctr_data = next_counter(device.ctr_data)
        device.ctr_byte = (device.ctr_byte + 1) % 256
        header = build_authorization_header(
            version=version,
            activation_id=device.activation_id,
            application_key=app_key or self.app_key,
            nonce=nonce,
            signature_type=signature_type,
            signature=signature,
        )
        return {AUTHORIZATION_HEADER: header}

    async def signed_post(
        self,
        device: Device,
        path: str,
        uri_id: str,
        body: Any = None,
        signature_type: SignatureType = SignatureType.POSSESSION_KNOWLEDGE,
        **options: Any,
    ) -> Reply:
        raw = body if isinstance(body, bytes) else dumps({} if body is None else body)
        return await self.post(
            path, raw, self.signature_header(device, uri_id, raw, signature_type, **options)
        )

    async def create_token(
        self, device: Device, signature_type: SignatureType = SignatureType.POSSESSION
    ) -> Reply:
        payload, decryptor = await self.encrypt(SH1_TOKEN_CREATE, b"{}", device)
        reply = await self.signed_post(
            device, PATH_TOKEN_CREATE, URI_TOKEN_CREATE, payload, signature_type
        )
        if reply.status == 200:
            answer = json.loads(decryptor.decrypt_response(reply.body))
            device.token_id = answer["tokenId"]
            device.token_secret = b64decode(answer["tokenSecret"], length=16)
        return reply

    def token_header(
        self, device: Device, *, timestamp_ms: int | None = None, nonce: bytes | None = None
    ) -> dict[str, str]:
        assert device.token_id is not None
        assert device.token_secret is not None
        nonce = nonce or secrets.token_bytes(16)
        stamp = timestamp_ms if timestamp_ms is not None else self.now_ms()
        digest = compute_token_digest(device.token_secret, nonce, stamp, version=VERSION)
        header = build_token_header(
            version=VERSION,
            token_id=device.token_id,
            token_digest=digest,
            nonce=b64encode(nonce),
            timestamp_ms=stamp,
        )
        return {TOKEN_HEADER: header}

    async def token_post(
        self, device: Device, path: str, body: Any = None, **options: Any
    ) -> Reply:
        if device.token_id is None:
            created = await self.create_token(device)
            assert created.status == 200, created.raw
        return await self.post(
            path, {} if body is None else body, self.token_header(device, **options)
        )

    async def status(self, device: Device) -> StatusBlob | None:
        challenge = secrets.token_bytes(16)
        reply = await self.post(
            PATH_STATUS,
            {
                "requestObject": {
                    "activationId": device.activation_id,
                    "challenge": b64encode(challenge),
                }
            },
        )
        assert reply.status == 200, reply.raw
        obj = reply.response_object
        return decrypt_status_blob(
            device.keys.transport,
            challenge,
            b64decode(obj["nonce"]),
            b64decode(obj["encryptedStatusBlob"]),
        )
