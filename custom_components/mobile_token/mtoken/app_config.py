"""Application configuration: app key, app secret and the master server key.

Protocol notes section 2 ("Application configuration"). The values can come
separately (three Base64 strings) or as the mobile SDK 1.8+ configuration
string, ``base64(0x01 ‖ cnt ‖ appKey ‖ cnt ‖ appSecret ‖ cnt(number of keys)
‖ {keyId 0x01 ‖ cnt ‖ masterPub})``, which is the friendliest thing to paste.
A server that speaks protocol 4.0 adds its P-384 master key (id 0x02) and, for
the hybrid suites, an ML-DSA-65 (0x03) or ML-DSA-87 (0x04) key (protocol 4.0
notes, section 6); a 4.0-only server may leave out the P-256 key.
Every malformed input raises InvalidConfigurationError naming the problem.
"""

from dataclasses import dataclass
from typing import Final

from .encoding import b64decode, b64encode
from .errors import InvalidConfigurationError
from .keys import load_public_key

CONFIG_VERSION: Final = 0x01
KEY_ID_P256: Final = 0x01
KEY_ID_P384: Final = 0x02
KEY_ID_MLDSA65: Final = 0x03
KEY_ID_MLDSA87: Final = 0x04
_KEY_IDS: Final = (KEY_ID_P256, KEY_ID_P384, KEY_ID_MLDSA65, KEY_ID_MLDSA87)
_P384_POINT_SIZE: Final = 97
APP_KEY_SIZE: Final = 16
APP_SECRET_SIZE: Final = 16

_CNT_ONE_BYTE_MAX: Final = 0x7F
_CNT_TWO_BYTES_MAX: Final = 0x3FFF
_CNT_FOUR_BYTES_MAX: Final = 0x3FFFFFFF
_CNT_TWO_BYTES_FLAG: Final = 0x80
_CNT_FOUR_BYTES_FLAG: Final = 0xC0
_CNT_FLAG_MASK: Final = 0xC0
_CNT_VALUE_MASK: Final = 0x3F


@dataclass(frozen=True, slots=True)
class AppConfig:
    """What identifies the application to the server (values as Base64 text)."""

    app_key: str
    app_secret: str
    master_public_key: bytes
    #: Protocol 4.0 master keys by key id (0x02 P-384, 0x03/0x04 ML-DSA), when the server has them.
    master_keys_v4: tuple[tuple[int, bytes], ...] = ()

    @property
    def speaks_v4(self) -> bool:
        """Whether the configuration carries the P-384 master key that 4.0 needs."""
        return self.master_key(KEY_ID_P384) is not None

    @property
    def speaks_v3(self) -> bool:
        """Whether the configuration carries the P-256 master key of protocol 3.3."""
        return bool(self.master_public_key)

    def master_key(self, key_id: int) -> bytes | None:
        """A 4.0 master key by its configuration-string id."""
        return dict(self.master_keys_v4).get(key_id)

    @property
    def app_key_bytes(self) -> bytes:
        """The raw 16-byte application key."""
        return b64decode(self.app_key, length=APP_KEY_SIZE)

    @property
    def app_secret_bytes(self) -> bytes:
        """The raw 16-byte application secret (the HS256 key of section 7)."""
        return b64decode(self.app_secret, length=APP_SECRET_SIZE)

    @property
    def master_public_key_b64(self) -> str:
        """The master server public key as Base64."""
        return b64encode(self.master_public_key)


def _check_values(
    app_key: bytes, app_secret: bytes, master_public_key: bytes, *, optional_master: bool = False
) -> None:
    if len(app_key) != APP_KEY_SIZE:
        raise InvalidConfigurationError(f"The application key must be {APP_KEY_SIZE} bytes")
    if len(app_secret) != APP_SECRET_SIZE:
        raise InvalidConfigurationError(f"The application secret must be {APP_SECRET_SIZE} bytes")
    if not any(app_key):
        raise InvalidConfigurationError("The application key is all zeros")
    if not any(app_secret):
        raise InvalidConfigurationError("The application secret is all zeros")
    if optional_master and not master_public_key:
        return
    try:
        load_public_key(master_public_key)
    except ValueError as err:
        raise InvalidConfigurationError(
            "The master server public key is not a valid P-256 key"
        ) from err


def _decode_b64(text: str, what: str) -> bytes:
    try:
        return b64decode("".join(text.split()))
    except ValueError as err:
        raise InvalidConfigurationError(f"The {what} is not valid Base64") from err


def config_from_values(app_key: str, app_secret: str, master_public_key_b64: str) -> AppConfig:
    """Build a configuration from the three separate Base64 values, validated."""
    key = _decode_b64(app_key, "application key")
    secret = _decode_b64(app_secret, "application secret")
    master = _decode_b64(master_public_key_b64, "master server public key")
    _check_values(key, secret, master)
    return AppConfig(app_key=b64encode(key), app_secret=b64encode(secret), master_public_key=master)


def _encode_count(value: int) -> bytes:
    if value <= _CNT_ONE_BYTE_MAX:
        return bytes([value])
    if value <= _CNT_TWO_BYTES_MAX:
        return bytes([_CNT_TWO_BYTES_FLAG | value >> 8, value & 0xFF])
    if value <= _CNT_FOUR_BYTES_MAX:
        return (_CNT_FOUR_BYTES_FLAG << 24 | value).to_bytes(4, "big")
    raise ValueError("count too large for the configuration format")


class _Reader:
    """Reads the SDK's byte stream, failing with a clear message when it runs out."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, size: int, what: str) -> bytes:
        if self._pos + size > len(self._data):
            raise InvalidConfigurationError(f"The configuration string ends inside the {what}")
        chunk = self._data[self._pos : self._pos + size]
        self._pos += size
        return chunk

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def count(self, what: str) -> int:
        first = self.byte(what)
        flag = first & _CNT_FLAG_MASK
        if flag == _CNT_FOUR_BYTES_FLAG:
            rest = self.take(3, what)
            return (first & _CNT_VALUE_MASK) << 24 | int.from_bytes(rest, "big")
        if flag & _CNT_TWO_BYTES_FLAG:
            return (first & _CNT_VALUE_MASK) << 8 | self.byte(what)
        return first

    def sized(self, what: str) -> bytes:
        return self.take(self.count(what), what)

    def at_end(self) -> bool:
        return self._pos == len(self._data)


def _read_master_keys(reader: _Reader) -> dict[int, bytes]:
    key_count = reader.count("number of keys")
    if key_count == 0:
        raise InvalidConfigurationError("The configuration string contains no master server key")
    keys: dict[int, bytes] = {}
    for _ in range(key_count):
        key_id = reader.byte("key id")
        key = reader.sized("master server public key")
        if key_id not in _KEY_IDS:
            raise InvalidConfigurationError(
                f"The configuration string has a key of unknown type {key_id}"
            )
        if key_id in keys:
            raise InvalidConfigurationError("The configuration string has a master key twice")
        keys[key_id] = key
    if KEY_ID_P256 not in keys and KEY_ID_P384 not in keys:
        raise InvalidConfigurationError("The configuration string has no EC master server key")
    p384 = keys.get(KEY_ID_P384)
    if p384 is not None and (len(p384) != _P384_POINT_SIZE or p384[0] != 0x04):
        raise InvalidConfigurationError("The P-384 master server key is not a valid P-384 key")
    return keys


def parse_config_string(text: str) -> AppConfig:
    """Parse the mobile SDK 1.8+ configuration string (section 2)."""
    data = _decode_b64(text, "configuration string")
    if not data:
        raise InvalidConfigurationError("The configuration string is empty")
    reader = _Reader(data)
    version = reader.byte("version")
    if version != CONFIG_VERSION:
        raise InvalidConfigurationError(
            f"The configuration string has version {version}, expected {CONFIG_VERSION}"
        )
    app_key = reader.sized("application key")
    app_secret = reader.sized("application secret")
    keys = _read_master_keys(reader)
    if not reader.at_end():
        raise InvalidConfigurationError("The configuration string has extra bytes at its end")
    master = keys.pop(KEY_ID_P256, b"")
    _check_values(app_key, app_secret, master, optional_master=KEY_ID_P384 in keys)
    return AppConfig(
        app_key=b64encode(app_key),
        app_secret=b64encode(app_secret),
        master_public_key=master,
        master_keys_v4=tuple(sorted(keys.items())),
    )


def build_config_string(config: AppConfig) -> str:
    """Encode a configuration as the SDK's configuration string."""
    key, secret = config.app_key_bytes, config.app_secret_bytes
    keys = ([(KEY_ID_P256, config.master_public_key)] if config.master_public_key else []) + list(
        config.master_keys_v4
    )
    parts = [
        bytes([CONFIG_VERSION]),
        _encode_count(len(key)),
        key,
        _encode_count(len(secret)),
        secret,
        _encode_count(len(keys)),
    ]
    for key_id, public_key in keys:
        parts += [bytes([key_id]), _encode_count(len(public_key)), public_key]
    return b64encode(b"".join(parts))
