"""The one way in: a PowerAuth session that owns the activation and its counter.

Everything that signs goes through ``PowerAuthSession``. It holds a lock for
the whole signed exchange, computes the signature, advances the counter and
hands the new state to the persistence callback *before* the request leaves
(architecture, "One way in"). Holding the lock until the answer arrives also
keeps requests reaching the server in counter order, which the server's
look-ahead window needs.
"""

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Final, Protocol, TypeVar

import aiohttp

from . import ecies, protection
from .activation_code import parse_activation_code, verify_activation_code_signature
from .app_config import AppConfig
from .counter import next_counter, next_ctr_byte
from .e2ee import ActivationScope, Envelope, TemporaryKeys
from .encoding import b64decode, b64encode
from .errors import (
    ActivationBlockedError,
    ActivationRemovedError,
    AuthenticationError,
    BadResponseError,
    CounterAheadError,
    CounterDesyncError,
    InvalidActivationCodeSignatureError,
    InvalidPinError,
    InvalidStateError,
    MobileTokenError,
    NetworkError,
    ServerError,
)
from .factors import Authentication, Factor, check_pin
from .http import Response, Transport, require_dict, require_str, response_object
from .jsonbody import json_bytes, json_object
from .keys import (
    activation_fingerprint,
    generate_private_key,
    public_key_bytes,
)
from .signature import (
    AUTHORIZATION_HEADER,
    SignatureType,
    build_authorization_header,
    compute_offline_signature,
    compute_online_signature,
    offline_signature_data,
    select_factor_keys,
    signature_base_string,
)
from .state import ActivationState, new_activation_state
from .status import (
    DEFAULT_LOOK_AHEAD,
    ActivationStatus,
    CounterSyncAction,
    decrypt_status_blob,
    synchronize_counter,
)
from .timesync import ServerClock
from .token import TOKEN_HEADER, build_token_header, compute_token_digest

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

PROTOCOL_VERSION: Final = "3.3"

PATH_SERVER_STATUS: Final = "/pa/v3/status"
PATH_ACTIVATION_CREATE: Final = "/pa/v3/activation/create"
PATH_ACTIVATION_STATUS: Final = "/pa/v3/activation/status"
PATH_ACTIVATION_REMOVE: Final = "/pa/v3/activation/remove"
PATH_TOKEN_CREATE: Final = "/pa/v3/token/create"
PATH_TOKEN_REMOVE: Final = "/pa/v3/token/remove"
PATH_VAULT_UNLOCK: Final = "/pa/v3/vault/unlock"
PATH_SIGNATURE_VALIDATE: Final = "/pa/v3/signature/validate"

URI_ID_ACTIVATION_REMOVE: Final = "/pa/activation/remove"
URI_ID_TOKEN_CREATE: Final = "/pa/token/create"
URI_ID_TOKEN_REMOVE: Final = "/pa/token/remove"
URI_ID_VAULT_UNLOCK: Final = "/pa/vault/unlock"
URI_ID_SIGNATURE_VALIDATE: Final = "/pa/signature/validate"

REASON_COUNTER_SYNCHRONIZATION: Final = "COUNTER_SYNCHRONIZATION"
#: Half the server's look-ahead window (protocol section 4): signatures the server has
#: not confirmed may not go further before the token resynchronises.
MAX_UNCONFIRMED_STEPS: Final = DEFAULT_LOOK_AHEAD // 2
PLATFORM: Final = "homeassistant"
DEVICE_INFO: Final = "Home Assistant"

_STATUS_NAMES: Final = {
    ActivationStatus.CREATED: "created",
    ActivationStatus.PENDING_COMMIT: "pending_commit",
    ActivationStatus.ACTIVE: "active",
    ActivationStatus.BLOCKED: "blocked",
    ActivationStatus.REMOVED: "removed",
}

Persist = Callable[[dict[str, Any]], Awaitable[None]]
RunBlocking = Callable[[Callable[[], Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class ActivationStatusInfo:
    """What the status blob says about the activation (protocol section 8)."""

    status: str
    failed_attempts: int
    max_failed_attempts: int
    #: The highest protocol generation the server offers this activation (4: upgrade to 4.0).
    upgrade_version: int = 3

    @property
    def remaining_attempts(self) -> int:
        """Wrong PINs left before the server blocks the activation."""
        return max(0, self.max_failed_attempts - self.failed_attempts)


@dataclass(frozen=True, slots=True)
class ActivationResult:
    """The outcome of a new activation, for the user to compare and confirm."""

    activation_id: str
    fingerprint: str
    status: ActivationStatusInfo


async def _to_thread(func: Callable[[], _T]) -> _T:
    return await asyncio.to_thread(func)


class _CountedState(Protocol):
    @property
    def unconfirmed_steps(self) -> int: ...


class _CountingSession(Protocol):
    """What the window rule needs of a session of either protocol."""

    @property
    def state(self) -> _CountedState: ...

    async def fetch_status(self, *, synchronize: bool = True) -> ActivationStatusInfo: ...

    async def validate_signature(self, auth: Authentication) -> None: ...


async def keep_counter_in_window(session: _CountingSession) -> None:
    """Resynchronise before the counter runs past half the server's look-ahead.

    The server finds a signature only within ``look_ahead`` values of its
    own counter (protocol section 4; 4.0 notes, section 11); offline codes and
    requests it never answered move ours without it knowing. Past half the
    window the status is read (adopting or proving the counter) and, if still
    ahead, one possession signature brings the server along. Without the
    server the token refuses to sign rather than become unusable.
    """
    if session.state.unconfirmed_steps < MAX_UNCONFIRMED_STEPS:
        return
    _LOGGER.debug("Signature counter far ahead of the server's; resynchronising")
    try:
        await session.fetch_status()
        if session.state.unconfirmed_steps >= MAX_UNCONFIRMED_STEPS:
            await session.validate_signature(Authentication.possession())
    except AuthenticationError:
        # The server answered and refused: the activation's state says why, not the counter.
        raise
    except (NetworkError, ServerError, BadResponseError) as err:
        raise CounterAheadError(
            "The token signed too often without reaching the server: "
            "connect to the server once, then try again"
        ) from err


class _PersistableState(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


class SessionCore[StateT: _PersistableState]:
    """What the sessions of both protocols share: transport, clock, locks and persisted state.

    The subclasses add their protocol's cryptography; this part keeps the rules
    that must not differ between them (persist before use, no signing once closed,
    the attempts read back after a refused PIN).
    """

    def __init__(
        self,
        client_session: aiohttp.ClientSession,
        base_url: str,
        config: AppConfig,
        *,
        state: StateT | None = None,
        persist: Persist | None = None,
        language: str = "en",
        verify_ssl: bool = True,
        timeout: float = 20.0,
        run_blocking: RunBlocking | None = None,
    ) -> None:
        self.config = config
        self.run_blocking: RunBlocking = run_blocking or _to_thread
        self.transport = Transport(
            client_session,
            base_url,
            language=language,
            verify_ssl=verify_ssl,
            timeout=timeout,
            run_blocking=self.run_blocking,
        )
        self.clock = ServerClock()
        self._state = state
        self._persist = persist
        self._signing_lock = asyncio.Lock()
        self._token_lock = asyncio.Lock()
        self.last_status: ActivationStatusInfo | None = None
        self._closed = False

    @property
    def language(self) -> str:
        """The ``Accept-Language`` sent with every request."""
        return self.transport.language

    @language.setter
    def language(self, value: str) -> None:
        self.transport.language = value

    @property
    def state(self) -> StateT:
        """The activation; raise if there is none."""
        if self._state is None:
            raise InvalidStateError("There is no activation: activate the mobile token first")
        return self._state

    @property
    def has_activation(self) -> bool:
        """True once an activation was created or loaded."""
        return self._state is not None

    async def close(self) -> None:
        """Let the signed exchange in flight finish, then refuse to advance the counter again.

        When its owner reloads, a new session takes over the persisted state; an
        old one still signing would spend counter values behind the new one's
        back, and the server refuses a counter used twice (architecture, "One way in").
        """
        async with self._token_lock, self._signing_lock:
            self._closed = True

    async def save(self, state: StateT | None) -> None:
        """Persist first, then adopt: a state that could not be saved is never used."""
        if self._closed:
            raise InvalidStateError("This session was closed: the activation is used elsewhere")
        if self._persist is not None and state is not None:
            await self._persist(state.to_dict())
        self._state = state

    async def fetch_status(self, *, synchronize: bool = True) -> ActivationStatusInfo:
        """Read the activation status (each protocol decrypts its own blob)."""
        raise NotImplementedError

    async def _explain_auth_failure(self, err: AuthenticationError, auth: Authentication) -> None:
        """After a refused two-factor code, learn the remaining attempts (or the block)."""
        if auth.factor is Factor.POSSESSION:
            return
        try:
            status = await self.fetch_status()
        except MobileTokenError:
            return
        err.remaining_attempts = status.remaining_attempts
        if status.status == "blocked":
            raise ActivationBlockedError(
                "Too many wrong PINs: the bank blocked this mobile token"
            ) from err
        if status.status == "removed":
            raise ActivationRemovedError("The bank removed this mobile token") from err


class PowerAuthSession(SessionCore[ActivationState]):
    """Activation state, counter, temporary keys and token of one mobile token."""

    #: The protocol of the activation (``session4.PowerAuth4Session`` speaks 4.0).
    protocol_version: Final = PROTOCOL_VERSION

    @cached_property
    def _temporary_keys(self) -> TemporaryKeys:
        return TemporaryKeys(self.transport, self.config, self.clock, PROTOCOL_VERSION)

    # -- state -------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        """The 8-digit activation fingerprint the bank shows too."""
        state = self.state
        return activation_fingerprint(
            state.device_public_key, state.activation_id, state.server_public_key
        )

    # -- plain endpoints -----------------------------------------------------

    async def server_time(self) -> int:
        """Ask the server for its time and learn the clock offset from it."""
        body = json_bytes({"requestObject": {"challenge": b64encode(secrets.token_bytes(16))}})
        response = await self.transport.post(PATH_SERVER_STATUS, body)
        payload = require_dict(response_object(response.body), "status")
        server_time = payload.get("serverTime")
        if not isinstance(server_time, int) or isinstance(server_time, bool):
            raise BadResponseError("The server's status lacks its time")
        self.clock.update(server_time, sent_ms=response.sent_ms, received_ms=response.received_ms)
        return server_time

    async def fetch_status(self, *, synchronize: bool = True) -> ActivationStatusInfo:
        """Read the activation status and bring the counter back in line with it.

        ``synchronize=False`` only reads: nothing is signed, the counter stays, for
        a second session that must not spend values the owning one does not know.
        """
        state = self.state
        challenge = secrets.token_bytes(16)
        body = json_bytes(
            {
                "requestObject": {
                    "activationId": state.activation_id,
                    "challenge": b64encode(challenge),
                }
            }
        )
        response = await self.transport.post(PATH_ACTIVATION_STATUS, body)
        payload = require_dict(response_object(response.body), "activation status")
        try:
            encrypted = b64decode(require_str(payload, "encryptedStatusBlob"), length=32)
            nonce = b64decode(require_str(payload, "nonce"), length=16)
        except ValueError as err:
            raise BadResponseError("The server's activation status is malformed") from err
        blob = decrypt_status_blob(state.transport_key, challenge, nonce, encrypted)
        if blob is None:
            info = ActivationStatusInfo("removed", 0, 0)
            self.last_status = info
            return info
        status = blob.activation_status
        if status is None:
            raise BadResponseError("The server's activation status is of an unknown kind")
        info = ActivationStatusInfo(
            _STATUS_NAMES[status],
            blob.failed_attempts,
            blob.max_failed_attempts,
            upgrade_version=blob.upgrade_version,
        )
        self.last_status = info
        if synchronize and status is ActivationStatus.ACTIVE:
            await self._synchronize_counter(blob)
        return info

    async def _synchronize_counter(self, blob: Any) -> None:
        state = self.state
        sync = synchronize_counter(state.ctr_data, state.ctr_byte, blob, state.transport_key)
        if sync.action is CounterSyncAction.UPDATED:
            _LOGGER.debug("Signature counter was behind the server; adopted the server's")
            await self.save(state.with_counter(sync.ctr_data, sync.ctr_byte, unconfirmed_steps=0))
        elif sync.action is CounterSyncAction.OK and blob.ctr_byte is not None:
            # The blob says exactly how far ahead of the server the counter is.
            self._state = replace(state, unconfirmed_steps=max(0, sync.byte_distance))
        elif sync.action is CounterSyncAction.CALCULATE_SIGNATURE:
            _LOGGER.debug("Signature counter is ahead of the server; validating a signature")
            await self.validate_signature(Authentication.possession())
        elif sync.action is CounterSyncAction.INVALID:
            raise CounterDesyncError(
                "The signature counter cannot be brought back in line with the server: "
                "remove the activation and activate again"
            )

    # -- activation ------------------------------------------------------------

    async def create_activation(
        self, code: str, pin: str, *, name: str, allow_biometry: bool = False
    ) -> ActivationResult:
        """Activate with an activation code (type CODE, protocol section 2)."""
        check_pin(pin)
        activation_code = parse_activation_code(code)
        if activation_code.signature is not None and not verify_activation_code_signature(
            self.config.master_public_key, activation_code.code, activation_code.signature
        ):
            raise InvalidActivationCodeSignatureError(
                "The activation code's signature does not match the bank's key: "
                "check the code and the application configuration"
            )
        device_key = await self.run_blocking(generate_private_key)
        device_public = public_key_bytes(device_key, compressed=True)
        layer2 = {
            "devicePublicKey": b64encode(device_public),
            "activationName": name,
            "platform": PLATFORM,
            "deviceInfo": DEVICE_INFO,
        }
        layer2_envelope = await self._envelope(ecies.SH1_ACTIVATION_LAYER2, None)
        layer1_envelope = await self._envelope(ecies.SH1_APPLICATION_GENERIC, None)
        layer1 = {
            "type": "CODE",
            "identityAttributes": {"code": activation_code.code},
            "customAttributes": {},
            "activationData": layer2_envelope.encrypt(json_bytes(layer2)),
        }
        headers = {
            ecies.ENCRYPTION_HEADER: ecies.build_encryption_header(
                PROTOCOL_VERSION, self.config.app_key
            )
        }
        response = await self.transport.post(
            PATH_ACTIVATION_CREATE, json_bytes(layer1_envelope.encrypt(json_bytes(layer1))), headers
        )
        layer1_answer = json_object(layer1_envelope.decrypt(response.body), "activation")
        layer2_answer = json_object(
            layer2_envelope.decrypt(layer1_answer.get("activationData")), "activation data"
        )
        state = await self.run_blocking(
            lambda: new_activation_state(
                device_key, layer2_answer, pin, allow_biometry=allow_biometry
            )
        )
        await self.save(state)
        _LOGGER.debug("Activation created")
        status = await self.fetch_status()
        return ActivationResult(state.activation_id, self.fingerprint, status)

    async def remove_activation(self, auth: Authentication) -> None:
        """Remove the activation on the server (2FA) and forget it here."""
        await self.signed_post(PATH_ACTIVATION_REMOVE, URI_ID_ACTIVATION_REMOVE, {}, auth)
        self._state = None
        self._temporary_keys.clear()

    async def validate_signature(self, auth: Authentication) -> None:
        """Prove a signature to the server; also how a counter ahead is resynchronised."""
        body = {"requestObject": {"reason": REASON_COUNTER_SYNCHRONIZATION}}
        # The resynchronising signature itself may go past the half window (never past it all).
        await self._signed_post(
            PATH_SIGNATURE_VALIDATE, URI_ID_SIGNATURE_VALIDATE, body, auth, check_window=False
        )

    async def unlock_vault(self, auth: Authentication, reason: str) -> bytes:
        """Fetch the vault key (signed and encrypted, protocol section 9)."""
        plaintext = json_bytes({"reason": reason})
        answer = await self._signed_encrypted_post(
            PATH_VAULT_UNLOCK, URI_ID_VAULT_UNLOCK, ecies.SH1_VAULT_UNLOCK, plaintext, auth
        )
        try:
            encrypted = b64decode(require_str(answer, "encryptedVaultEncryptionKey"))
            return protection.decrypt_vault_key(self.state.transport_key, encrypted)
        except ValueError as err:
            raise BadResponseError("The server's vault key is malformed") from err

    # -- signatures ------------------------------------------------------------

    async def signed_post(
        self,
        path: str,
        uri_id: str,
        body: dict[str, Any] | bytes,
        auth: Authentication,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """POST ``body`` signed with ``auth`` (plus ``headers``); return the decoded JSON answer."""
        return await self._signed_post(path, uri_id, body, auth, headers, check_window=True)

    async def _signed_post(
        self,
        path: str,
        uri_id: str,
        body: dict[str, Any] | bytes,
        auth: Authentication,
        headers: dict[str, str] | None = None,
        *,
        check_window: bool,
    ) -> Any:
        raw = body if isinstance(body, bytes) else json_bytes(body)
        if check_window:
            await keep_counter_in_window(self)
        factor_keys = await self._factor_keys(auth)
        try:
            async with self._signing_lock:
                header = await self._sign_and_advance("POST", uri_id, raw, factor_keys, auth)
                response = await self.transport.post(
                    path, raw, {**(headers or {}), AUTHORIZATION_HEADER: header}
                )
                if self._state is not None:
                    # The server accepted the signature: its counter is ours again. Kept in
                    # memory only; the next signature's durable write carries it.
                    self._state = self._state.confirmed()
        except AuthenticationError as err:
            await self._explain_auth_failure(err, auth)
            raise
        return response.body

    async def offline_signature(
        self, auth: Authentication, uri_id: str, data: bytes, nonce_b64: str
    ) -> str:
        """An offline signature (decimal, 8 digits a factor) for a QR operation."""
        await keep_counter_in_window(self)
        factor_keys = await self._factor_keys(auth)
        async with self._signing_lock:
            state = self.state
            signed = offline_signature_data(uri_id, nonce_b64, data)
            signature = compute_offline_signature(factor_keys, state.ctr_data, signed)
            await self._advance_counter()
        return signature

    async def _sign_and_advance(
        self, method: str, uri_id: str, body: bytes, factor_keys: list[bytes], auth: Authentication
    ) -> str:
        state = self.state
        nonce = b64encode(secrets.token_bytes(16))
        data = signature_base_string(method, uri_id, nonce, body, self.config.app_secret)
        signature = compute_online_signature(
            factor_keys, state.ctr_data, data, version=PROTOCOL_VERSION
        )
        await self._advance_counter()
        return build_authorization_header(
            version=PROTOCOL_VERSION,
            activation_id=state.activation_id,
            application_key=self.config.app_key,
            nonce=nonce,
            signature_type=auth.factor.value,
            signature=signature,
        )

    async def _advance_counter(self) -> None:
        state = self.state
        await self.save(
            state.with_counter(
                next_counter(state.ctr_data),
                next_ctr_byte(state.ctr_byte),
                unconfirmed_steps=state.unconfirmed_steps + 1,
            )
        )

    async def _factor_keys(self, auth: Authentication) -> list[bytes]:
        state = self.state
        knowledge = None
        if auth.factor is Factor.POSSESSION_KNOWLEDGE:
            if auth.pin is None:
                raise InvalidPinError("This approval needs the PIN")
            check_pin(auth.pin)
            pin = auth.pin
            knowledge = await self.run_blocking(
                lambda: protection.decrypt_knowledge_key(
                    protection.derive_pin_key(pin, state.knowledge_salt),
                    state.encrypted_knowledge_key,
                )
            )
        if auth.factor is Factor.POSSESSION_BIOMETRY and state.biometry_key is None:
            raise InvalidStateError("Approval without a PIN is not enabled for this activation")
        return select_factor_keys(
            SignatureType(auth.factor.value),
            possession=state.possession_key,
            knowledge=knowledge,
            biometry=state.biometry_key,
        )

    # -- tokens -----------------------------------------------------------------

    async def token_post(self, path: str, body: dict[str, Any]) -> Response:
        """POST with the ``possession_universal`` token; re-create it once if refused."""
        raw = json_bytes(body)
        for attempt in range(2):
            token_id, token_secret = await self._token(renew=attempt > 0)
            nonce = secrets.token_bytes(16)
            timestamp = self.clock.now_ms()
            digest = compute_token_digest(token_secret, nonce, timestamp, version=PROTOCOL_VERSION)
            header = build_token_header(
                version=PROTOCOL_VERSION,
                token_id=token_id,
                token_digest=digest,
                nonce=b64encode(nonce),
                timestamp_ms=timestamp,
            )
            try:
                return await self.transport.post(path, raw, {TOKEN_HEADER: header})
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
        answer = await self._signed_encrypted_post(
            PATH_TOKEN_CREATE,
            URI_ID_TOKEN_CREATE,
            ecies.SH1_TOKEN_CREATE,
            b"{}",
            Authentication.possession(),
        )
        try:
            token_id = require_str(answer, "tokenId")
            token_secret = b64decode(require_str(answer, "tokenSecret"), length=16)
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

    # -- ECIES ------------------------------------------------------------------

    def _activation_scope(self) -> ActivationScope:
        state = self.state
        return ActivationScope(state.activation_id, state.transport_key, state.server_public_key)

    async def _envelope(self, sh1: str, scope: ActivationScope | None) -> Envelope:
        temporary_key = await self._temporary_keys.get(scope)
        return Envelope(self.config, self.clock, temporary_key, sh1, scope, PROTOCOL_VERSION)

    async def _signed_encrypted_post(
        self, path: str, uri_id: str, sh1: str, plaintext: bytes, auth: Authentication
    ) -> dict[str, Any]:
        """Encrypt-then-sign (trap 6): the signature covers the encrypted JSON body."""
        envelope = await self._envelope(sh1, self._activation_scope())
        answer = await self.signed_post(path, uri_id, json_bytes(envelope.encrypt(plaintext)), auth)
        return json_object(envelope.decrypt(answer), "encrypted answer")
