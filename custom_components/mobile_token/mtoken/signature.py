"""PowerAuth symmetric multi-factor signatures, online and offline.

Protocol notes section 4 (online) and section 5 (offline): the signed DATA
is ``METHOD & b64(uriId) & nonce & b64(body) & appSecret``; each factor key
yields one HMAC component chained over the previous keys (trap 3: the inner
loop uses ``K[j+1]``); 3.0 and offline signatures are decimal, 3.1+ online
signatures Base64. The ``X-PowerAuth-Authorization`` header carries it.
"""

import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import unquote_plus

from .counter import advance_counter, next_counter
from .encoding import b64decode, b64encode
from .kdf import hmac_sha256

AUTHORIZATION_HEADER: Final = "X-PowerAuth-Authorization"
HEADER_PREFIX: Final = "PowerAuth"
#: Protocol versions whose signatures this module computes and verifies.
SUPPORTED_VERSIONS: Final = ("3.0", "3.1", "3.2", "3.3")
DEFAULT_VERSION: Final = "3.3"
#: The one version whose online signatures are decimal (section 1).
DECIMAL_VERSION: Final = "3.0"
URI_ID_OFFLINE_DEFAULT: Final = "/operation/authorize/offline"
OFFLINE_METHOD: Final = "POST"
OFFLINE_APP_SECRET: Final = "offline"
DECIMAL_COMPONENT_LENGTH: Final = 8
MIN_OFFLINE_COMPONENT_LENGTH: Final = 4
MAX_OFFLINE_COMPONENT_LENGTH: Final = 8
NONCE_SIZE: Final = 16
APPLICATION_KEY_SIZE: Final = 16
#: Look-ahead window the reference server walks when a counter does not match.
DEFAULT_LOOK_AHEAD: Final = 20

_COMPONENT_TAIL: Final = 16
_DECIMAL_TAIL: Final = 4
_COMPONENT_SEPARATOR: Final = "-"
_MAX_FACTORS: Final = 3
_BASE64_SIGNATURE_LENGTHS: Final = frozenset({24, 44, 64})
_BASE64_SIGNATURE_SIZES: Final = frozenset({16, 32, 48})
_DECIMAL_SIGNATURE_RE: Final = re.compile(r"\d{8}(?:-\d{8}){0,2}")
_HEADER_PAIR_RE: Final = re.compile(r'(\w+)="([^"]*)"')
_UUID_RE: Final = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# Java URLEncoder keeps these bytes as they are; everything else is %XX.
_URL_SAFE: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.*")


class SignatureFactor(StrEnum):
    """One authentication factor, in the order keys enter a signature."""

    POSSESSION = "possession"
    KNOWLEDGE = "knowledge"
    BIOMETRY = "biometry"


class SignatureType(StrEnum):
    """The factor combinations a PowerAuth signature can prove (section 4)."""

    POSSESSION = "possession"
    KNOWLEDGE = "knowledge"
    BIOMETRY = "biometry"
    POSSESSION_KNOWLEDGE = "possession_knowledge"
    POSSESSION_BIOMETRY = "possession_biometry"
    POSSESSION_KNOWLEDGE_BIOMETRY = "possession_knowledge_biometry"

    @property
    def factors(self) -> tuple[SignatureFactor, ...]:
        """The factors, in key order (possession, knowledge, biometry)."""
        return tuple(SignatureFactor(name) for name in self.value.split("_"))

    @property
    def is_possession_only(self) -> bool:
        """Possession-only failures do not count towards blocking (trap 5)."""
        return self is SignatureType.POSSESSION

    @classmethod
    def parse(cls, text: str) -> "SignatureType":
        """Read a type name case-insensitively, as the reference server does."""
        try:
            return cls(text.lower())
        except ValueError as err:
            raise ValueError(f"unknown signature type {text!r}") from err


def select_factor_keys(
    signature_type: SignatureType,
    *,
    possession: bytes,
    knowledge: bytes | None = None,
    biometry: bytes | None = None,
) -> list[bytes]:
    """Pick the factor keys a signature type needs, in signing order."""
    available = {
        SignatureFactor.POSSESSION: possession,
        SignatureFactor.KNOWLEDGE: knowledge,
        SignatureFactor.BIOMETRY: biometry,
    }
    keys: list[bytes] = []
    for factor in signature_type.factors:
        key = available[factor]
        if key is None:
            raise ValueError(f"a {signature_type} signature needs the {factor} key")
        keys.append(key)
    return keys


def _check_version(version: str) -> None:
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported protocol version {version!r}")


def _java_url_encode(text: str) -> str:
    out: list[str] = []
    for byte in text.encode("utf-8"):
        if byte in _URL_SAFE:
            out.append(chr(byte))
        elif byte == ord(" "):
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def _java_string_order(text: str) -> bytes:
    # Java's String.compareTo orders by UTF-16 code units.
    return text.encode("utf-16-be", "surrogatepass")


def _query_pairs(
    params: str | Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]],
) -> list[tuple[str, str]]:
    if isinstance(params, str):
        pairs = []
        for item in params.split("&"):
            key, sep, value = item.partition("=")
            if sep:  # the reference skips items without '='
                pairs.append((unquote_plus(key), unquote_plus(value)))
        return pairs
    if isinstance(params, Mapping):
        out: list[tuple[str, str]] = []
        for name, given in params.items():
            values = [given] if isinstance(given, str) else list(given)
            out.extend((name, item) for item in values)
        return out
    return list(params)


def canonical_query(
    params: str | Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]],
) -> str:
    """Canonical GET query: decoded pairs sorted by key then value, re-encoded.

    Section 4; the reference ``canonizeGetParameters`` encodes with Java's
    URLEncoder (space becomes ``+``, ``%XX`` upper case). ``params`` is a raw
    query string, a mapping or ``(key, value)`` pairs (already decoded).
    """
    pairs = sorted(
        _query_pairs(params),
        key=lambda kv: (_java_string_order(kv[0]), _java_string_order(kv[1])),
    )
    return "&".join(f"{_java_url_encode(k)}={_java_url_encode(v)}" for k, v in pairs)


def request_base_string(method: str, uri_id: str, nonce_b64: str, body: bytes) -> str:
    """Build ``METHOD & b64(uriId) & nonce & b64(body)`` (the part before the app secret)."""
    parts = (method.upper(), b64encode(uri_id.encode("utf-8")), nonce_b64, b64encode(body))
    return "&".join(parts)


def signature_base_string(
    method: str, uri_id: str, nonce_b64: str, body: bytes, app_secret: str
) -> bytes:
    """Build the signed DATA: the request base string ``&`` the app secret (Base64 text)."""
    base = request_base_string(method, uri_id, nonce_b64, body)
    return f"{base}&{app_secret}".encode()


def offline_signature_data(uri_id: str, nonce_b64: str, data: bytes) -> bytes:
    """Build the DATA of an offline signature: POST, the QR nonce and the literal ``offline``."""
    return signature_base_string(OFFLINE_METHOD, uri_id, nonce_b64, data, OFFLINE_APP_SECRET)


def signature_components(factor_keys: Sequence[bytes], ctr_data: bytes, data: bytes) -> list[bytes]:
    """Compute the 32-byte HMAC component of each factor (section 4, trap 3)."""
    if not 0 < len(factor_keys) <= _MAX_FACTORS:
        raise ValueError("a signature uses one to three factor keys")
    components = []
    for i, key in enumerate(factor_keys):
        derived = hmac_sha256(key, ctr_data)
        for j in range(i):
            derived = hmac_sha256(hmac_sha256(factor_keys[j + 1], ctr_data), derived)
        components.append(hmac_sha256(derived, data))
    return components


def _decimal(components: Sequence[bytes], length: int) -> str:
    numbers = (
        (int.from_bytes(c[-_DECIMAL_TAIL:], "big") & 0x7FFFFFFF) % 10**length for c in components
    )
    return _COMPONENT_SEPARATOR.join(str(n).zfill(length) for n in numbers)


def compute_online_signature(
    factor_keys: Sequence[bytes], ctr_data: bytes, data: bytes, *, version: str
) -> str:
    """Online signature: decimal for 3.0, Base64 of the component tails for 3.1+."""
    _check_version(version)
    components = signature_components(factor_keys, ctr_data, data)
    if version == DECIMAL_VERSION:
        return _decimal(components, DECIMAL_COMPONENT_LENGTH)
    return b64encode(b"".join(c[-_COMPONENT_TAIL:] for c in components))


def compute_offline_signature(
    factor_keys: Sequence[bytes], ctr_data: bytes, data: bytes, *, length: int = 8
) -> str:
    """Offline signature: decimal, ``length`` digits (4-8) per factor (section 5)."""
    if not MIN_OFFLINE_COMPONENT_LENGTH <= length <= MAX_OFFLINE_COMPONENT_LENGTH:
        raise ValueError(
            f"offline signature components have {MIN_OFFLINE_COMPONENT_LENGTH}"
            f"-{MAX_OFFLINE_COMPONENT_LENGTH} digits, not {length}"
        )
    return _decimal(signature_components(factor_keys, ctr_data, data), length)


def verify_signature(
    factor_keys: Sequence[bytes],
    ctr_data: bytes,
    data: bytes,
    signature: str,
    *,
    version: str,
    offline: bool = False,
    length: int = DECIMAL_COMPONENT_LENGTH,
) -> bool:
    """Server side: recompute with the version's format, compare in constant time.

    Offline signatures are always decimal with ``length`` digits; online ones
    follow the header's version. The comparison is on the ASCII text, as the
    reference ``validatePowerAuthSignature`` compares strings.
    """
    if offline:
        expected = compute_offline_signature(factor_keys, ctr_data, data, length=length)
    else:
        expected = compute_online_signature(factor_keys, ctr_data, data, version=version)
    try:
        given = signature.encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given)


def find_counter_match(
    factor_keys: Sequence[bytes],
    ctr_data: bytes,
    data: bytes,
    signature: str,
    *,
    version: str,
    look_ahead: int = DEFAULT_LOOK_AHEAD,
    offline: bool = False,
    length: int = DECIMAL_COMPONENT_LENGTH,
) -> int | None:
    """Server side: steps from ``ctr_data`` at which the signature verifies.

    Walks ``CTR_DATA, next, ...`` up to ``look_ahead`` values (section 4);
    None when nothing matches. The caller stores ``advance_counter(ctr,
    steps + 1)`` after a match.
    """
    candidate = ctr_data
    for steps in range(look_ahead):
        if verify_signature(
            factor_keys, candidate, data, signature, version=version, offline=offline, length=length
        ):
            return steps
        candidate = next_counter(candidate)
    return None


def counter_after_match(ctr_data: bytes, steps: int) -> bytes:
    """Server CTR_DATA after a signature matched ``steps`` ahead of it."""
    return advance_counter(ctr_data, steps + 1)


@dataclass(frozen=True, slots=True)
class AuthorizationHeader:
    """The fields of ``X-PowerAuth-Authorization`` (section 4)."""

    version: str
    activation_id: str
    application_key: str
    nonce: str
    signature_type: SignatureType
    signature: str

    def to_header(self) -> str:
        """Render the header value, fields in the reference library's order."""
        return build_authorization_header(
            version=self.version,
            activation_id=self.activation_id,
            application_key=self.application_key,
            nonce=self.nonce,
            signature_type=self.signature_type,
            signature=self.signature,
        )


def build_authorization_header(
    *,
    version: str,
    activation_id: str,
    application_key: str,
    nonce: str,
    signature_type: SignatureType | str,
    signature: str,
) -> str:
    """Header value ``PowerAuth pa_activation_id="…", …, pa_version="…"``."""
    fields = (
        ("pa_activation_id", activation_id),
        ("pa_application_key", application_key),
        ("pa_nonce", nonce),
        ("pa_signature_type", str(SignatureType.parse(str(signature_type)))),
        ("pa_signature", signature),
        ("pa_version", version),
    )
    return f"{HEADER_PREFIX} " + ", ".join(f'{name}="{value}"' for name, value in fields)


def parse_header_fields(value: str) -> dict[str, str]:
    """Split ``PowerAuth name="value", …`` into a dict; ValueError if not one."""
    prefix, _, rest = value.strip().partition(" ")
    if prefix != HEADER_PREFIX:
        raise ValueError(f"the header does not start with '{HEADER_PREFIX} '")
    fields = dict(_HEADER_PAIR_RE.findall(rest))
    if not fields:
        raise ValueError('the header has no name="value" fields')
    return fields


def require_field(fields: Mapping[str, str], name: str) -> str:
    """Return a header field that must be present and non-empty."""
    value = fields.get(name)
    if not value:
        raise ValueError(f"the header lacks {name}")
    return value


def _is_b64_of(text: str, size: int) -> bool:
    try:
        b64decode(text, length=size)
    except ValueError:
        return False
    return True


def require_identity_fields(fields: Mapping[str, str]) -> tuple[str, str, str]:
    """The activation id, application key and nonce that 3.x and 4.0 headers share, checked.

    A UUID and Base64 of 16 bytes twice; ValueError names the first field that is not.
    """
    activation_id = require_field(fields, "pa_activation_id")
    if not _UUID_RE.fullmatch(activation_id):
        raise ValueError("pa_activation_id is not a UUID")
    application_key = require_field(fields, "pa_application_key")
    if not _is_b64_of(application_key, APPLICATION_KEY_SIZE):
        raise ValueError("pa_application_key is not Base64 of 16 bytes")
    nonce = require_field(fields, "pa_nonce")
    if not _is_b64_of(nonce, NONCE_SIZE):
        raise ValueError("pa_nonce is not Base64 of 16 bytes")
    return activation_id, application_key, nonce


def _is_valid_signature_value(signature: str) -> bool:
    if _DECIMAL_SIGNATURE_RE.fullmatch(signature):
        return True
    if len(signature) not in _BASE64_SIGNATURE_LENGTHS:
        return False
    try:
        return len(b64decode(signature)) in _BASE64_SIGNATURE_SIZES
    except ValueError:
        return False


def parse_authorization_header(value: str) -> AuthorizationHeader:
    """Parse and validate ``X-PowerAuth-Authorization`` as the reference server does.

    Fields in any order; activation id a UUID; nonce and application key
    Base64 of 16 bytes; a known signature type; a signature of 8/17/26
    digits-and-dashes or 24/44/64 Base64 characters; a supported version.
    """
    fields = parse_header_fields(value)
    version = require_field(fields, "pa_version")
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported pa_version {version!r}")
    activation_id, application_key, nonce = require_identity_fields(fields)
    signature_type = SignatureType.parse(require_field(fields, "pa_signature_type"))
    signature = require_field(fields, "pa_signature")
    if not _is_valid_signature_value(signature):
        raise ValueError("pa_signature is neither decimal nor Base64 of a valid length")
    return AuthorizationHeader(
        version=version,
        activation_id=activation_id,
        application_key=application_key,
        nonce=nonce,
        signature_type=signature_type,
        signature=signature,
    )
