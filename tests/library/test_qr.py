"""Offline QR operations: every parser rule, signature verification and the signed body."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtoken import keys
from mtoken.encoding import b64encode
from mtoken.errors import InvalidConfigurationError, InvalidQrCodeError, InvalidStateError
from mtoken.model import SignatureFactor
from mtoken.qr import (
    URI_ID_OFFLINE_AUTHORIZE,
    QrAccountField,
    QrAmountField,
    QrAnyAccountField,
    QrDateField,
    QrEmptyField,
    QrFallbackField,
    QrField,
    QrNoteField,
    QrOperation,
    QrReferenceField,
    QrTextField,
    allowed_offline_factors,
    field_to_dict,
    offline_signature_body,
    parse_qr_operation,
    qr_operation_to_dict,
    verify_qr_signature,
)

OPERATION_ID = "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6"
NONCE = "AD8bOO0Df73kNaIGb3Vmpg=="
DATA = "A1*A100CZK*ICZ2730300000001165254011*D20180425*Thello world"
FAKE_SIGNATURE = b64encode(bytes(range(70)))

MASTER_KEY = keys.generate_private_key()
ACTIVATION_KEY = keys.generate_private_key()


def qr_text(
    *,
    operation_id: str = OPERATION_ID,
    title: str = "Payment",
    message: str = "Please confirm this payment",
    data: str = DATA,
    flags: str = "BCFX",
    extra_lines: tuple[str, ...] = (),
    nonce: str = NONCE,
    key: str = "0",
    signature: str = FAKE_SIGNATURE,
) -> str:
    lines = [operation_id, title, message, data, flags, *extra_lines, nonce, f"{key}{signature}"]
    return "\n".join(lines)


def signed_qr(key_digit: str = "0", *, extra_lines: tuple[str, ...] = ()) -> str:
    signer = MASTER_KEY if key_digit == "0" else ACTIVATION_KEY
    unsigned = qr_text(extra_lines=extra_lines, key=key_digit, signature="")
    return unsigned + b64encode(keys.ecdsa_sign_der(signer, unsigned.encode()))


def data_fields(data: str) -> tuple[object, ...]:
    return parse_qr_operation(qr_text(data=data)).data.fields


# --- lines ----------------------------------------------------------------------------


def test_parses_every_line() -> None:
    op = parse_qr_operation(qr_text())

    assert op.operation_id == OPERATION_ID
    assert op.title == "Payment"
    assert op.message == "Please confirm this payment"
    assert op.data.version == "v1"
    assert op.data.template_id == 1
    assert op.data.source == DATA
    assert op.nonce == NONCE
    assert op.signing_key == "master"
    assert op.signature == bytes(range(70))
    assert op.totp is None
    assert not op.is_newer_format


def test_signed_data_is_the_text_without_the_base64_signature() -> None:
    text = qr_text()
    op = parse_qr_operation(text)
    assert op.signed_data == text.removesuffix(FAKE_SIGNATURE).encode()
    assert op.signed_data.endswith(b"\n0")


def test_eight_lines_carry_a_totp() -> None:
    op = parse_qr_operation(qr_text(extra_lines=("12345678",)))
    assert op.totp == "12345678"
    assert not op.is_newer_format


def test_more_lines_are_a_newer_format_and_the_totp_stays_on_line_five() -> None:
    op = parse_qr_operation(qr_text(extra_lines=("87654321", "future", "more")))
    assert op.totp == "87654321"
    assert op.is_newer_format
    assert op.nonce == NONCE


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("", (False, False, False, False)),
        ("B", (True, False, False, False)),
        ("X", (False, True, False, False)),
        ("F", (False, False, True, False)),
        ("C", (False, False, False, True)),
        ("CXFB", (True, True, True, True)),
        ("bxfc?", (False, False, False, False)),
    ],
)
def test_flags(flags: str, expected: tuple[bool, bool, bool, bool]) -> None:
    parsed = parse_qr_operation(qr_text(flags=flags)).flags
    assert (
        parsed.biometry,
        parsed.flip_buttons,
        parsed.fraud_warning,
        parsed.block_when_on_call,
    ) == expected


def test_title_and_message_unescape_newlines_then_backslashes() -> None:
    op = parse_qr_operation(qr_text(title="Line 1\\nLine 2", message="C:\\\\temp \\\\n"))
    assert op.title == "Line 1\nLine 2"
    assert op.message == "C:\\temp \\\n"


# --- errors, and the order the rules are checked in -----------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\n".join(["id", "t", "m", DATA, "", NONCE]), "at least 7 lines"),
        (qr_text(operation_id=""), "operation id"),
        (qr_text(key="", signature=""), "signature is missing"),
        (qr_text(key="2"), "signing key"),
        (qr_text(key="M", signature="EYCIQDby1Uq+Maxi"), "signing key"),
        (qr_text(signature="not base64!"), "not valid Base64"),
        (qr_text(signature=b64encode(bytes(63))), "64 to 255 bytes"),
        (qr_text(signature=b64encode(bytes(256))), "64 to 255 bytes"),
        (qr_text(nonce=""), "nonce"),
        (qr_text(nonce=b64encode(bytes(15))), "nonce"),
        (qr_text(nonce=b64encode(bytes(17))), "nonce"),
        (qr_text(nonce="AD8bOO0Df73kNaIGb3Vmpg"), "nonce"),
        (qr_text(data=""), "version letter"),
        (qr_text(data="a1"), "version letter"),
        (qr_text(data="*A100CZK"), "version letter"),
        (qr_text(data="A"), "template id"),
        (qr_text(data="A100"), "template id"),
        (qr_text(data="A-1"), "template id"),
        (qr_text(data="Ax"), "template id"),
        (qr_text(data="A1*T1*T2*T3*T4*T5*T6*T7"), "more than 6 fields"),
    ],
)
def test_each_rule_has_its_message(text: str, message: str) -> None:
    with pytest.raises(InvalidQrCodeError, match=message):
        parse_qr_operation(text)


@pytest.mark.parametrize(
    ("text", "first_failing_rule"),
    [
        (qr_text(operation_id="", key="9", nonce="", data=""), "operation id"),
        (qr_text(key="9", nonce="", data=""), "signing key"),
        (qr_text(nonce="", data=""), "nonce"),
        (qr_text(data="A1*Dnot-a-date*T1*T2*T3*T4*T5*T6"), "date"),
    ],
)
def test_rules_are_checked_in_order(text: str, first_failing_rule: str) -> None:
    with pytest.raises(InvalidQrCodeError, match=first_failing_rule):
        parse_qr_operation(text)


# --- operation data -------------------------------------------------------------------


def test_every_field_type() -> None:
    fields = data_fields(
        "B42*A-50000.16gbp*IAT611904300234573201,BKAUATWW*D20240229*Q123/0100*Rref"
    )
    assert fields == (
        QrAmountField(Decimal("-50000.16"), "GBP"),
        QrAccountField("AT611904300234573201", "BKAUATWW"),
        QrDateField(date(2024, 2, 29)),
        QrAnyAccountField("123/0100"),
        QrReferenceField("ref"),
    )
    more = data_fields("A0*Nnote*Ttext*Zzulu*")
    assert more == (
        QrNoteField("note"),
        QrTextField("text"),
        QrFallbackField("zulu", "Z"),
        QrEmptyField(),
    )


def test_versions_and_template_ids() -> None:
    newer = parse_qr_operation(qr_text(data="B99")).data
    assert (newer.version, newer.template_id, newer.fields) == ("vX", 99, ())
    first = parse_qr_operation(qr_text(data="A00")).data
    assert (first.version, first.template_id) == ("v1", 0)


@pytest.mark.parametrize(
    ("raw", "amount", "currency"),
    [
        ("A100CZK", "100", "CZK"),
        ("A.325CZK", "0.325", "CZK"),
        ("A-50000.16GBP", "-50000.16", "GBP"),
        ("A+7eur", "7", "EUR"),
        ("A1e3USD", "1000", "USD"),
        ("A5.EUR", "5", "EUR"),
    ],
)
def test_amounts(raw: str, amount: str, currency: str) -> None:
    assert data_fields(f"A1*{raw}") == (QrAmountField(Decimal(amount), currency),)


@pytest.mark.parametrize(
    "raw",
    [
        "A",
        "ACZK",
        "A1CZ",
        "AxCZK",
        "ANaNCZK",
        "AInfinityCZK",
        "A1_000CZK",
        "A 1CZK",
        "A١٢CZK",
        "A.CZK",
    ],
)
def test_bad_amounts(raw: str) -> None:
    with pytest.raises(InvalidQrCodeError, match="amount"):
        data_fields(f"A1*{raw}")


@pytest.mark.parametrize(
    ("raw", "iban", "bic"),
    [
        ("ISOMEIBAN", "SOMEIBAN", None),
        ("ISOMEIBAN1234,BIC", "SOMEIBAN1234", "BIC"),
        ("ISOMEIBAN,", "SOMEIBAN", None),
    ],
)
def test_accounts(raw: str, iban: str, bic: str | None) -> None:
    assert data_fields(f"A1*{raw}") == (QrAccountField(iban, bic),)


@pytest.mark.parametrize("raw", ["I", "I,", "Isomeiban", "IIBAN,bic", "IA,B,C", "IIBAN 1"])
def test_bad_accounts(raw: str) -> None:
    with pytest.raises(InvalidQrCodeError, match="account"):
        data_fields(f"A1*{raw}")


@pytest.mark.parametrize(
    "raw",
    [
        "D",
        "D0",
        "D2018042",
        "D201804250",
        "D20180229",
        "D20181301",
        "D2018-4-5",
        "D２０１８０４２５",
    ],
)
def test_bad_dates(raw: str) -> None:
    with pytest.raises(InvalidQrCodeError, match="date"):
        data_fields(f"A1*{raw}")


def test_empty_fields_are_kept_in_place() -> None:
    assert data_fields("A1*A10CZK****Ttest") == (
        QrAmountField(Decimal(10), "CZK"),
        QrEmptyField(),
        QrEmptyField(),
        QrEmptyField(),
        QrTextField("test"),
    )


def test_escaped_asterisks_newlines_and_backslashes_in_text_fields() -> None:
    fields = data_fields("A1*Ta\\*b\\*c*NLine 1\\nLine 2*Rx\\\\y*Qp\\*q*Wk\\\\")
    assert fields == (
        QrTextField("a*b*c"),
        QrNoteField("Line 1\nLine 2"),
        QrReferenceField("x\\y"),
        QrAnyAccountField("p*q"),
        QrFallbackField("k\\", "W"),
    )


def test_six_fields_is_the_maximum() -> None:
    assert len(data_fields("A1*T1*T2*T3*T4*T5*T6")) == 6


# --- describing, verifying and signing ------------------------------------------------


def test_to_dict_describes_the_operation_without_secrets() -> None:
    op = parse_qr_operation(qr_text(extra_lines=("12345678",)))
    described = qr_operation_to_dict(op)

    assert described == op.to_dict()
    assert described["data"]["fields"][0] == {"type": "amount", "amount": "100", "currency": "CZK"}
    assert described["data"]["fields"][2] == {"type": "date", "date": "2018-04-25"}
    assert described["totp"] == "12345678"
    assert "nonce" not in described
    assert "signature" not in described


@pytest.mark.parametrize(
    ("data_field", "expected"),
    [
        (QrEmptyField(), {"type": "empty"}),
        (QrFallbackField("v", "Z"), {"type": "fallback", "value": "v", "identifier": "Z"}),
        (QrAnyAccountField("1/2"), {"type": "anyAccount", "value": "1/2"}),
        (QrAccountField("IBAN"), {"type": "account", "iban": "IBAN", "bic": None}),
    ],
)
def test_field_to_dict(data_field: QrField, expected: dict[str, object]) -> None:
    assert field_to_dict(data_field) == expected


def test_master_signature_verifies() -> None:
    op = parse_qr_operation(signed_qr("0"))
    master = keys.public_key_bytes(MASTER_KEY)
    assert verify_qr_signature(op, master, None)
    assert not verify_qr_signature(op, keys.public_key_bytes(ACTIVATION_KEY), None)


def test_personalized_signature_uses_the_activation_key() -> None:
    op = parse_qr_operation(signed_qr("1", extra_lines=("12345678",)))
    master = keys.public_key_bytes(MASTER_KEY)
    assert op.signing_key == "personalized"
    assert verify_qr_signature(op, master, keys.public_key_bytes(ACTIVATION_KEY))
    assert not verify_qr_signature(op, master, master)


def test_personalized_signature_without_an_activation_key() -> None:
    op = parse_qr_operation(signed_qr("1"))
    with pytest.raises(InvalidStateError):
        verify_qr_signature(op, keys.public_key_bytes(MASTER_KEY), None)


def test_tampered_text_does_not_verify() -> None:
    text = signed_qr("0").replace("Payment\n", "Payment!\n", 1)
    op = parse_qr_operation(text)
    assert not verify_qr_signature(op, keys.public_key_bytes(MASTER_KEY), None)


def test_a_fake_signature_does_not_verify() -> None:
    op = parse_qr_operation(qr_text())
    assert not verify_qr_signature(op, keys.public_key_bytes(MASTER_KEY), None)


def test_a_broken_public_key_is_a_configuration_error() -> None:
    op = parse_qr_operation(signed_qr("0"))
    with pytest.raises(InvalidConfigurationError):
        verify_qr_signature(op, b"\x04" + bytes(64), None)


def test_offline_signature_body() -> None:
    plain = parse_qr_operation(qr_text())
    with_totp = parse_qr_operation(qr_text(extra_lines=("12345678",)))

    assert offline_signature_body(plain) == f"{OPERATION_ID}&{DATA}".encode()
    assert offline_signature_body(with_totp) == f"{OPERATION_ID}&{DATA}&12345678".encode()
    assert offline_signature_body(plain, "87654321") == f"{OPERATION_ID}&{DATA}&87654321".encode()


def test_offline_body_keeps_the_data_exactly_as_scanned() -> None:
    data = "A1*Ta\\*b*NLine\\n2"
    op = parse_qr_operation(qr_text(data=data))
    assert offline_signature_body(op) == f"{OPERATION_ID}&{data}".encode()


def test_offline_approval_is_always_two_factor() -> None:
    with_biometry = parse_qr_operation(qr_text(flags="B"))
    without = parse_qr_operation(qr_text(flags="XFC"))

    assert allowed_offline_factors(with_biometry) == (
        SignatureFactor.POSSESSION_KNOWLEDGE,
        SignatureFactor.POSSESSION_BIOMETRY,
    )
    assert allowed_offline_factors(without) == (SignatureFactor.POSSESSION_KNOWLEDGE,)
    assert URI_ID_OFFLINE_AUTHORIZE == "/operation/authorize/offline"


# --- properties -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_random_text_raises_only_invalid_qr(text: str) -> None:
    try:
        op = parse_qr_operation(text)
    except InvalidQrCodeError:
        return
    assert isinstance(op, QrOperation)


data_pieces = st.lists(
    st.sampled_from(
        ["A", "I", "D", "Q", "R", "N", "T", "Z", "*", "\\", ",", ".", "-", "n", "0", "9"]
    )
    | st.text(max_size=3),
    max_size=25,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(data_pieces, st.lists(st.text(max_size=10), max_size=3))
def test_random_operation_data_raises_only_invalid_qr(data: str, extra: list[str]) -> None:
    text = qr_text(
        data=data.replace("\n", ""), extra_lines=tuple(e.replace("\n", "") for e in extra)
    )
    try:
        op = parse_qr_operation(text)
    except InvalidQrCodeError:
        return
    assert op.data.source == data.replace("\n", "")
    assert len(op.data.fields) <= 6
