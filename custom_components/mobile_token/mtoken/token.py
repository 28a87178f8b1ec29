"""Token-based authentication: the ``X-PowerAuth-Token`` digest and header.

Protocol notes section 6: ``digest = HMAC-SHA256(tokenSecret, nonce || "&"
|| timestamp [|| "&" || version])``, the version suffix only from 3.2 on.
The reference ``TokenUtils`` refuses any other version (2.1, 3.4, 4.0, ...),
and so does this module.
"""

import hmac
import re
from dataclasses import dataclass
from typing import Final

from .encoding import b64decode, b64encode
from .kdf import hmac_sha256
from .signature import parse_header_fields, require_field

TOKEN_HEADER: Final = "X-PowerAuth-Token"
TOKEN_SECRET_SIZE: Final = 16
TOKEN_NONCE_SIZE: Final = 16
DIGEST_SIZE: Final = 32
#: Versions whose digest appends ``&version`` (section 1: 3.2 changed it).
VERSIONS_WITH_SUFFIX: Final = ("3.2", "3.3")
SUPPORTED_TOKEN_VERSIONS: Final = ("3.0", "3.1", *VERSIONS_WITH_SUFFIX)
_SEPARATOR: Final = b"&"
_TIMESTAMP_RE: Final = re.compile(r"\d{1,19}")
_UUID_RE: Final = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _check_version(version: str) -> None:
    if version not in SUPPORTED_TOKEN_VERSIONS:
        raise ValueError(f"unsupported token version {version!r}")


def token_digest_input(nonce: bytes, timestamp_ms: int, *, version: str) -> bytes:
    """Build the bytes the token digest covers."""
    _check_version(version)
    data = nonce + _SEPARATOR + str(timestamp_ms).encode("ascii")
    if version in VERSIONS_WITH_SUFFIX:
        data += _SEPARATOR + version.encode("ascii")
    return data


def compute_token_digest_bytes(
    token_secret: bytes, nonce: bytes, timestamp_ms: int, *, version: str
) -> bytes:
    """Compute the raw 32-byte HMAC digest."""
    if len(nonce) != TOKEN_NONCE_SIZE:
        raise ValueError(f"the token nonce must be {TOKEN_NONCE_SIZE} bytes")
    return hmac_sha256(token_secret, token_digest_input(nonce, timestamp_ms, version=version))


def compute_token_digest(
    token_secret: bytes, nonce: bytes, timestamp_ms: int, *, version: str
) -> str:
    """Compute the Base64 digest the header carries (section 6)."""
    return b64encode(compute_token_digest_bytes(token_secret, nonce, timestamp_ms, version=version))


def verify_token_digest(
    token_secret: bytes, nonce: bytes, timestamp_ms: int, digest_b64: str, *, version: str
) -> bool:
    """Server side: recompute and compare in constant time."""
    expected = compute_token_digest(token_secret, nonce, timestamp_ms, version=version)
    return hmac.compare_digest(expected.encode("ascii"), digest_b64.encode("ascii", "replace"))


@dataclass(frozen=True, slots=True)
class TokenHeader:
    """The fields of ``X-PowerAuth-Token``."""

    version: str
    token_id: str
    token_digest: str
    nonce: str
    timestamp_ms: int

    @property
    def nonce_bytes(self) -> bytes:
        """Return the raw 16-byte nonce the digest covers."""
        return b64decode(self.nonce, length=TOKEN_NONCE_SIZE)


def build_token_header(
    *, version: str, token_id: str, token_digest: str, nonce: str, timestamp_ms: int
) -> str:
    """Render the header value, fields in the reference library's order."""
    _check_version(version)
    fields = (
        ("token_id", token_id),
        ("token_digest", token_digest),
        ("nonce", nonce),
        ("timestamp", str(timestamp_ms)),
        ("version", version),
    )
    return "PowerAuth " + ", ".join(f'{name}="{value}"' for name, value in fields)


def parse_token_header(value: str) -> TokenHeader:
    """Parse and validate ``X-PowerAuth-Token``; ValueError says what is wrong."""
    fields = parse_header_fields(value)
    version = require_field(fields, "version")
    _check_version(version)
    token_id = require_field(fields, "token_id")
    if not _UUID_RE.fullmatch(token_id):
        raise ValueError("token_id is not a UUID")
    digest = require_field(fields, "token_digest")
    try:
        b64decode(digest, length=DIGEST_SIZE)
    except ValueError as err:
        raise ValueError("token_digest is not Base64 of 32 bytes") from err
    nonce = require_field(fields, "nonce")
    try:
        b64decode(nonce, length=TOKEN_NONCE_SIZE)
    except ValueError as err:
        raise ValueError("nonce is not Base64 of 16 bytes") from err
    timestamp = require_field(fields, "timestamp")
    if not _TIMESTAMP_RE.fullmatch(timestamp):
        raise ValueError("timestamp is not a decimal number of milliseconds")
    return TokenHeader(
        version=version,
        token_id=token_id,
        token_digest=digest,
        nonce=nonce,
        timestamp_ms=int(timestamp),
    )
