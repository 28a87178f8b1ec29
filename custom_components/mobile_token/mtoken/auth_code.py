"""Authentication codes, the 4.0 successor of signatures (protocol 4.0 notes, section 10).

The signed data is built exactly as in 3.x (the ``signature`` module builds it). Each
factor adds one 32-byte component: a key chained through the factor keys
so far with KMAC over ``CTR_DATA``, then a KMAC of the data under that key
(reference ``Computing-and-Validating-Authentication-Codes.md`` and the SDK's
``FunctionsV4.cpp``, which agree). Online codes are the Base64 of all
components; offline codes are eight decimal digits per component.

Offline components are always eight digits here: the documents' pseudo-code
reduces modulo 10^8 yet pads to a configurable length, which only agrees with
itself at eight, and every mobile-token QR flow uses eight (see
``docs/protocol-4.md``).
"""

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .counter4 import next_counter
from .encoding import b64decode, b64encode
from .kmac import kmac256
from .signature import (
    SignatureType,
    parse_header_fields,
    require_field,
    require_identity_fields,
)

VERSION: Final = "4.0"
COMPONENT_SIZE: Final = 32
OFFLINE_DIGITS: Final = 8
DEFAULT_LOOK_AHEAD: Final = 20
_CUSTOM: Final = b"PA4CODE"
_MAX_FACTORS: Final = 3
_DECIMAL_TAIL: Final = 4
_OFFLINE_RE: Final = re.compile(r"\d{8}(?:-\d{8}){0,2}")


def components(factor_keys: Sequence[bytes], ctr_data: bytes, data: bytes) -> list[bytes]:
    """One 32-byte component per factor key, keys in possession/knowledge/biometry order."""
    if not 0 < len(factor_keys) <= _MAX_FACTORS:
        raise ValueError("an authentication code uses one to three factor keys")
    out = []
    for count in range(1, len(factor_keys) + 1):
        derived = b""
        for key in factor_keys[:count]:
            derived = kmac256(key, ctr_data + derived, _CUSTOM)
        out.append(kmac256(derived, data, _CUSTOM))
    return out


def online_code(factor_keys: Sequence[bytes], ctr_data: bytes, data: bytes) -> str:
    """The Base64 code sent in ``pa_auth_code`` (32, 64 or 96 bytes)."""
    return b64encode(b"".join(components(factor_keys, ctr_data, data)))


def offline_code(factor_keys: Sequence[bytes], ctr_data: bytes, data: bytes) -> str:
    """The decimal code a user types: eight digits per factor, dash-separated."""
    numbers = (
        (int.from_bytes(c[-_DECIMAL_TAIL:], "big") & 0x7FFFFFFF) % 10**OFFLINE_DIGITS
        for c in components(factor_keys, ctr_data, data)
    )
    return "-".join(str(n).zfill(OFFLINE_DIGITS) for n in numbers)


def verify_code(
    factor_keys: Sequence[bytes], ctr_data: bytes, data: bytes, code: str, *, offline: bool
) -> bool:
    """Server side: recompute and compare the text in constant time."""
    compute = offline_code if offline else online_code
    expected = compute(factor_keys, ctr_data, data)
    try:
        given = code.encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given)


def find_counter_match(
    factor_keys: Sequence[bytes],
    ctr_data: bytes,
    data: bytes,
    code: str,
    *,
    offline: bool = False,
    look_ahead: int = DEFAULT_LOOK_AHEAD,
) -> int | None:
    """Server side: how many steps ahead of ``ctr_data`` the code verifies, or None."""
    candidate = ctr_data
    for steps in range(look_ahead):
        if verify_code(factor_keys, candidate, data, code, offline=offline):
            return steps
        candidate = next_counter(candidate)
    return None


@dataclass(frozen=True, slots=True)
class AuthorizationHeader:
    """The fields of a 4.0 ``X-PowerAuth-Authorization`` header."""

    activation_id: str
    application_key: str
    nonce: str
    code_type: SignatureType
    code: str

    def to_header(self) -> str:
        """Render the value; 4.0 renames ``pa_signature*`` to ``pa_auth_code*``."""
        fields = (
            ("pa_version", VERSION),
            ("pa_application_key", self.application_key),
            ("pa_activation_id", self.activation_id),
            ("pa_nonce", self.nonce),
            ("pa_auth_code_type", str(self.code_type)),
            ("pa_auth_code", self.code),
        )
        return "PowerAuth " + ", ".join(f'{name}="{value}"' for name, value in fields)


def _is_valid_code(code: str) -> bool:
    if _OFFLINE_RE.fullmatch(code):
        return True
    try:
        size = len(b64decode(code))
    except ValueError:
        return False
    return size in (COMPONENT_SIZE, 2 * COMPONENT_SIZE, 3 * COMPONENT_SIZE)


def header_version(value: str) -> str:
    """The ``pa_version`` of an authorization header, to pick 3.x or 4.0 parsing."""
    return require_field(parse_header_fields(value), "pa_version")


def parse_authorization_header(value: str) -> AuthorizationHeader:
    """Parse and validate a 4.0 header; ValueError says what is wrong."""
    fields = parse_header_fields(value)
    if require_field(fields, "pa_version") != VERSION:
        raise ValueError("not a 4.0 authorization header")
    activation_id, application_key, nonce = require_identity_fields(fields)
    code_type = SignatureType.parse(require_field(fields, "pa_auth_code_type"))
    code = require_field(fields, "pa_auth_code")
    if not _is_valid_code(code):
        raise ValueError("pa_auth_code is neither decimal nor Base64 of 32, 64 or 96 bytes")
    return AuthorizationHeader(
        activation_id=activation_id,
        application_key=application_key,
        nonce=nonce,
        code_type=code_type,
        code=code,
    )
