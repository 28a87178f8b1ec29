"""End-to-end encryption of requests: temporary keys and ECIES envelopes (protocol section 7).

Since 3.3 the server's long-term keys only sign; requests are encrypted to a
temporary key fetched from ``/pa/v3/keystore/create`` and reused until close
to its expiry. One envelope serves exactly one request and its response.
"""

import secrets
from collections.abc import Mapping
from typing import Any, Final

from . import ecies, keystore
from .app_config import AppConfig
from .encoding import b64decode, b64encode
from .errors import BadResponseError, InvalidStateError
from .http import Transport, require_dict, require_str, response_object
from .jsonbody import json_bytes
from .timesync import ServerClock

PATH_KEYSTORE_CREATE: Final = "/pa/v3/keystore/create"
# Temporary keys are reused until this close to their expiry.
TEMPORARY_KEY_MARGIN_MS: Final = 10_000
CHALLENGE_SIZE: Final = 18


class ActivationScope:
    """What the activation scope needs besides the application's configuration."""

    def __init__(self, activation_id: str, transport_key: bytes, server_public_key: bytes) -> None:
        self.activation_id = activation_id
        self.transport_key = transport_key
        self.server_public_key = server_public_key


class TemporaryKeys:
    """Fetches, verifies and caches one temporary key per scope."""

    def __init__(
        self, transport: Transport, config: AppConfig, clock: ServerClock, version: str
    ) -> None:
        self._transport = transport
        self._config = config
        self._clock = clock
        self._version = version
        self._cache: dict[str | None, keystore.TemporaryKey] = {}

    def clear(self) -> None:
        """Forget every cached key (after the activation went away)."""
        self._cache.clear()

    async def get(self, scope: ActivationScope | None) -> keystore.TemporaryKey:
        """A usable key of the scope (application scope when ``scope`` is None)."""
        activation_id = scope.activation_id if scope else None
        cached = self._cache.get(activation_id)
        if cached and cached.expires_at_ms - TEMPORARY_KEY_MARGIN_MS > self._clock.now_ms():
            return cached
        app_secret_raw = b64decode(self._config.app_secret)
        if scope is None:
            jwt_key = keystore.application_jwt_key(app_secret_raw)
            signer = self._config.master_public_key
        else:
            jwt_key = keystore.activation_jwt_key(scope.transport_key, app_secret_raw)
            signer = scope.server_public_key
        challenge = b64encode(secrets.token_bytes(CHALLENGE_SIZE))
        jwt = keystore.build_request_jwt(self._config.app_key, jwt_key, activation_id, challenge)
        response = await self._transport.post(
            PATH_KEYSTORE_CREATE, json_bytes({"requestObject": {"jwt": jwt}})
        )
        answer = require_dict(response_object(response.body), "temporary key")
        key = keystore.verify_response_jwt(
            require_str(answer, "jwt"),
            signer,
            challenge=challenge,
            app_key=self._config.app_key,
            activation_id=activation_id,
        )
        # The JWT's issue time is the freshest reading of the server's clock we get.
        self._clock.update(
            key.issued_at_ms, sent_ms=response.sent_ms, received_ms=response.received_ms
        )
        self._cache[activation_id] = key
        return key


class Envelope:
    """One ECIES request/response pair to a temporary key."""

    def __init__(
        self,
        config: AppConfig,
        clock: ServerClock,
        temporary_key: keystore.TemporaryKey,
        sh1: str,
        scope: ActivationScope | None,
        version: str,
    ) -> None:
        if scope is None:
            sh2_base = ecies.sh2_base_application(config.app_secret)
        else:
            sh2_base = ecies.sh2_base_activation(scope.transport_key, config.app_secret)
        associated = ecies.associated_data(
            version, config.app_key, scope.activation_id if scope else None, temporary_key.key_id
        )
        self._encryptor = ecies.EciesEncryptor(
            temporary_key.public_key, sh1, sh2_base, associated, version=version
        )
        self._key_id = temporary_key.key_id
        self._clock = clock
        self._decryptor: ecies.EciesResponseDecryptor | None = None

    def encrypt(self, plaintext: bytes) -> dict[str, Any]:
        """The request cryptogram, stamped with the server's time."""
        payload, self._decryptor = self._encryptor.encrypt_request(
            plaintext, timestamp_ms=self._clock.now_ms(), temporary_key_id=self._key_id
        )
        return payload

    def decrypt(self, payload: Any) -> bytes:
        """The plaintext of the server's answer to this envelope's request."""
        if self._decryptor is None:
            raise InvalidStateError("No request was encrypted in this envelope")
        if not isinstance(payload, Mapping):
            raise BadResponseError("The server's encrypted answer is not a JSON object")
        return self._decryptor.decrypt_response(payload)
