"""Bad input is refused with the typed error and a message saying what is wrong."""

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtoken import activation_code as ac
from mtoken import app_config, keys, protection, token
from mtoken.encoding import b64encode
from mtoken.errors import InvalidActivationCodeError, InvalidConfigurationError
from mtoken.signature import compute_online_signature, parse_authorization_header

pytestmark = pytest.mark.vectors

APP_KEY = bytes(range(1, 17))
APP_SECRET = bytes(range(17, 33))
MASTER = keys.public_key_bytes(keys.load_private_key(bytes(31) + b"\x07"))
UUID = "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6"
NONCE = b64encode(bytes(16))


def _config_bytes(
    *,
    version: int = 1,
    app_key: bytes = APP_KEY,
    app_secret: bytes = APP_SECRET,
    key_count: int = 1,
    key_id: int = 1,
    master: bytes = MASTER,
) -> str:
    raw = bytes([version, len(app_key)]) + app_key + bytes([len(app_secret)]) + app_secret
    raw += bytes([key_count]) + (bytes([key_id, len(master)]) + master) * key_count
    return b64encode(raw)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64!", "not valid Base64"),
        ("", "empty"),
        (_config_bytes(version=2), "version 2"),
        (_config_bytes(app_key=APP_KEY[:15]), "application key must be 16"),
        (_config_bytes(app_secret=APP_SECRET + b"x"), "application secret must be 16"),
        (_config_bytes(app_key=bytes(16)), "application key is all zeros"),
        (_config_bytes(app_secret=bytes(16)), "application secret is all zeros"),
        (_config_bytes(key_count=0), "no master server key"),
        (_config_bytes(key_count=2), "master key twice"),
        (_config_bytes(key_id=5), "unknown type 5"),
        (_config_bytes(key_id=2), "not a valid P-384 key"),
        (_config_bytes(key_id=3), "no EC master server key"),
        (_config_bytes(master=b"\x04" + bytes(64)), "not a valid P-256 key"),
        (_config_bytes(master=MASTER[:40]), "not a valid P-256 key"),
        (_config_bytes()[:-8], "ends inside"),
        (b64encode(b"\x01\x10" + APP_KEY), "ends inside the application secret"),
    ],
)
def test_config_string_refusals(text: str, message: str) -> None:
    with pytest.raises(InvalidConfigurationError, match=message):
        app_config.parse_config_string(text)


def test_config_string_trailing_bytes_refused() -> None:
    text = b64encode(app_config.b64decode(_config_bytes()) + b"\x00")
    with pytest.raises(InvalidConfigurationError, match="extra bytes"):
        app_config.parse_config_string(text)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (("???", b64encode(APP_SECRET), b64encode(MASTER)), "application key is not valid Base64"),
        ((b64encode(APP_KEY), b64encode(APP_SECRET[:8]), b64encode(MASTER)), "secret must be 16"),
        ((b64encode(APP_KEY), b64encode(APP_SECRET), b64encode(bytes(33))), "P-256"),
    ],
)
def test_config_values_refusals(values: tuple[str, str, str], message: str) -> None:
    with pytest.raises(InvalidConfigurationError, match=message):
        app_config.config_from_values(*values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("R:AAAAA-AAAAA-AAAAA-AAAAA", "recovery codes are not supported"),
        ("r:AAAAA-AAAAA-AAAAA-AAAAA", "recovery codes are not supported"),
        ("AAAAA-AAAAA-AAAAA", "four groups of five"),
        ("AAAAA-AAAAA-AAAAA-AAAA8", "four groups of five"),
        ("AAAAA-AAAAA-AAAAA-AAABA", "checksum"),
        ("AAAAA-AAAAA-AAAAA-AAAAA#not base64!", "not a valid signature"),
        ("AAAAA-AAAAA-AAAAA-AAAAA#", "empty"),
        ("", "four groups of five"),
    ],
)
def test_activation_code_refusals(text: str, message: str) -> None:
    with pytest.raises(InvalidActivationCodeError, match=message):
        ac.parse_activation_code(text)


def _auth_header(**overrides: str) -> str:
    fields = {
        "pa_version": "3.3",
        "pa_activation_id": UUID,
        "pa_application_key": b64encode(APP_KEY),
        "pa_nonce": NONCE,
        "pa_signature_type": "possession",
        "pa_signature": b64encode(bytes(16)),
    } | overrides
    return "PowerAuth " + ", ".join(f'{k}="{v}"' for k, v in fields.items() if v != "-")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer abc", "does not start with 'PowerAuth '"),
        ("PowerAuth nothing", "no name"),
        (_auth_header(pa_version="3.4"), "unsupported pa_version"),
        (_auth_header(pa_version="-"), "lacks pa_version"),
        (_auth_header(pa_activation_id="not-a-uuid"), "not a UUID"),
        (_auth_header(pa_application_key="abc"), "pa_application_key"),
        (_auth_header(pa_nonce=b64encode(bytes(15))), "pa_nonce"),
        (_auth_header(pa_signature_type="possession_possession"), "unknown signature type"),
        (_auth_header(pa_signature="1234567"), "pa_signature"),
        (_auth_header(pa_signature="12345678-1234567"), "pa_signature"),
        (_auth_header(pa_signature=b64encode(bytes(20))), "pa_signature"),
        (_auth_header(pa_signature="-"), "lacks pa_signature"),
    ],
)
def test_authorization_header_refusals(header: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_authorization_header(header)


def test_authorization_header_accepts_any_order_and_decimal() -> None:
    decimal = _auth_header(
        pa_signature="12345678-87654321", pa_signature_type="POSSESSION_KNOWLEDGE"
    )
    head, _, rest = decimal.partition(" ")
    reordered = f"{head} " + ", ".join(reversed(rest.split(", ")))
    assert parse_authorization_header(reordered) == parse_authorization_header(decimal)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"version": "4.0"}, "unsupported token version"),
        ({"token_id": "x"}, "not a UUID"),
        ({"token_digest": b64encode(bytes(31))}, "token_digest"),
        ({"nonce": "AAAA"}, "nonce"),
        ({"timestamp": "12:00"}, "timestamp"),
    ],
)
def test_token_header_refusals(override: dict[str, str], message: str) -> None:
    fields = {
        "token_id": UUID,
        "token_digest": b64encode(bytes(32)),
        "nonce": NONCE,
        "timestamp": "1700000000000",
        "version": "3.3",
    } | override
    header = "PowerAuth " + ", ".join(f'{k}="{v}"' for k, v in fields.items())
    with pytest.raises(ValueError, match=message):
        token.parse_token_header(header)


def test_key_refusals() -> None:
    with pytest.raises(ValueError, match="33 or 65 bytes"):
        keys.load_public_key(bytes(64))
    with pytest.raises(ValueError, match="not a point"):
        keys.load_public_key(b"\x04" + bytes(64))
    with pytest.raises(ValueError, match="sign byte"):
        keys.load_private_key(b"\x01" + bytes(32))
    with pytest.raises(ValueError, match="out of range"):
        keys.load_private_key(bytes(32))
    with pytest.raises(ValueError, match="out of range"):
        keys.load_private_key(keys.CURVE_ORDER.to_bytes(32, "big"))
    assert not keys.ecdsa_verify_raw(keys.load_public_key(MASTER), b"data", bytes(63))


def test_signature_and_protection_refusals() -> None:
    with pytest.raises(ValueError, match="unsupported protocol version"):
        compute_online_signature([bytes(16)], bytes(16), b"", version="2.1")
    with pytest.raises(ValueError, match="one to three"):
        compute_online_signature([bytes(16)] * 4, bytes(16), b"", version="3.3")
    with pytest.raises(ValueError, match="salt"):
        protection.derive_pin_key("1234", bytes(8))
    encrypted = protection.encrypt_vault_key(bytes(16), bytes(range(16)))
    with pytest.raises(ValueError, match="bad padding"):
        protection.decrypt_vault_key(bytes(range(16)), encrypted)


def _parse_or_none[T](parser: Callable[[str], T], text: str, error: type[Exception]) -> T | None:
    """Run a parser; the typed error means "refused", anything else fails the test."""
    try:
        return parser(text)
    except error:
        return None


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_text_parsers_raise_only_typed_errors(text: str) -> None:
    code = _parse_or_none(ac.parse_activation_code, text, InvalidActivationCodeError)
    if code is not None:
        assert ac.validate_activation_code(code.code)
    config = _parse_or_none(app_config.parse_config_string, text, InvalidConfigurationError)
    if config is not None:
        assert app_config.parse_config_string(app_config.build_config_string(config)) == config
    header = _parse_or_none(parse_authorization_header, text, ValueError)
    if header is not None:
        assert parse_authorization_header(header.to_header()) == header
    token_header = _parse_or_none(token.parse_token_header, text, ValueError)
    if token_header is not None:
        assert len(token_header.nonce_bytes) == token.TOKEN_NONCE_SIZE


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_config_bytes_raise_only_typed_errors(data: bytes) -> None:
    text = b64encode(b"\x01" + data)
    config = _parse_or_none(app_config.parse_config_string, text, InvalidConfigurationError)
    if config is not None:
        assert len(config.app_key_bytes) == app_config.APP_KEY_SIZE
