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

from mtoken import auth_code, token4
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
from .crypto4 import PROTOCOL_VERSION_4, counter_after, find_code
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
    if activation.protocol_version == PROTOCOL_VERSION_4:
        activation.ctr_data = counter_after(activation.ctr_data, match.steps)
    else:
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
    upgrade: bool = False,
) -> SignedBy:
    """Verify ``X-PowerAuth-Authorization`` over the exact body; raise 401 when it fails.

    A ``pa_version="4.0"`` header carries a 4.0 authentication code, which only
    a 4.0 activation can compute; a 3.x header only a 3.3 activation, and only
    while the server accepts 3.3.
    """
    if header_value and _header_version(header_value) == auth_code.VERSION:
        return _verify_auth_code(
            emu, header_value, method=method, uri_id=uri_id, body=body, allowed=allowed
        )
    # Upgrade start is the one request a 3.3 code may still make on a 4.0-only server.
    if not emu.speaks_v3 and not upgrade:
        raise auth_failed("protocol 3.3 is not supported by this server")
    header = _parse_header(header_value)
    if header.signature_type not in allowed:
        raise auth_failed(f"signature type {header.signature_type} is not allowed here")
    activation = usable_activation(emu, header.activation_id)
    signature_type = header.signature_type
    if activation.protocol_version == PROTOCOL_VERSION_4:
        raise auth_failed(f"activation {activation.activation_id} needs 4.0 authentication codes")
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


def _header_version(value: str) -> str | None:
    try:
        version: str = auth_code.header_version(value)
    except ValueError:
        return None
    return version


def _verify_auth_code(
    emu: Emulator,
    header_value: str,
    *,
    method: str,
    uri_id: str,
    body: bytes,
    allowed: Collection[SignatureType],
) -> SignedBy:
    """The 4.0 half of :func:`verify_signed_request`."""
    if not emu.speaks_v4:
        raise auth_failed("protocol 4.0 is not supported by this server")
    try:
        header = auth_code.parse_authorization_header(header_value)
    except ValueError as err:
        raise auth_failed(f"bad X-PowerAuth-Authorization header: {err}") from err
    if header.code_type not in allowed:
        raise auth_failed(f"authentication code type {header.code_type} is not allowed here")
    activation = usable_activation(emu, header.activation_id)
    if activation.protocol_version != PROTOCOL_VERSION_4:
        raise auth_failed(f"activation {activation.activation_id} is not a 4.0 activation")
    if header.application_key != emu.application.app_key:
        record_failure(emu, activation, header.code_type)
        raise auth_failed("unknown application key")
    data = signature_base_string(method, uri_id, header.nonce, body, emu.application.app_secret)
    match = find_code(activation, [header.code_type], [data], header.code)
    if match is None:
        record_failure(emu, activation, header.code_type)
        raise auth_failed(f"{header.code_type} authentication code does not verify")
    record_success(emu, activation, match)
    return SignedBy(activation, header.code_type, auth_code.VERSION)


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
    if activation.protocol_version == PROTOCOL_VERSION_4:
        match = find_code(activation, types, candidates, code, offline=True)
    else:
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
    is_v4 = token4.header_version(header_value) == token4.VERSION
    if (is_v4 and not emu.speaks_v4) or (not is_v4 and not emu.speaks_v3):
        raise auth_failed("token of a protocol version this server does not speak", MSG_TOKEN_FAIL)
    try:
        header = (
            token4.parse_token_header(header_value) if is_v4 else parse_token_header(header_value)
        )
    except ValueError as err:
        raise auth_failed(f"bad X-PowerAuth-Token header: {err}", MSG_TOKEN_FAIL) from err
    token = emu.db.get_token(header.token_id)
    if token is None:
        raise auth_failed(f"unknown token {header.token_id}", MSG_TOKEN_FAIL)
    now = emu.now_ms()
    if not now - TOKEN_PAST_WINDOW_MS <= header.timestamp_ms <= now + TOKEN_FUTURE_WINDOW_MS:
        raise auth_failed("token timestamp outside the accepted window", MSG_TOKEN_FAIL)
    nonce = header.nonce_bytes
    if is_v4:
        valid = token4.verify_token_digest(
            token.token_secret, nonce, header.timestamp_ms, header.token_digest
        )
    else:
        valid = verify_token_digest(
            token.token_secret,
            nonce,
            header.timestamp_ms,
            header.token_digest,
            version=header.version,
        )
    if not valid:
        raise auth_failed("token digest does not verify", MSG_TOKEN_FAIL)
    replay_key = f"token:{token.token_id}:{b64encode(nonce)}"
    expires = header.timestamp_ms + TOKEN_PAST_WINDOW_MS + TOKEN_FUTURE_WINDOW_MS
    if not emu.db.first_use(replay_key, expires_ms=max(expires, now), now_ms=now):
        raise auth_failed("token nonce replayed", MSG_TOKEN_FAIL)
    activation = emu.db.get_activation(token.activation_id)
    if activation is None or activation.status != ActivationStatus.ACTIVE:
        raise auth_failed("token of an activation that is not active", MSG_TOKEN_FAIL)
    if (activation.protocol_version == PROTOCOL_VERSION_4) != is_v4:
        raise auth_failed("token header of another protocol than its activation", MSG_TOKEN_FAIL)
    return TokenAuth(token, activation)
