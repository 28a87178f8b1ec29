"""MAC tokens of protocol 4.0: the ``X-PowerAuth-Token`` digest (protocol 4.0 notes, section 13).

``digest = KMAC256(tokenSecret, nonce || "&" || timestamp || "&" || "4.0", 32,
"PA4DIGEST")``, the timestamp as ASCII decimal milliseconds. The header keeps
the 3.x field names with ``version="4.0"``, so it is built and parsed by the
3.x module's header code.
"""

import hmac
from typing import Final

from . import token as token_v3
from .encoding import b64encode
from .kmac import kmac256
from .signature import parse_header_fields, require_field

VERSION: Final = "4.0"
TOKEN_NONCE_SIZE: Final = 16
_DIGEST_CUSTOM: Final = b"PA4DIGEST"


def token_digest_input(nonce: bytes, timestamp_ms: int) -> bytes:
    """The bytes the 4.0 digest covers."""
    return nonce + b"&" + str(timestamp_ms).encode("ascii") + b"&" + VERSION.encode("ascii")


def compute_token_digest_bytes(token_secret: bytes, nonce: bytes, timestamp_ms: int) -> bytes:
    """The raw 32-byte digest."""
    if len(nonce) != TOKEN_NONCE_SIZE:
        raise ValueError(f"the token nonce must be {TOKEN_NONCE_SIZE} bytes")
    return kmac256(token_secret, token_digest_input(nonce, timestamp_ms), _DIGEST_CUSTOM)


def compute_token_digest(token_secret: bytes, nonce: bytes, timestamp_ms: int) -> str:
    """The Base64 digest the header carries."""
    return b64encode(compute_token_digest_bytes(token_secret, nonce, timestamp_ms))


def verify_token_digest(
    token_secret: bytes, nonce: bytes, timestamp_ms: int, digest_b64: str
) -> bool:
    """Server side: recompute and compare in constant time."""
    expected = compute_token_digest(token_secret, nonce, timestamp_ms)
    return hmac.compare_digest(expected.encode("ascii"), digest_b64.encode("ascii", "replace"))


def build_token_header(*, token_id: str, token_digest: str, nonce: str, timestamp_ms: int) -> str:
    """The header value, fields as in 3.x with ``version="4.0"``."""
    fields = (
        ("token_id", token_id),
        ("token_digest", token_digest),
        ("nonce", nonce),
        ("timestamp", str(timestamp_ms)),
        ("version", VERSION),
    )
    return "PowerAuth " + ", ".join(f'{name}="{value}"' for name, value in fields)


HEADER: Final = token_v3.TOKEN_HEADER


def parse_token_header(value: str) -> token_v3.TokenHeader:
    """Parse a 4.0 ``X-PowerAuth-Token``; the fields are checked as in 3.x."""
    fields = parse_header_fields(value)
    if require_field(fields, "version") != VERSION:
        raise ValueError("not a 4.0 token header")
    # The 3.x parser validates every other field the same way; let it do so.
    as_v3 = value.replace(f'version="{VERSION}"', 'version="3.3"')
    parsed = token_v3.parse_token_header(as_v3)
    return token_v3.TokenHeader(
        version=VERSION,
        token_id=parsed.token_id,
        token_digest=parsed.token_digest,
        nonce=parsed.nonce,
        timestamp_ms=parsed.timestamp_ms,
    )


def header_version(value: str) -> str | None:
    """The ``version`` field of a token header, to tell 3.x from 4.0."""
    try:
        return parse_header_fields(value).get("version")
    except ValueError:
        return None
