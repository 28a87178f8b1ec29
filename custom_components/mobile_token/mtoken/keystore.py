"""Temporary ECIES keys (protocol 3.3), fetched with a pair of JWTs.

Protocol notes section 7 ("Temporary keys"): the client asks
``/pa/v3/keystore/create`` with an HS256 JWT keyed by the raw app secret
(application scope) or ``KDF_INTERNAL(KEY_TRANSPORT, raw app secret)``
(activation scope); the server answers with an ES256 JWT (raw ``r||s``)
signed by the master key or the activation's server key, carrying the
temporary public key. The client verifies signature, challenge, app key and
activation id before it encrypts anything to that key.
"""

import hmac
import json
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec

from .encoding import b64decode, b64url_decode, b64url_encode
from .errors import BadResponseError
from .kdf import hmac_sha256, kdf_internal
from .keys import ecdsa_sign_raw, ecdsa_verify_raw, load_public_key

#: The request JWT header, literally as the mobile SDK sends it.
REQUEST_JWT_HEADER: Final = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
RESPONSE_JWT_HEADER: Final = b64url_encode(b'{"alg":"ES256","typ":"JWT"}')
ALG_HS256: Final = "HS256"
ALG_ES256: Final = "ES256"
CHALLENGE_SIZE: Final = 18
#: How long a temporary key is valid, and how early to stop reusing it.
TEMPORARY_KEY_LIFETIME_MS: Final = 5 * 60 * 1000
TEMPORARY_KEY_RENEW_MARGIN_MS: Final = 10 * 1000

CLAIM_KEY_ID: Final = "sub"
CLAIM_APPLICATION_KEY: Final = "applicationKey"
CLAIM_ACTIVATION_ID: Final = "activationId"
CLAIM_CHALLENGE: Final = "challenge"
CLAIM_PUBLIC_KEY: Final = "publicKey"
CLAIM_IAT: Final = "iat"
CLAIM_EXP: Final = "exp"
CLAIM_IAT_MS: Final = "iat_ms"
CLAIM_EXP_MS: Final = "exp_ms"

_SEGMENTS: Final = 3
_MS_PER_SECOND: Final = 1000


@dataclass(frozen=True, slots=True)
class TemporaryKey:
    """A server's temporary ECIES public key and its validity window."""

    key_id: str
    public_key: bytes
    issued_at_ms: int
    expires_at_ms: int

    def usable_at(self, now_ms: int) -> bool:
        """Tell whether the key may still be used (renewed 10 s before expiry)."""
        return now_ms < self.expires_at_ms - TEMPORARY_KEY_RENEW_MARGIN_MS


def application_jwt_key(app_secret_raw: bytes) -> bytes:
    """HS256 key of application-scope requests: the raw app secret."""
    return app_secret_raw


def activation_jwt_key(transport_key: bytes, app_secret_raw: bytes) -> bytes:
    """HS256 key of activation-scope requests: ``KDF_INTERNAL(transport, raw secret)``."""
    return kdf_internal(transport_key, app_secret_raw)


def _encode_claims(claims: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))


def build_request_jwt(
    app_key: str, hs256_key: bytes, activation_id: str | None, challenge: str
) -> str:
    """Build the client's HS256 JWT asking for a temporary key."""
    claims: dict[str, Any] = {CLAIM_APPLICATION_KEY: app_key}
    if activation_id is not None:
        claims[CLAIM_ACTIVATION_ID] = activation_id
    claims[CLAIM_CHALLENGE] = challenge
    signing_input = f"{REQUEST_JWT_HEADER}.{_encode_claims(claims)}"
    signature = hmac_sha256(hs256_key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _split(jwt: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, claims, signing input and signature; ValueError if not a JWT."""
    parts = jwt.split(".")
    if len(parts) != _SEGMENTS:
        raise ValueError("a JWT has three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise ValueError("the JWT header or claims are not Base64url JSON") from err
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("the JWT header and claims must be JSON objects")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
    return header, claims, signing_input, b64url_decode(parts[2])


def peek_jwt_claims(jwt: str) -> dict[str, Any]:
    """Return the unverified claims, so a server can pick the key to verify with."""
    return _split(jwt)[1]


def verify_request_jwt(jwt: str, hs256_key: bytes) -> dict[str, Any]:
    """Server side: check the HS256 signature; return the claims or raise ValueError."""
    header, claims, signing_input, signature = _split(jwt)
    if header.get("alg") != ALG_HS256:
        raise ValueError("the request JWT is not HS256")
    if not hmac.compare_digest(hmac_sha256(hs256_key, signing_input), signature):
        raise ValueError("the request JWT signature does not verify")
    return claims


def sign_response_jwt(private_key: ec.EllipticCurvePrivateKey, claims: dict[str, Any]) -> str:
    """Server side: sign an ES256 JWT (raw ``r||s``) over the given claims."""
    signing_input = f"{RESPONSE_JWT_HEADER}.{_encode_claims(claims)}"
    signature = ecdsa_sign_raw(private_key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _timestamp_ms(claims: dict[str, Any], ms_claim: str, seconds_claim: str) -> int:
    value = claims.get(ms_claim)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    seconds = claims.get(seconds_claim)
    if isinstance(seconds, int) and not isinstance(seconds, bool):
        return seconds * _MS_PER_SECOND
    raise ValueError(f"the JWT has no {ms_claim} or {seconds_claim}")


def _require_claim(claims: dict[str, Any], name: str, expected: str | None) -> None:
    if claims.get(name) != expected:
        raise ValueError(f"the JWT claim {name} does not match the request")


def _temporary_key_from(
    claims: dict[str, Any], *, challenge: str, app_key: str, activation_id: str | None
) -> TemporaryKey:
    _require_claim(claims, CLAIM_CHALLENGE, challenge)
    _require_claim(claims, CLAIM_APPLICATION_KEY, app_key)
    _require_claim(claims, CLAIM_ACTIVATION_ID, activation_id)
    key_id = claims.get(CLAIM_KEY_ID)
    if not isinstance(key_id, str) or not key_id:
        raise ValueError("the JWT has no key id (sub)")
    public_key_text = claims.get(CLAIM_PUBLIC_KEY)
    if not isinstance(public_key_text, str):
        raise ValueError("the JWT has no publicKey")
    public_key = b64decode(public_key_text)
    load_public_key(public_key)
    return TemporaryKey(
        key_id=key_id,
        public_key=public_key,
        issued_at_ms=_timestamp_ms(claims, CLAIM_IAT_MS, CLAIM_IAT),
        expires_at_ms=_timestamp_ms(claims, CLAIM_EXP_MS, CLAIM_EXP),
    )


def verify_response_jwt(
    jwt: str,
    signer_public_key: bytes,
    *,
    challenge: str,
    app_key: str,
    activation_id: str | None,
) -> TemporaryKey:
    """Client side: verify the server's ES256 JWT and return the temporary key.

    Raise BadResponseError when the signature, the echoed challenge, app key
    or activation id, or the key itself is wrong.
    """
    try:
        header, claims, signing_input, signature = _split(jwt)
        if header.get("alg") != ALG_ES256:
            raise ValueError("the response JWT is not ES256")
        if not ecdsa_verify_raw(load_public_key(signer_public_key), signing_input, signature):
            raise ValueError("the response JWT signature does not verify")
        return _temporary_key_from(
            claims, challenge=challenge, app_key=app_key, activation_id=activation_id
        )
    except ValueError as err:
        raise BadResponseError(f"The temporary key from the server is not valid: {err}") from err
