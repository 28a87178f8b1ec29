"""Temporary keys of protocol 4.0: a shared-secret exchange inside a pair of JWTs.

Protocol 4.0 notes, section 7 (``POST /pa/v4/keystore/create``). The client's
request JWT (HS384, keyed by ``KEY_MAC_GET_APP_TEMP_KEY`` or
``KEY_MAC_GET_ACT_TEMP_KEY``) carries a challenge and a ``sharedSecretRequest``;
the server answers with a JWS signed by its master keys (application scope)
or the activation's server keys (activation scope), carrying the key id, its
validity and the ``sharedSecretResponse``. The result is
``KEY_TEMPORARY_SHARED_SECRET``, the E2EE key of that scope.

The documents leave the answer's container open. Here it is the JWS JSON
general serialisation, one ``ES384`` signature (raw ``r || s``) and, in the
hybrid suites, one ``ML-DSA-65``/``ML-DSA-87`` signature over the same
signing input; a compact ``ES384`` JWT is accepted for ``EC_P384`` (see
``docs/protocol-4.md``).
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec

from . import pq
from .encoding import b64url_decode, b64url_encode
from .keys4 import PublicKeys, ecdsa_sign_raw, ecdsa_verify_raw
from .shared_secret import Algorithm, SharedSecretResponse

ALG_HS384: Final = "HS384"
ALG_ES384: Final = "ES384"
REQUEST_HEADER: Final = b64url_encode(b'{"alg":"HS384","typ":"JWT"}')
CHALLENGE_SIZE: Final = 18
LIFETIME_MS: Final = 5 * 60 * 1000

CLAIM_KEY_ID: Final = "sub"
CLAIM_APPLICATION_KEY: Final = "applicationKey"
CLAIM_ACTIVATION_ID: Final = "activationId"
CLAIM_CHALLENGE: Final = "challenge"
CLAIM_REQUEST: Final = "sharedSecretRequest"
CLAIM_RESPONSE: Final = "sharedSecretResponse"
CLAIM_IAT_MS: Final = "iat_ms"
CLAIM_EXP_MS: Final = "exp_ms"


class KeystoreError(ValueError):
    """A temporary-key JWT is malformed, forged or answers another request."""


def _encode(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _decode(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (ValueError, UnicodeDecodeError) as err:
        raise KeystoreError("a JWT segment is not Base64url JSON") from err
    if not isinstance(value, dict):
        raise KeystoreError("a JWT segment is not a JSON object")
    return value


def _hs384(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha384).digest()


def build_request_jwt(mac_key: bytes, claims: dict[str, Any]) -> str:
    """The client's compact HS384 JWT."""
    signing_input = f"{REQUEST_HEADER}.{_encode(claims)}"
    return f"{signing_input}.{b64url_encode(_hs384(mac_key, signing_input.encode('ascii')))}"


def request_claims(jwt: str) -> dict[str, Any]:
    """Server side: the claims, read before the key to check them is known."""
    parts = jwt.split(".")
    if len(parts) != 3:
        raise KeystoreError("the request is not a compact JWT")
    return _decode(parts[1])


def verify_request_jwt(jwt: str, mac_key: bytes) -> dict[str, Any]:
    """Server side: check the HS384 MAC and return the claims."""
    parts = jwt.split(".")
    if len(parts) != 3 or _decode(parts[0]).get("alg") != ALG_HS384:
        raise KeystoreError("the request is not an HS384 JWT")
    expected = _hs384(mac_key, f"{parts[0]}.{parts[1]}".encode("ascii"))
    if not hmac.compare_digest(expected, b64url_decode(parts[2])):
        raise KeystoreError("the request JWT's MAC does not match")
    return _decode(parts[1])


def sign_response(
    ecdsa_key: ec.EllipticCurvePrivateKey,
    mldsa_key: Any,
    algorithm: Algorithm,
    claims: dict[str, Any],
) -> str:
    """Server side: the JWS JSON (general) answer with every signature the suite needs."""
    payload = _encode(claims)
    signatures = []
    algs = [ALG_ES384] + ([f"ML-DSA-{algorithm.mldsa_level}"] if algorithm.mldsa_level else [])
    for alg in algs:
        protected = _encode({"alg": alg})
        signing_input = f"{protected}.{payload}".encode("ascii")
        if alg == ALG_ES384:
            signature = ecdsa_sign_raw(ecdsa_key, signing_input)
        else:
            signature = pq.mldsa_sign(mldsa_key, signing_input)
        signatures.append({"protected": protected, "signature": b64url_encode(signature)})
    return json.dumps({"payload": payload, "signatures": signatures}, separators=(",", ":"))


def _signatures(jws: str) -> tuple[str, dict[str, tuple[str, bytes]]]:
    """The payload segment and ``alg -> (protected, signature)``."""
    if jws.lstrip().startswith("{"):
        try:
            document = json.loads(jws)
            payload = document["payload"]
            entries = [(item["protected"], item["signature"]) for item in document["signatures"]]
        except (ValueError, KeyError, TypeError) as err:
            raise KeystoreError("the answer is not a JWS in JSON form") from err
    else:
        parts = jws.split(".")
        if len(parts) != 3:
            raise KeystoreError("the answer is not a JWS")
        payload, entries = parts[1], [(parts[0], parts[2])]
    if not isinstance(payload, str):
        raise KeystoreError("the JWS payload is not text")
    found: dict[str, tuple[str, bytes]] = {}
    for protected, signature in entries:
        if not isinstance(protected, str) or not isinstance(signature, str):
            raise KeystoreError("a JWS signature is not text")
        found[str(_decode(protected).get("alg"))] = (protected, b64url_decode(signature))
    return payload, found


@dataclass(frozen=True, slots=True)
class TemporaryKey:
    """A verified temporary key: its id, the derived secret and the validity window."""

    key_id: str
    shared_secret: bytes
    issued_at_ms: int
    expires_at_ms: int


def verify_response(jws: str, signer: PublicKeys, algorithm: Algorithm) -> dict[str, Any]:
    """Check every signature the suite needs, then return the claims."""
    payload, found = _signatures(jws)
    if ALG_ES384 not in found:
        raise KeystoreError("the answer lacks its ES384 signature")
    protected, signature = found[ALG_ES384]
    if not ecdsa_verify_raw(signer.ecdsa, f"{protected}.{payload}".encode("ascii"), signature):
        raise KeystoreError("the answer's ES384 signature does not verify")
    if algorithm.mldsa_level is not None:
        alg = f"ML-DSA-{algorithm.mldsa_level}"
        if alg not in found or signer.mldsa is None:
            raise KeystoreError(f"the answer lacks its {alg} signature")
        protected, signature = found[alg]
        signing_input = f"{protected}.{payload}".encode("ascii")
        if not pq.mldsa_verify(algorithm.mldsa_level, signer.mldsa, signing_input, signature):
            raise KeystoreError(f"the answer's {alg} signature does not verify")
    return _decode(payload)


def read_response(
    claims: dict[str, Any], *, challenge: str, app_key: str, activation_id: str | None
) -> tuple[str, SharedSecretResponse, int, int]:
    """Check the echoed claims; return key id, exchange answer, issue and expiry times."""
    if claims.get(CLAIM_CHALLENGE) != challenge:
        raise KeystoreError("the answer echoes another challenge")
    if claims.get(CLAIM_APPLICATION_KEY) != app_key:
        raise KeystoreError("the answer is for another application")
    if claims.get(CLAIM_ACTIVATION_ID) != activation_id:
        raise KeystoreError("the answer is for another activation")
    key_id, issued, expires = (
        claims.get(CLAIM_KEY_ID),
        claims.get(CLAIM_IAT_MS),
        claims.get(CLAIM_EXP_MS),
    )
    if not isinstance(key_id, str) or not key_id:
        raise KeystoreError("the answer has no temporary key id")
    if not isinstance(issued, int) or not isinstance(expires, int) or expires <= issued:
        raise KeystoreError("the answer has no valid validity window")
    try:
        response = SharedSecretResponse.from_json(claims.get(CLAIM_RESPONSE))
    except ValueError as err:
        raise KeystoreError(f"the answer's key exchange is malformed: {err}") from err
    return key_id, response, issued, expires
