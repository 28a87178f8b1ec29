"""Text a user scans or pastes: offline QR, PAC, activation code, configuration.

Each parser either returns its value or raises its one documented error
(an ``InvalidInputError`` subclass; the PAC readers may also answer None);
text built from valid random fields parses back to those fields.
"""

from datetime import date
from decimal import Decimal
from urllib.parse import quote

from hypothesis import assume, given
from hypothesis import strategies as st

from mtoken import activation_code as ac
from mtoken import app_config, keys
from mtoken.encoding import b64decode, b64encode, b64url_encode
from mtoken.errors import (
    InvalidActivationCodeError,
    InvalidConfigurationError,
    InvalidProximityCodeError,
    InvalidQrCodeError,
)
from mtoken.pac import ProximityCode, parse_pac, parse_pac_deeplink, parse_pac_qr
from mtoken.qr import (
    MAX_DATA_FIELDS,
    QrAccountField,
    QrAmountField,
    QrDateField,
    QrEmptyField,
    QrFallbackField,
    QrField,
    QrNoteField,
    QrOperation,
    QrReferenceField,
    QrTextField,
    parse_qr_operation,
    qr_operation_to_dict,
)

from .support import dumps, fuzz, json_trees, mutated_base64, refused_or

# --- offline QR operations -------------------------------------------------------------

UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#: Field text without ``\``: the format cannot tell a trailing ``\`` from an escaped ``*``.
FIELD_TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\\\n\r"), max_size=12
)
LINE_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\\"))
qr_ish_text = st.lists(
    st.sampled_from(["\n", "*", "\\", "A1", "0", "1", "AD8bOO0Df73kNaIGb3Vmpg==", "B", "=="])
    | st.text(max_size=6),
    max_size=30,
).map("".join)


def _escape_field(text: str) -> str:
    return text.replace("*", "\\*")


@st.composite
def qr_fields(draw: st.DrawFn) -> tuple[str, QrField]:
    """One data field as text and as the value the parser must give back."""
    kind = draw(st.sampled_from(["A", "I", "D", "R", "N", "T", "fallback", "empty"]))
    if kind == "A":
        amount = draw(st.decimals(min_value=-(10**9), max_value=10**9, places=2))
        currency = draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3))
        return f"A{amount:f}{currency}", QrAmountField(Decimal(f"{amount:f}"), currency)
    if kind == "I":
        iban = draw(st.text(UPPER_ALNUM, min_size=1, max_size=34))
        bic = draw(st.none() | st.text(UPPER_ALNUM, min_size=1, max_size=11))
        return f"I{iban}" + (f",{bic}" if bic else ""), QrAccountField(iban, bic)
    if kind == "D":
        day = draw(st.dates(min_value=date(1000, 1, 1)))
        return f"D{day:%Y%m%d}", QrDateField(day)
    if kind == "empty":
        return "", QrEmptyField()
    text = draw(FIELD_TEXT)
    if kind == "fallback":
        letter = draw(st.sampled_from("BCEFGHJKLMOPSUVWXYZ"))
        return f"{letter}{_escape_field(text)}", QrFallbackField(text, letter)
    value: QrField = (
        QrReferenceField(text)
        if kind == "R"
        else QrNoteField(text)
        if kind == "N"
        else QrTextField(text)
    )
    return f"{kind}{_escape_field(text)}", value


@st.composite
def qr_codes(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A well-formed offline QR text and what it must parse to."""
    operation_id = draw(st.text(min_size=1).filter(lambda t: "\n" not in t))
    title, message = draw(LINE_TEXT), draw(LINE_TEXT)
    template = draw(st.integers(min_value=0, max_value=99))
    version = draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    fields = draw(st.lists(qr_fields(), max_size=MAX_DATA_FIELDS))
    flags = draw(st.sets(st.sampled_from("BXFC")))
    totp = draw(st.none() | st.text("0123456789", min_size=1, max_size=8))
    key = draw(st.sampled_from("01"))
    signature = draw(st.binary(min_size=64, max_size=255))
    nonce = b64encode(draw(st.binary(min_size=16, max_size=16)))
    data = "*".join([f"{version}{template}", *(text for text, _ in fields)])
    lines = [
        operation_id,
        title.replace("\n", "\\n"),
        message.replace("\n", "\\n"),
        data,
        "".join(sorted(flags)),
        *([] if totp is None else [totp]),
        nonce,
        key + b64encode(signature),
    ]
    expected = {
        "operation_id": operation_id,
        "title": title,
        "message": message,
        "template": template,
        "fields": tuple(value for _, value in fields),
        "flags": flags,
        "totp": totp,
        "signature": signature,
    }
    return "\n".join(lines), expected


@fuzz
@given(st.text() | qr_ish_text)
def test_qr_random_text_is_refused_with_the_typed_error(text: str) -> None:
    op = refused_or(parse_qr_operation, text, error=InvalidQrCodeError)
    if op is not None:
        assert isinstance(op, QrOperation)
        assert len(op.data.fields) <= MAX_DATA_FIELDS
        assert text.startswith(op.signed_data.decode())
        qr_operation_to_dict(op)


@fuzz
@given(qr_codes())
def test_qr_built_from_valid_fields_parses_back(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    op = parse_qr_operation(text)
    assert op.operation_id == expected["operation_id"]
    assert (op.title, op.message) == (expected["title"], expected["message"])
    assert op.data.template_id == expected["template"]
    assert op.data.fields == expected["fields"]
    assert op.totp == expected["totp"]
    assert op.signature == expected["signature"]
    assert op.flags.biometry == ("B" in expected["flags"])  # type: ignore[operator]
    assert op.signed_data + b64encode(op.signature).encode() == text.encode()


@fuzz
@given(qr_codes(), st.data())
def test_qr_mutated_lines_are_refused_with_the_typed_error(
    case: tuple[str, dict[str, object]], data: st.DataObject
) -> None:
    lines = case[0].split("\n")
    index = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    lines[index] = data.draw(st.text(max_size=20) | mutated_base64(lines[index]))
    if data.draw(st.booleans()):
        del lines[data.draw(st.integers(min_value=0, max_value=len(lines) - 1))]
    refused_or(parse_qr_operation, "\n".join(lines), error=InvalidQrCodeError)


# --- proximity (PAC) codes ----------------------------------------------------------------

urlish = st.lists(
    st.sampled_from(["app://", "op?", "oid=", "totp=", "potp=", "&", "%", "%2F", "=", ".", "eyJ"])
    | st.text(max_size=4),
    max_size=12,
).map("".join)
pac_values = st.text(min_size=1, max_size=20)


def _check_pac(text: str) -> None:
    for reader in (parse_pac_qr, parse_pac_deeplink):
        code = reader(text)
        assert code is None or (isinstance(code, ProximityCode) and code.operation_id)
    code = refused_or(parse_pac, text, error=InvalidProximityCodeError)
    assert code is None or code.operation_id


@fuzz
@given(st.text() | urlish)
def test_pac_random_text_is_a_code_none_or_the_typed_error(text: str) -> None:
    _check_pac(text)


@fuzz
@given(pac_values, st.none() | pac_values, st.sampled_from(["totp", "potp"]), st.booleans())
def test_pac_jwt_and_deeplink_built_from_random_values_parse_back(
    operation_id: str, totp: str | None, totp_key: str, as_deeplink: bool
) -> None:
    claims = {"oid": operation_id} | ({} if totp is None else {totp_key: totp})
    jwt = f"{b64url_encode(b'{}')}.{b64url_encode(dumps(claims))}.sig"
    if as_deeplink:
        query = f"oid={quote(operation_id, safe='')}"
        query += "" if totp is None else f"&{totp_key}={quote(totp, safe='')}"
        code = parse_pac_deeplink(f"bank://operation?{query}")
    else:
        code = parse_pac_qr(jwt)
    assert code == ProximityCode(operation_id, totp)


@fuzz
@given(json_trees(st.sampled_from(["oid", "totp", "potp"])))
def test_pac_jwt_with_random_claims_is_a_code_none_or_the_typed_error(claims: object) -> None:
    _check_pac(f"e30.{b64url_encode(dumps(claims))}.")


@fuzz
@given(pac_values, st.data())
def test_pac_mutated_jwt_is_a_code_none_or_the_typed_error(
    operation_id: str, data: st.DataObject
) -> None:
    payload = b64url_encode(dumps({"oid": operation_id, "potp": "12345678"}))
    _check_pac(f"e30.{data.draw(mutated_base64(payload))}.")


# --- activation codes ------------------------------------------------------------------

code_bytes = st.binary(min_size=ac.RANDOM_SIZE, max_size=ac.RANDOM_SIZE)
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@fuzz
@given(st.text() | st.text(BASE32 + "-#01 =+/", max_size=60))
def test_activation_code_random_text_is_refused_with_the_typed_error(text: str) -> None:
    code = refused_or(ac.parse_activation_code, text, error=InvalidActivationCodeError)
    if code is not None:
        assert ac.validate_activation_code(code.code)
        assert code.signature is None or len(code.signature) > 0


@fuzz
@given(code_bytes, st.none() | st.binary(min_size=1, max_size=80), st.booleans())
def test_generated_activation_code_parses_back(
    random_bytes: bytes, signature: bytes | None, sloppy: bool
) -> None:
    code = ac.generate_activation_code(random_bytes)
    typed = code.lower().replace("-", "") if sloppy else code
    text = typed if signature is None else f"{typed}#{b64encode(signature)}"
    assert ac.parse_activation_code(text) == ac.ActivationCode(code, signature)


@fuzz
@given(code_bytes, st.integers(min_value=0, max_value=ac.CODE_CHARS - 2), st.sampled_from(BASE32))
def test_activation_code_single_typo_is_refused(random_bytes: bytes, index: int, char: str) -> None:
    """CRC-16 catches every change of one 5-bit symbol (the last one carries 4 padding bits)."""
    chars = list(ac.generate_activation_code(random_bytes).replace("-", ""))
    assume(chars[index] != char)
    chars[index] = char
    typo = "".join(chars)
    assert refused_or(ac.parse_activation_code, typo, error=InvalidActivationCodeError) is None


# --- application configuration ---------------------------------------------------------

nonzero_16 = st.binary(min_size=16, max_size=16).filter(any)
b64ish = st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \n", max_size=120
)


@st.composite
def configs(draw: st.DrawFn) -> app_config.AppConfig:
    """A valid configuration: random key and secret, a real P-256 key in either SEC1 form."""
    master = keys.public_key_bytes(keys.generate_private_key(), compressed=draw(st.booleans()))
    return app_config.AppConfig(
        app_key=b64encode(draw(nonzero_16)),
        app_secret=b64encode(draw(nonzero_16)),
        master_public_key=master,
    )


@fuzz
@given(st.text() | b64ish)
def test_config_string_random_text_is_refused_with_the_typed_error(text: str) -> None:
    config = refused_or(app_config.parse_config_string, text, error=InvalidConfigurationError)
    if config is not None:
        assert app_config.parse_config_string(app_config.build_config_string(config)) == config


@fuzz
@given(configs())
def test_config_string_round_trips(config: app_config.AppConfig) -> None:
    assert app_config.parse_config_string(app_config.build_config_string(config)) == config
    assert (
        app_config.config_from_values(
            config.app_key, config.app_secret, config.master_public_key_b64
        )
        == config
    )


@fuzz
@given(configs(), st.data())
def test_config_string_mutated_bytes_are_refused_with_the_typed_error(
    config: app_config.AppConfig, data: st.DataObject
) -> None:
    raw = bytearray(b64decode(app_config.build_config_string(config)))
    index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    how = data.draw(st.sampled_from(("set", "cut", "insert", "truncate")))
    value = data.draw(st.integers(min_value=0, max_value=255))
    if how == "set":
        raw[index] = value
    elif how == "cut":
        del raw[index]
    elif how == "insert":
        raw.insert(index, value)
    else:
        del raw[index:]
    text = b64encode(bytes(raw))
    refused_or(app_config.parse_config_string, text, error=InvalidConfigurationError)


@fuzz
@given(
    st.text() | b64ish | st.binary(max_size=40).map(b64encode),
    st.text() | b64ish | st.binary(max_size=40).map(b64encode),
    st.text() | b64ish | st.binary(max_size=70).map(b64encode),
)
def test_config_from_random_values_is_refused_with_the_typed_error(
    app_key: str, app_secret: str, master: str
) -> None:
    config = refused_or(
        app_config.config_from_values, app_key, app_secret, master, error=InvalidConfigurationError
    )
    if config is not None:
        assert len(config.app_key_bytes) == app_config.APP_KEY_SIZE
        keys.load_public_key(config.master_public_key)
