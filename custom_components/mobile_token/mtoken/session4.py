"""The session of a protocol 4.0 activation: the same one way in, with 4.0 cryptography.

It offers what ``PowerAuthSession`` offers (activation, status, signed and
token requests, offline codes, removal) so the Mobile Token client, the
command line and the integration use either without knowing which protocol
an activation speaks; ``protocol_version`` tells. As in 3.3 it holds a lock
for the whole authenticated exchange and persists the advanced counter
before the request leaves (architecture, "One way in").

Sections of the 4.0 notes: temporary keys (7), E2EE (8), activation (9),
authentication codes (10), counter (11), status (12), tokens (13), versions (17).
"""

import logging
import secrets
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Final

from . import auth_code, counter4, e2ee4, keys4, keystore4, shared_secret, status4, token4
from .activation_code import parse_activation_code, verify_activation_code_signature
from .app_config import KEY_ID_MLDSA65, KEY_ID_MLDSA87, KEY_ID_P384, AppConfig
from .encoding import b64decode, b64encode
from .errors import (
    AuthenticationError,
    BadResponseError,
    CounterDesyncError,
    InvalidActivationCodeSignatureError,
    InvalidPinError,
    InvalidStateError,
    MobileTokenError,
    ServerError,
)
from .factors import Authentication, Factor, check_pin
from .http import Response, require_dict, require_str, response_object
from .jsonbody import json_bytes, json_object
from .kdf4 import application_temp_key_mac_key, derive_activation_keys
from .session import (
    DEVICE_INFO,
    PLATFORM,
    ActivationResult,
    ActivationStatusInfo,
    SessionCore,
    keep_counter_in_window,
)
from .signature import AUTHORIZATION_HEADER, SignatureType, signature_base_string
from .state import check_activation_id
from .state4 import ActivationState4, new_activation_state4, unwrap_knowledge_key

_LOGGER = logging.getLogger(__name__)

PROTOCOL_VERSION: Final = "4.0"
PATH_SERVER_STATUS: Final = "/pa/v4/status"
PATH_KEYSTORE_CREATE: Final = "/pa/v4/keystore/create"
PATH_ACTIVATION_CREATE: Final = "/pa/v4/activation/create"
PATH_ACTIVATION_STATUS: Final = "/pa/v4/activation/status"
PATH_ACTIVATION_REMOVE: Final = "/pa/v4/activation/remove"
PATH_TOKEN_CREATE: Final = "/pa/v4/token/create"
PATH_TOKEN_REMOVE: Final = "/pa/v4/token/remove"
PATH_AUTH_VALIDATE: Final = "/pa/v4/auth/validate"
URI_ID_ACTIVATION_REMOVE: Final = "/pa/activation/remove"
URI_ID_TOKEN_CREATE: Final = "/pa/token/create"
URI_ID_TOKEN_REMOVE: Final = "/pa/token/remove"
URI_ID_AUTH_VALIDATE: Final = "/pa/auth/validate"
ENCRYPTION_HEADER: Final = "X-PowerAuth-Encryption"
TEMPORARY_KEY_MARGIN_MS: Final = 10_000
NONCE_SIZE: Final = 16
HTTP_NOT_FOUND: Final = 404
_MLDSA_KEY_IDS: Final = {65: KEY_ID_MLDSA65, 87: KEY_ID_MLDSA87}
_STATUS_NAMES: Final = {
    status4.StatusCode.CREATED: "created",
    status4.StatusCode.PENDING_COMMIT: "pending_commit",
    status4.StatusCode.ACTIVE: "active",
    status4.StatusCode.BLOCKED: "blocked",
    status4.StatusCode.REMOVED: "removed",
}


class ProtocolNotOfferedError(MobileTokenError):
    """The server (or this installation) cannot run protocol 4.0 for this application."""


def master_keys(config: AppConfig, algorithm: shared_secret.Algorithm) -> keys4.PublicKeys | None:
    """The master keys a suite needs from the configuration, or None when one is missing."""
    ecdsa = config.master_key(KEY_ID_P384)
    if ecdsa is None:
        return None
    if algorithm.mldsa_level is None:
        return keys4.PublicKeys(ecdsa)
    mldsa = config.master_key(_MLDSA_KEY_IDS[algorithm.mldsa_level])
    return None if mldsa is None else keys4.PublicKeys(ecdsa, mldsa)


def encryption_header(app_key: str, activation_id: str | None) -> str:
    """``X-PowerAuth-Encryption`` of a 4.0 request."""
    value = f'PowerAuth version="{PROTOCOL_VERSION}", application_key="{app_key}"'
    if activation_id is not None:
        value += f', activation_id="{activation_id}"'
    return value


@dataclass(frozen=True, slots=True)
class _Scope:
    """Which temporary key to use: application scope (no activation) or the activation's."""

    algorithm: shared_secret.Algorithm
    signer: keys4.PublicKeys
    mac_key: bytes
    activation_id: str | None = None
    sh2_key: bytes | None = None


class PowerAuth4Session(SessionCore[ActivationState4]):
    """Activation state, counter, temporary keys and token of one 4.0 mobile token."""

    protocol_version: Final = PROTOCOL_VERSION

    @cached_property
    def _temporary_keys(self) -> dict[str | None, keystore4.TemporaryKey]:
        return {}

    # -- state -------------------------------------------------------------

    @property
    def algorithm(self) -> shared_secret.Algorithm:
        """The activation's 4.0 suite."""
        return shared_secret.Algorithm(self.state.algorithm)

    @property
    def fingerprint(self) -> str:
        """The 8-digit activation fingerprint (4.0: SHA3-256 over suite, keys and id)."""
        state = self.state
        return keys4.activation_fingerprint(
            self.algorithm,
            keys4.PublicKeys(state.device_public_key, state.device_mldsa_key),
            state.activation_id,
            keys4.PublicKeys(state.server_public_key, state.server_mldsa_key),
        )

    # -- discovery -------------------------------------------------------------

    async def server_status(self) -> tuple[int, list[str]]:
        """``/pa/v4/status``: the server time and the suites offered to this application."""
        body = json_bytes({"requestObject": {"applicationKey": self.config.app_key}})
        response = await self.transport.post(PATH_SERVER_STATUS, body)
        payload = require_dict(response_object(response.body), "status")
        server_time = payload.get("serverTime")
        offered = payload.get("supportedAlgorithms")
        if not isinstance(server_time, int) or isinstance(server_time, bool):
            raise BadResponseError("The server's status lacks its time")
        if not isinstance(offered, list):
            offered = []
        self.clock.update(server_time, sent_ms=response.sent_ms, received_ms=response.received_ms)
        return server_time, [item for item in offered if isinstance(item, str)]

    async def server_time(self) -> int:
        """Ask the server for its time and learn the clock offset from it."""
        server_time, _offered = await self.server_status()
        return server_time

    async def choose_algorithm(self) -> shared_secret.Algorithm:
        """The preferred suite the server offers that this installation can run."""
        try:
            _time, offered = await self.server_status()
        except ServerError as err:
            # A server without /pa/v4 (PowerAuth 1.x) answers 404: it speaks 3.3 only.
            # Anything else is a failure of a server that may well speak 4.0.
            if err.http_status != HTTP_NOT_FOUND:
                raise
            raise ProtocolNotOfferedError("The server does not speak protocol 4.0") from err
        usable = [
            name
            for name in offered
            if name in shared_secret.Algorithm.__members__
            and master_keys(self.config, shared_secret.Algorithm(name)) is not None
        ]
        algorithm = shared_secret.choose_algorithm(usable)
        if algorithm is None:
            raise ProtocolNotOfferedError(
                "The server offers no protocol 4.0 suite this installation can use "
                f"(offered: {', '.join(offered) or 'none'})"
            )
        return algorithm

    # -- temporary keys and E2EE ---------------------------------------------

    def application_scope(self, algorithm: shared_secret.Algorithm) -> _Scope:
        """Application-scope temporary keys of ``algorithm``, checked with the master keys."""
        signer = master_keys(self.config, algorithm)
        if signer is None:
            raise ProtocolNotOfferedError("The configuration lacks the 4.0 master keys")
        return _Scope(algorithm, signer, application_temp_key_mac_key(self.config.app_secret_bytes))

    def _activation_scope(self) -> _Scope:
        state = self.state
        return _Scope(
            self.algorithm,
            keys4.PublicKeys(state.server_public_key, state.server_mldsa_key),
            state.mac_temp_key_key,
            state.activation_id,
            state.e2ee_sh2_key,
        )

    async def _temporary_key(self, scope: _Scope) -> keystore4.TemporaryKey:
        cached = self._temporary_keys.get(scope.activation_id)
        if cached and cached.expires_at_ms - TEMPORARY_KEY_MARGIN_MS > self.clock.now_ms():
            return cached
        context = await self.run_blocking(lambda: shared_secret.ClientContext(scope.algorithm))
        challenge = b64encode(secrets.token_bytes(keystore4.CHALLENGE_SIZE))
        claims: dict[str, Any] = {
            keystore4.CLAIM_APPLICATION_KEY: self.config.app_key,
            keystore4.CLAIM_CHALLENGE: challenge,
            keystore4.CLAIM_REQUEST: context.request_json(),
        }
        if scope.activation_id is not None:
            claims[keystore4.CLAIM_ACTIVATION_ID] = scope.activation_id
        jwt = keystore4.build_request_jwt(scope.mac_key, claims)
        response = await self.transport.post(
            PATH_KEYSTORE_CREATE, json_bytes({"requestObject": {"jwt": jwt}})
        )
        answer = require_dict(response_object(response.body), "temporary key")
        try:
            verified = keystore4.verify_response(
                require_str(answer, "jwt"), scope.signer, scope.algorithm
            )
            key_id, exchange, issued, expires = keystore4.read_response(
                verified,
                challenge=challenge,
                app_key=self.config.app_key,
                activation_id=scope.activation_id,
            )
            secret = await self.run_blocking(lambda: context.derive(exchange))
        except ValueError as err:
            raise BadResponseError(f"The server's temporary key is not genuine: {err}") from err
        self.clock.update(issued, sent_ms=response.sent_ms, received_ms=response.received_ms)
        key = keystore4.TemporaryKey(key_id, secret, issued, expires)
        self._temporary_keys[scope.activation_id] = key
        return key

    async def encryptor(self, sh1: str, scope: _Scope) -> e2ee4.ClientEncryptor:
        """An encryptor for one request and its answer, under the scope's temporary key."""
        key = await self._temporary_key(scope)
        if scope.sh2_key is None:
            sh2 = e2ee4.shared_info2_application(self.config.app_secret_bytes)
        else:
            sh2 = e2ee4.shared_info2_activation(scope.sh2_key, self.config.app_secret_bytes)
        context = e2ee4.E2eeContext(
            key.shared_secret, key.key_id, self.config.app_key, sh2, sh1, scope.activation_id
        )
        return e2ee4.ClientEncryptor(context)

    def open_answer(self, encryptor: e2ee4.ClientEncryptor, payload: Any) -> dict[str, Any]:
        """The decrypted JSON object of an encrypted answer; BadResponseError when forged."""
        if not isinstance(payload, dict):
            raise BadResponseError("The server's encrypted answer is not a JSON object")
        try:
            return json_object(encryptor.decrypt_response(payload), "encrypted answer")
        except e2ee4.E2eeError as err:
            raise BadResponseError(f"The server's encrypted answer is not genuine: {err}") from err

    async def _encrypted_post(self, path: str, sh1: str, plaintext: bytes) -> dict[str, Any]:
        """An activation-scope encrypted request without authentication (status)."""
        scope = self._activation_scope()
        encryptor = await self.encryptor(sh1, scope)
        body = json_bytes(encryptor.encrypt_request(plaintext, self.clock.now_ms()))
        headers = {ENCRYPTION_HEADER: encryption_header(self.config.app_key, scope.activation_id)}
        response = await self.transport.post(path, body, headers)
        return self.open_answer(encryptor, response.body)

    # -- activation --------------------------------------------------------------

    async def create_activation(
        self,
        code: str,
        pin: str,
        *,
        name: str,
        allow_biometry: bool = False,
        algorithm: shared_secret.Algorithm | None = None,
    ) -> ActivationResult:
        """Activate with an activation code over 4.0 (notes section 9)."""
        check_pin(pin)
        activation_code = parse_activation_code(code)
        if activation_code.signature is not None and not self._code_signed_by_bank(
            activation_code.code, activation_code.signature
        ):
            raise InvalidActivationCodeSignatureError(
                "The activation code's signature does not match the bank's key: "
                "check the code and the application configuration"
            )
        suite = algorithm or await self.choose_algorithm()
        scope = self.application_scope(suite)
        device = await self.run_blocking(lambda: keys4.SigningKeys.generate(suite))
        exchange = await self.run_blocking(lambda: shared_secret.ClientContext(suite))
        layer2 = {
            "sharedSecretRequest": exchange.request_json(),
            "devicePublicKeys": device.public.to_json(),
            "activationName": name,
            "platform": PLATFORM,
            "deviceInfo": DEVICE_INFO,
        }
        inner = await self.encryptor(e2ee4.SH1_ACTIVATION_LAYER2, scope)
        outer = await self.encryptor(e2ee4.SH1_APPLICATION_GENERIC, scope)
        layer1 = {
            "type": "CODE",
            "identityAttributes": {"code": activation_code.code},
            "customAttributes": {},
            "activationData": inner.encrypt_request(json_bytes(layer2), self.clock.now_ms()),
        }
        headers = {ENCRYPTION_HEADER: encryption_header(self.config.app_key, None)}
        response = await self.transport.post(
            PATH_ACTIVATION_CREATE,
            json_bytes(outer.encrypt_request(json_bytes(layer1), self.clock.now_ms())),
            headers,
        )
        answer = self.open_answer(
            inner, self.open_answer(outer, response.body).get("activationData")
        )
        state = await self.run_blocking(
            lambda: self.new_state(suite, device, exchange, answer, pin, allow_biometry)
        )
        await self.save(state)
        _LOGGER.debug("Activation created with protocol 4.0 (%s)", suite)
        status = await self.fetch_status()
        return ActivationResult(state.activation_id, self.fingerprint, status)

    def _code_signed_by_bank(self, code: str, signature: bytes) -> bool:
        """A signed code's signature: by the P-256 master key where the server has one, else P-384.

        4.0 leaves the signature optional (post-quantum signatures do not fit a
        QR code) and does not say which key makes it; a server that speaks both
        protocols signs codes as in 3.3 (see ``docs/protocol-4.md``).
        """
        if self.config.speaks_v3:
            return verify_activation_code_signature(self.config.master_public_key, code, signature)
        master = self.config.master_key(KEY_ID_P384)
        return master is not None and keys4.ecdsa_verify_der(
            master, code.encode("ascii"), signature
        )

    @staticmethod
    def new_state(
        suite: shared_secret.Algorithm,
        device: keys4.SigningKeys,
        exchange: shared_secret.ClientContext,
        answer: dict[str, Any],
        pin: str,
        allow_biometry: bool,
    ) -> ActivationState4:
        """The state of a 4.0 activation from the server's answer (activation or upgrade)."""
        try:
            server = keys4.PublicKeys.from_json(answer.get("serverPublicKeys"), suite)
            response = shared_secret.SharedSecretResponse.from_json(
                answer.get("sharedSecretResponse")
            )
            secret = exchange.derive(response)
            ctr_data = b64decode(require_str(answer, "ctrData"), length=counter4.CTR_DATA_SIZE)
        except ValueError as err:
            raise BadResponseError(f"The server's activation data is malformed: {err}") from err
        public = device.public
        return new_activation_state4(
            # The id names the caller's storage: only a UUID may.
            activation_id=check_activation_id(require_str(answer, "activationId")),
            algorithm=suite.value,
            device_keys=(public.ecdsa, public.mldsa),
            server_keys=(server.ecdsa, server.mldsa),
            keys=derive_activation_keys(secret),
            ctr_data=ctr_data,
            pin=pin,
            allow_biometry=allow_biometry,
        )

    async def fetch_status(self, *, synchronize: bool = True) -> ActivationStatusInfo:
        """Read the 4.0 status blob (MAC checked) and bring the counter back in line.

        ``synchronize=False`` only reads: nothing is authenticated, the counter stays.
        """
        state = self.state
        answer = await self._encrypted_post(
            PATH_ACTIVATION_STATUS, e2ee4.SH1_ACTIVATION_GENERIC, b"{}"
        )
        try:
            raw = b64decode(require_str(answer, "activationStatus"))
            blob = status4.decode_status_blob(state.mac_status_key, raw)
        except ValueError as err:
            raise BadResponseError(f"The server's activation status is not genuine: {err}") from err
        info = ActivationStatusInfo(
            _STATUS_NAMES[blob.status], blob.fail_count, blob.max_fail_count
        )
        self.last_status = info
        if synchronize and blob.status is status4.StatusCode.ACTIVE:
            await self._synchronize_counter(blob)
        return info

    async def _synchronize_counter(self, blob: status4.StatusBlob) -> None:
        state = self.state
        outcome = counter4.synchronize(
            state.mac_ctr_data_key,
            state.ctr_data,
            state.ctr_byte,
            status_hash=blob.ctr_data_hash,
            status_byte=blob.ctr_byte,
            look_ahead=blob.ctr_look_ahead,
        )
        if outcome.result is counter4.SyncResult.ADOPTED:
            _LOGGER.debug("Counter was behind the server; adopted the server's")
            await self.save(
                state.with_counter(outcome.ctr_data, outcome.ctr_byte, unconfirmed_steps=0)
            )
        elif outcome.result is counter4.SyncResult.IN_SYNC:
            self._state = state.confirmed()
        elif outcome.result is counter4.SyncResult.CLIENT_AHEAD:
            # The blob says exactly how far ahead of the server the counter is.
            self._state = replace(
                state, unconfirmed_steps=counter4.byte_distance(state.ctr_byte, blob.ctr_byte)
            )
        elif outcome.result is counter4.SyncResult.CALCULATE_SOON:
            await self.validate_signature(Authentication.possession())
        elif outcome.result is counter4.SyncResult.INVALID:
            raise CounterDesyncError(
                "The counter cannot be brought back in line with the server: "
                "remove the activation and activate again"
            )

    async def remove_activation(self, auth: Authentication) -> None:
        """Remove the activation on the server (two factors) and forget it here."""
        await self.signed_post(PATH_ACTIVATION_REMOVE, URI_ID_ACTIVATION_REMOVE, {}, auth)
        self._state = None
        self._temporary_keys.clear()

    async def validate_signature(self, auth: Authentication) -> None:
        """Prove a code to the server (``/pa/v4/auth/validate``); also resynchronises."""
        # The resynchronising code itself may go past the half window (never past it all).
        await self._signed_post(
            PATH_AUTH_VALIDATE, URI_ID_AUTH_VALIDATE, {}, auth, check_window=False
        )

    # -- authentication codes -------------------------------------------------

    async def signed_post(
        self, path: str, uri_id: str, body: dict[str, Any] | bytes, auth: Authentication
    ) -> Any:
        """POST ``body`` with a 4.0 authentication code; return the decoded JSON answer."""
        return await self._signed_post(path, uri_id, body, auth, check_window=True)

    async def _signed_post(
        self,
        path: str,
        uri_id: str,
        body: dict[str, Any] | bytes,
        auth: Authentication,
        *,
        check_window: bool,
    ) -> Any:
        raw = body if isinstance(body, bytes) else json_bytes(body)
        if check_window:
            await keep_counter_in_window(self)
        factor_keys = await self._factor_keys(auth)
        try:
            async with self._signing_lock:
                header = await self._code_and_advance("POST", uri_id, raw, factor_keys, auth)
                response = await self.transport.post(path, raw, {AUTHORIZATION_HEADER: header})
                if self._state is not None:
                    # The server accepted the code: its counter is ours again. Kept in
                    # memory only; the next code's durable write carries it.
                    self._state = self._state.confirmed()
        except AuthenticationError as err:
            await self._explain_auth_failure(err, auth)
            raise
        return response.body

    async def offline_signature(
        self, auth: Authentication, uri_id: str, data: bytes, nonce_b64: str
    ) -> str:
        """An offline authentication code (8 digits a factor) for a QR operation."""
        await keep_counter_in_window(self)
        factor_keys = await self._factor_keys(auth)
        async with self._signing_lock:
            signed = signature_base_string("POST", uri_id, nonce_b64, data, "offline")
            code = auth_code.offline_code(factor_keys, self.state.ctr_data, signed)
            await self._advance_counter()
        return code

    async def _code_and_advance(
        self, method: str, uri_id: str, body: bytes, factor_keys: list[bytes], auth: Authentication
    ) -> str:
        state = self.state
        nonce = b64encode(secrets.token_bytes(NONCE_SIZE))
        data = signature_base_string(method, uri_id, nonce, body, self.config.app_secret)
        code = auth_code.online_code(factor_keys, state.ctr_data, data)
        await self._advance_counter()
        return auth_code.AuthorizationHeader(
            activation_id=state.activation_id,
            application_key=self.config.app_key,
            nonce=nonce,
            code_type=SignatureType(auth.factor.value),
            code=code,
        ).to_header()

    async def _advance_counter(self) -> None:
        state = self.state
        await self.save(
            state.with_counter(
                counter4.next_counter(state.ctr_data),
                counter4.next_ctr_byte(state.ctr_byte),
                unconfirmed_steps=state.unconfirmed_steps + 1,
            )
        )

    async def _factor_keys(self, auth: Authentication) -> list[bytes]:
        state = self.state
        if auth.factor is Factor.POSSESSION_KNOWLEDGE:
            if auth.pin is None:
                raise InvalidPinError("This approval needs the PIN")
            check_pin(auth.pin)
            pin = auth.pin
            knowledge = await self.run_blocking(
                lambda: unwrap_knowledge_key(pin, state.knowledge_salt, state.wrapped_knowledge_key)
            )
            return [state.possession_key, knowledge]
        if auth.factor is Factor.POSSESSION_BIOMETRY:
            if state.biometry_key is None:
                raise InvalidStateError("Approval without a PIN is not enabled for this activation")
            return [state.possession_key, state.biometry_key]
        return [state.possession_key]

    # -- tokens -----------------------------------------------------------------

    async def token_post(self, path: str, body: dict[str, Any]) -> Response:
        """POST with the 4.0 MAC token; re-create it once if refused."""
        raw = json_bytes(body)
        for attempt in range(2):
            token_id, token_secret = await self._token(renew=attempt > 0)
            nonce = secrets.token_bytes(token4.TOKEN_NONCE_SIZE)
            timestamp = self.clock.now_ms()
            header = token4.build_token_header(
                token_id=token_id,
                token_digest=token4.compute_token_digest(token_secret, nonce, timestamp),
                nonce=b64encode(nonce),
                timestamp_ms=timestamp,
            )
            try:
                return await self.transport.post(path, raw, {token4.HEADER: header})
            except AuthenticationError:
                if attempt:
                    raise
                _LOGGER.debug("The server refused the token; creating a new one")
        raise AssertionError("unreachable")  # pragma: no cover

    async def _token(self, *, renew: bool) -> tuple[str, bytes]:
        async with self._token_lock:
            state = self.state
            if renew or state.token_id is None or state.token_secret is None:
                await self._create_token()
                state = self.state
            if state.token_id is None or state.token_secret is None:
                raise InvalidStateError("The server did not issue a token")
            return state.token_id, state.token_secret

    async def _create_token(self) -> None:
        """Encrypt-then-authenticate: the code covers the encrypted JSON body."""
        scope = self._activation_scope()
        encryptor = await self.encryptor(e2ee4.SH1_TOKEN_CREATE, scope)
        body = json_bytes(encryptor.encrypt_request(b"{}", self.clock.now_ms()))
        answer = self.open_answer(
            encryptor,
            await self.signed_post(
                PATH_TOKEN_CREATE, URI_ID_TOKEN_CREATE, body, Authentication.possession()
            ),
        )
        try:
            token_id = require_str(answer, "tokenId")
            token_secret = b64decode(require_str(answer, "tokenSecret"))
        except ValueError as err:
            raise BadResponseError("The server's token is malformed") from err
        await self.save(self.state.with_token(token_id, token_secret))

    async def remove_token(self) -> None:
        """Remove the cached token on the server and forget it."""
        state = self.state
        if state.token_id is None:
            return
        body = {"requestObject": {"tokenId": state.token_id}}
        await self.signed_post(
            PATH_TOKEN_REMOVE, URI_ID_TOKEN_REMOVE, body, Authentication.possession()
        )
        await self.save(self.state.with_token(None, None))
