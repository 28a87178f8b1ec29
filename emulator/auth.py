"""Request authentication: PowerAuth signatures and tokens, as the reference verifies them.

Signatures (protocol section 4, reference ``OnlineSignatureServiceBehavior``):
the header is parsed strictly, the type must be one the endpoint allows
(checked before anything is counted), the activation must exist, belong to
the application and be ACTIVE with attempts left; the signature is searched
in the look-ahead window. A match stores the counter one past it and resets
the failed attempts of a non-possession type; a miss counts a failed attempt
for non-possession types only and blocks the activation at the maximum.

Tokens (section 6): a known token of an ACTIVE activation, timestamp within
now − 2 h … now + 30 min, digest verified, nonce never seen before.

Every check runs without awaiting, so two requests never share a counter.
"""

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from mtoken.encoding import b64encode
from mtoken.signature import (
    AuthorizationHeader,
    SignatureFactor,
    SignatureType,
    counter_after_match,
    parse_authorization_header,
    signature_base_string,
)
from mtoken.status import ActivationStatus
from mtoken.token import parse_token_header, verify_token_digest

from .context import Emulator
from .crypto import CounterMatch, find_signature
from .errors import MSG_TOKEN_FAIL, auth_failed
from .records import Activation, TokenRecord

_LOGGER = logging.getLogger(__name__)

ALL_SIGNATURE_TYPES: Final[frozenset[SignatureType]] = frozenset(SignatureType)
#: Types that prove possession of the device (a token needs one, section 6).
POSSESSION_TYPES: Final[frozenset[SignatureType]] = frozenset(
    t for t in SignatureType if SignatureFactor.POSSESSION in t.factors
)
TWO_FACTOR_TYPES: Final[frozenset[SignatureType]] = frozenset(
    {SignatureType.POSSESSION_KNOWLEDGE, SignatureType.POSSESSION_BIOMETRY}
)
#: Token timestamps accepted around the server time (reference defaults).
TOKEN_PAST_WINDOW_MS: Final = 2 * 60 * 60 * 1000
TOKEN_FUTURE_WINDOW_MS: Final = 30 * 60 * 1000


@dataclass(frozen=True)
class SignedBy:
    """A verified signature: who signed, with which factors and protocol version."""

    activation: Activation
    signature_type: SignatureType
    version: str


def _parse_header(value: str | None) -> AuthorizationHeader:
    if not value:
        raise auth_failed("no X-PowerAuth-Authorization header")
    try:
        return parse_authorization_header(value)
    except ValueError as err:
        raise auth_failed(f"bad X-PowerAuth-Authorization header: {err}") from err


def record_failure(emu: Emulator, activation: Activation, signature_type: SignatureType) -> None:
    """Count a failed non-possession attempt and block at the maximum (trap 5)."""
    if signature_type.is_possession_only:
        return
    activation.failed_attempts += 1
    if activation.failed_attempts >= activation.max_failed_attempts:
        activation.status = ActivationStatus.BLOCKED
        _LOGGER.info("activation %s blocked: too many failed attempts", activation.activation_id)
    emu.db.save_activation(activation)


def record_success(emu: Emulator, activation: Activation, match: CounterMatch) -> None:
    """Store the counter one past the match; a non-possession success resets the attempts."""
    assert activation.ctr_data is not None  # noqa: S101 - a match needs a counter
    activation.ctr_data = counter_after_match(activation.ctr_data, match.steps)
    activation.counter += match.steps + 1
    if not match.signature_type.is_possession_only:
        activation.failed_attempts = 0
    emu.db.save_activation(activation)


def usable_activation(emu: Emulator, activation_id: str) -> Activation:
    """An ACTIVE activation with attempts left, or the authentication failure."""
    activation = emu.db.get_activation(activation_id)
    if activation is None:
        raise auth_failed(f"unknown activation {activation_id}")
    if activation.status != ActivationStatus.ACTIVE:
        raise auth_failed(f"activation {activation_id} is not active")
    if activation.failed_attempts >= activation.max_failed_attempts:
        raise auth_failed(f"activation {activation_id} has no attempts left")
    return activation


def verify_signed_request(
    emu: Emulator,
    header_value: str | None,
    *,
    method: str,
    uri_id: str,
    body: bytes,
    allowed: Collection[SignatureType] = ALL_SIGNATURE_TYPES,
) -> SignedBy:
    """Verify ``X-PowerAuth-Authorization`` over the exact body; raise 401 when it fails."""
    header = _parse_header(header_value)
    if header.signature_type not in allowed:
        raise auth_failed(f"signature type {header.signature_type} is not allowed here")
    activation = usable_activation(emu, header.activation_id)
    signature_type = header.signature_type
    if header.application_key != emu.application.app_key:
        record_failure(emu, activation, signature_type)
        raise auth_failed("unknown application key")
    data = signature_base_string(method, uri_id, header.nonce, body, emu.application.app_secret)
    match = find_signature(
        activation, [signature_type], [data], header.signature, version=header.version
    )
    if match is None:
        record_failure(emu, activation, signature_type)
        raise auth_failed(f"{signature_type} signature does not verify")
    record_success(emu, activation, match)
    return SignedBy(activation, signature_type, header.version)


def verify_offline_signature(
    emu: Emulator,
    activation: Activation,
    signature_types: Collection[SignatureType],
    candidates: list[bytes],
    code: str,
) -> CounterMatch | None:
    """Verify an offline code against every candidate data string; count as the server does."""
    types = [
        t
        for t in (SignatureType.POSSESSION_KNOWLEDGE, SignatureType.POSSESSION_BIOMETRY)
        if t in signature_types
    ]
    if not types:
        return None
    match = find_signature(activation, types, candidates, code, version="3.3", offline=True)
    if match is None:
        record_failure(emu, activation, types[0])
        return None
    record_success(emu, activation, match)
    return match


@dataclass(frozen=True)
class TokenAuth:
    """A verified token and its activation."""

    token: TokenRecord
    activation: Activation


def verify_token(emu: Emulator, header_value: str | None) -> TokenAuth:
    """Verify ``X-PowerAuth-Token``; raise 401 POWERAUTH_AUTH_FAIL when it fails."""
    if not header_value:
        raise auth_failed("no X-PowerAuth-Token header", MSG_TOKEN_FAIL)
    try:
        header = parse_token_header(header_value)
    except ValueError as err:
        raise auth_failed(f"bad X-PowerAuth-Token header: {err}", MSG_TOKEN_FAIL) from err
    token = emu.db.get_token(header.token_id)
    if token is None:
        raise auth_failed(f"unknown token {header.token_id}", MSG_TOKEN_FAIL)
    now = emu.now_ms()
    if not now - TOKEN_PAST_WINDOW_MS <= header.timestamp_ms <= now + TOKEN_FUTURE_WINDOW_MS:
        raise auth_failed("token timestamp outside the accepted window", MSG_TOKEN_FAIL)
    nonce = header.nonce_bytes
    if not verify_token_digest(
        token.token_secret, nonce, header.timestamp_ms, header.token_digest, version=header.version
    ):
        raise auth_failed("token digest does not verify", MSG_TOKEN_FAIL)
    replay_key = f"token:{token.token_id}:{b64encode(nonce)}"
    expires = header.timestamp_ms + TOKEN_PAST_WINDOW_MS + TOKEN_FUTURE_WINDOW_MS
    if not emu.db.first_use(replay_key, expires_ms=max(expires, now), now_ms=now):
        raise auth_failed("token nonce replayed", MSG_TOKEN_FAIL)
    activation = emu.db.get_activation(token.activation_id)
    if activation is None or activation.status != ActivationStatus.ACTIVE:
        raise auth_failed("token of an activation that is not active", MSG_TOKEN_FAIL)
    return TokenAuth(token, activation)
