"""The operation model: attributes, screens, leniency, dates and the wire round trip."""

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtoken.dates import format_datetime, format_datetime_z, parse_datetime
from mtoken.errors import BadResponseError
from mtoken.model import (
    AlertAttribute,
    AmountAttribute,
    AmountConversionAttribute,
    GenericPostApprovalScreen,
    HeadingAttribute,
    ImageAttribute,
    KeyValueAttribute,
    MerchantRedirectPostApprovalScreen,
    NoteAttribute,
    Operation,
    OperationStatus,
    PartyInfoAttribute,
    PreApprovalScreenType,
    ProximityCheck,
    ProximityCheckType,
    ReviewPostApprovalScreen,
    SignatureFactor,
    SignatureType,
    UnknownAttribute,
    parse_attribute,
    parse_operation,
    parse_operation_list,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "operations"
FIXTURE_FILES = sorted(path.name for path in FIXTURES.glob("*.json"))


def load_raw(name: str) -> list[dict[str, Any]]:
    raw: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text("utf-8"))["responseObject"]
    return raw


def load(name: str) -> list[Operation]:
    return parse_operation_list(load_raw(name))


def minimal_operation(**changes: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "id": "op-1",
        "name": "login",
        "data": "A2",
        "allowedSignatureType": {"type": "2FA", "variants": ["possession_knowledge"]},
        "formData": {"title": "Log in", "message": "Log in?", "attributes": []},
    }
    operation.update(changes)
    return operation


# --- attributes ------------------------------------------------------------------------


def test_payment_attributes_are_typed() -> None:
    payment = load("list-payment-login.json")[0]
    heading, amount, account, note = payment.form_data.attributes

    assert heading == HeadingAttribute("operation.heading", "Payment details", level=1)
    assert isinstance(amount, AmountAttribute)
    assert amount.money.amount == Decimal("1250.5")
    assert amount.money.currency == "EUR"
    assert amount.money.display_amount == "1,250.50"
    assert amount.money.display_currency == "€"
    assert amount.money.value_formatted == "€1,250.50"
    assert account == KeyValueAttribute(
        "operation.account", "To account", "CZ65 0800 0000 1920 0014 5399"
    )
    assert note == NoteAttribute("operation.note", "Note", "Rent March 2024")


def test_party_info_and_image_attributes() -> None:
    login = load("list-payment-login.json")[1]
    party, image, _ = login.form_data.attributes

    assert isinstance(party, PartyInfoAttribute)
    assert party.party_info.name == "Internet Banking"
    assert party.party_info.logo_url == "https://bank.example/static/logo.png"
    assert party.party_info.website_url == "https://ib.bank.example"
    assert isinstance(image, ImageAttribute)
    assert image.thumbnail_url.endswith("thumb/50.08,14.42.png")
    assert image.original_url is not None


def test_amount_conversion_attribute() -> None:
    conversion = load("conversion-proximity.json")[0].form_data.attributes[0]

    assert isinstance(conversion, AmountConversionAttribute)
    assert conversion.dynamic is True
    assert conversion.source.amount == Decimal(100)
    assert conversion.source.display_currency == "$"
    assert conversion.target.amount == Decimal("2298.77")
    assert conversion.target.value_formatted == "2 298,77 Kč"


def test_legacy_amount_without_formatting_falls_back_to_raw_values() -> None:
    fee = load("conversion-proximity.json")[0].form_data.attributes[1]

    assert isinstance(fee, AmountAttribute)
    assert fee.money.display_amount == "25"
    assert fee.money.display_currency == "CZK"


def test_amount_with_only_formatted_values() -> None:
    amount = load("history-screens.json")[0].form_data.attributes[0]

    assert isinstance(amount, AmountAttribute)
    assert amount.money.amount is None
    assert amount.money.display_amount == "10.00"


def test_alert_is_typed_unknown_and_malformed_attributes_keep_only_their_label() -> None:
    attributes = load("conversion-proximity.json")[0].form_data.attributes

    assert attributes[2:] == (
        AlertAttribute(
            "operation.alert",
            "Watch out",
            alert_type="WARNING",
            message="You have never paid this account before.",
            title="New payee",
        ),
        UnknownAttribute("operation.carousel", "Pictures", "CAROUSEL"),
        UnknownAttribute("operation.broken", "Broken value", "KEY_VALUE"),
    )


@pytest.mark.parametrize(
    "attribute",
    [
        {"type": "AMOUNT", "id": "a", "label": "L", "currency": "CZK"},
        {"type": "AMOUNT", "id": "a", "label": "L", "amount": 10},
        {"type": "AMOUNT", "id": "a", "label": "L", "amount": "10", "currency": "CZK"},
        {"type": "AMOUNT", "id": "a", "label": "L", "amount": True, "currency": "CZK"},
        {"type": "AMOUNT", "id": "a", "label": "L", "amount": float("nan"), "currency": "CZK"},
        {"type": "AMOUNT_CONVERSION", "id": "a", "label": "L", "sourceAmount": 1},
        {"type": "KEY_VALUE", "id": "a", "label": "L", "value": 12},
        {"type": "NOTE", "id": "a", "label": "L"},
        {"type": "HEADING", "id": "a", "label": "L", "level": "big"},
        {"type": "PARTY_INFO", "id": "a", "label": "L", "partyInfo": {"name": "Shop"}},
        {"type": "PARTY_INFO", "id": "a", "label": "L", "partyInfo": "Shop"},
        {"type": "IMAGE", "id": "a", "label": "L", "originalUrl": "https://x.example/a.png"},
    ],
    ids=lambda attribute: f"{attribute['type']}-{sorted(attribute)}",
)
def test_malformed_attribute_becomes_unknown(attribute: dict[str, Any]) -> None:
    assert parse_attribute(attribute) == UnknownAttribute("a", "L", attribute["type"])


@pytest.mark.parametrize("item", [None, 3, "AMOUNT", ["AMOUNT"]])
def test_attribute_that_is_not_an_object_becomes_unknown(item: Any) -> None:
    assert parse_attribute(item) == UnknownAttribute("", "", "")


def test_attribute_without_id_or_label_is_still_shown() -> None:
    assert parse_attribute({"type": "NOTE", "note": "hi"}) == NoteAttribute("", "", "hi")


def test_attributes_that_are_not_a_list_read_as_none() -> None:
    form = {"title": "T", "message": "M", "attributes": {"type": "NOTE"}}
    assert parse_operation(minimal_operation(formData=form)).form_data.attributes == ()


def test_missing_attributes_read_as_none() -> None:
    form = {"title": "T", "message": "M"}
    assert parse_operation(minimal_operation(formData=form)).form_data.attributes == ()


# --- screens -------------------------------------------------------------------------------


def test_info_pre_approval_and_merchant_redirect_post_approval() -> None:
    login = load("list-payment-login.json")[1]
    assert login.ui is not None
    pre, post = login.ui.pre_approval_screen, login.ui.post_approval_screen

    assert pre is not None
    assert pre.type is PreApprovalScreenType.INFO
    assert pre.approval_type == "SLIDER"
    assert pre.items is None
    assert post == MerchantRedirectPostApprovalScreen(
        heading="Thank you",
        message="You are logged in.",
        redirect_text="Back to Internet Banking",
        redirect_url="https://ib.bank.example/return",
        countdown=5,
    )
    assert not login.requires_proximity_check


def test_qr_scan_pre_approval_requires_a_proximity_check_and_review_shows_attributes() -> None:
    operation = load("conversion-proximity.json")[0]
    assert operation.ui is not None
    post = operation.ui.post_approval_screen

    assert operation.requires_proximity_check
    assert operation.ui.flip_buttons is True
    assert isinstance(post, ReviewPostApprovalScreen)
    assert post.attributes[0] == NoteAttribute("operation.note", "Note", "Invoice 2024-117")
    assert isinstance(post.attributes[1], AmountAttribute)


def test_warning_with_items_and_generic_post_approval_payload() -> None:
    rejected = load("history-screens.json")[0]
    assert rejected.ui is not None
    pre, post = rejected.ui.pre_approval_screen, rejected.ui.post_approval_screen

    assert pre is not None
    assert pre.type is PreApprovalScreenType.WARNING
    assert pre.items is not None
    assert len(pre.items) == 2
    assert post == GenericPostApprovalScreen(
        "GENERIC",
        "Done",
        "Thank you.",
        {"customMessage": "See you", "nested": {"list": [1, 2.5, None, True]}},
    )


def test_unknown_screen_types_read_as_unknown_and_generic() -> None:
    access = load("history-screens.json")[1]
    assert access.ui is not None
    pre, post = access.ui.pre_approval_screen, access.ui.post_approval_screen

    assert pre is not None
    assert pre.type is PreApprovalScreenType.UNKNOWN
    assert post == GenericPostApprovalScreen(
        "CONFETTI", "Opened", "The door is open.", ["red", "green"]
    )


@pytest.mark.parametrize(
    "ui",
    [
        {"preApprovalScreen": {"type": "INFO", "message": "no heading"}},
        {"preApprovalScreen": {"type": "INFO", "heading": "H", "message": "M", "items": "x"}},
        {"preApprovalScreen": "QR_SCAN"},
        {"postApprovalScreen": {"type": "REVIEW", "heading": "H", "message": "M"}},
        {
            "postApprovalScreen": {
                "type": "MERCHANT_REDIRECT",
                "heading": "H",
                "message": "M",
                "payload": {"redirectText": "Back", "redirectUrl": "https://x.example"},
            }
        },
        {"flipButtons": "yes"},
        [],
    ],
)
def test_malformed_ui_fails_the_operation(ui: Any) -> None:
    with pytest.raises(BadResponseError, match="ui"):
        parse_operation(minimal_operation(ui=ui))


def test_unknown_ui_keys_are_ignored() -> None:
    operation = parse_operation(minimal_operation(ui={"newHint": 1, "flipButtons": True}))
    assert operation.ui is not None
    assert operation.ui.flip_buttons is True


# --- the operation --------------------------------------------------------------------------


def test_operation_fields() -> None:
    payment = load("list-payment-login.json")[0]

    assert payment.id == "930febe7-f350-419a-8bc0-c8883e7f71e3"
    assert payment.name == "authorize_payment"
    assert payment.data.startswith("A1*A1250.50EUR*")
    assert payment.status is OperationStatus.PENDING
    assert payment.created == datetime(2024, 3, 12, 9, 14, 40, tzinfo=UTC)
    assert payment.expires == datetime(2024, 3, 12, 9, 19, 40, tzinfo=UTC)
    assert payment.allowed_signature.type is SignatureType.TWO_FACTORS
    assert payment.form_data.title == "Confirm payment"
    assert payment.form_data.result_texts is not None
    assert payment.form_data.result_texts.reject == "The payment was rejected."
    assert payment.ui is not None
    assert payment.ui.block_approval_on_call is True
    assert payment.extra == {}


def test_unknown_top_level_fields_are_kept() -> None:
    login = load("list-payment-login.json")[1]

    assert login.extra == {
        "channel": "web",
        "riskScore": 12,
        "device": {"browser": "Firefox", "os": "Linux"},
    }
    assert login.to_dict()["device"] == {"browser": "Firefox", "os": "Linux"}


def test_proximity_check_from_a_server_is_ignored() -> None:
    raw = minimal_operation(proximityCheck={"otp": "12345678"})
    operation = parse_operation(raw)
    assert operation.extra == {}
    assert "proximityCheck" not in operation.to_dict()


def test_status_reason_and_unknown_status() -> None:
    assert load("history-screens.json")[0].status_reason == "POSSIBLE_FRAUD"
    assert parse_operation(minimal_operation(status="ARCHIVED")).status == "ARCHIVED"
    assert parse_operation(minimal_operation()).status is None


@pytest.mark.parametrize(
    ("signature", "allowed", "refused"),
    [
        ({"type": "1FA", "variants": []}, ["possession"], ["possession_knowledge"]),
        ({"type": "1FA"}, ["possession"], ["possession_biometry"]),
        (
            {"type": "2FA", "variants": ["possession_knowledge"]},
            ["possession_knowledge"],
            ["possession", "possession_biometry"],
        ),
        (
            {"type": "2FA", "variants": ["possession_knowledge", "possession_biometry"]},
            ["possession_knowledge", "possession_biometry"],
            ["possession"],
        ),
    ],
)
def test_allowed_factors(signature: dict[str, Any], allowed: list[str], refused: list[str]) -> None:
    operation = parse_operation(minimal_operation(allowedSignatureType=signature))
    assert all(operation.allows(factor) for factor in allowed)
    assert not any(operation.allows(factor) for factor in refused)


def test_is_expired_is_relative_to_the_given_time() -> None:
    payment = load("list-payment-login.json")[0]
    assert payment.expires is not None

    assert not payment.is_expired(payment.expires - timedelta(seconds=1))
    assert payment.is_expired(payment.expires)
    assert not parse_operation(minimal_operation()).is_expired(datetime.now(UTC))


def test_summary_is_small_and_json_ready() -> None:
    login = load("list-payment-login.json")[1]

    assert login.summary() == {
        "id": "2c4a1e7b-7f0d-4f4f-9f6a-6c3d5a1b9e20",
        "name": "login",
        "title": "Log in to Internet Banking",
        "message": "Are you logging in to Internet Banking from Firefox on Linux?",
        "expires": "2024-03-12T09:20:00+00:00",
        "allowed_factors": ["possession"],
    }
    json.dumps(login.summary())


def test_proximity_check_request_body() -> None:
    check = ProximityCheck(
        "56725494", ProximityCheckType.QR_CODE, datetime(2023, 10, 27, 11, 4, 15, tzinfo=UTC)
    )
    sent = datetime(2023, 10, 27, 13, 4, 20, tzinfo=UTC) + timedelta(hours=-2)

    assert check.to_request(sent) == {
        "otp": "56725494",
        "type": "QR_CODE",
        "timestampReceived": "2023-10-27T11:04:15Z",
        "timestampSent": "2023-10-27T11:04:20Z",
    }


# --- required fields and lists ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": None}, "id"),
        ({"id": 7}, "id"),
        ({"name": None}, "name"),
        ({"data": ["A1"]}, "data"),
        ({"allowedSignatureType": None}, "allowedSignatureType"),
        ({"allowedSignatureType": {"type": "3FA", "variants": []}}, "allowedSignatureType.type"),
        ({"allowedSignatureType": {"type": "2FA", "variants": "all"}}, "variants"),
        ({"formData": None}, "formData"),
        ({"formData": {"message": "M"}}, "formData.title"),
        ({"formData": {"title": "T", "message": 1}}, "formData.message"),
        ({"status": 1}, "status"),
        ({"statusReason": False}, "statusReason"),
        ({"operationExpires": "tomorrow"}, "operationExpires"),
        ({"operationCreated": "2024-03-12T09:14:40"}, "operationCreated"),
    ],
)
def test_bad_required_field_is_named(changes: dict[str, Any], field: str) -> None:
    raw = minimal_operation(**changes)
    raw = {key: value for key, value in raw.items() if value is not None}
    with pytest.raises(BadResponseError, match=field):
        parse_operation(raw)


@pytest.mark.parametrize("value", [None, "op", 1, ["op"]])
def test_an_operation_must_be_an_object(value: Any) -> None:
    with pytest.raises(BadResponseError, match="object"):
        parse_operation(value)


@pytest.mark.parametrize("value", [None, {}, "[]", {"responseObject": []}])
def test_the_list_must_be_an_array(value: Any) -> None:
    with pytest.raises(BadResponseError, match="array"):
        parse_operation_list(value)


def test_one_bad_operation_fails_the_list_and_is_named() -> None:
    raw = load_raw("list-payment-login.json")
    del raw[1]["data"]
    with pytest.raises(
        BadResponseError, match=r"#1 \(2c4a1e7b-7f0d-4f4f-9f6a-6c3d5a1b9e20\).*data"
    ):
        parse_operation_list(raw)


def test_empty_list() -> None:
    assert parse_operation_list([]) == []


# --- dates -------------------------------------------------------------------------------------

INSTANT = datetime(2018, 7, 2, 14, 43, 13, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-07-02T14:43:13+0000", INSTANT),
        ("2018-07-02T14:43:13Z", INSTANT),
        ("2018-07-02T14:43:13+00:00", INSTANT),
        ("2018-07-02T16:43:13+0200", INSTANT),
        ("2018-07-02T09:43:13-05:00", INSTANT),
        ("2018-07-02T14:43:13.250Z", INSTANT + timedelta(milliseconds=250)),
        ("2018-07-02T14:43:13.123456789+0000", INSTANT + timedelta(microseconds=123456)),
        (1530542593000, INSTANT),
        (1530542593250, INSTANT + timedelta(milliseconds=250)),
    ],
)
def test_every_accepted_date_form(text: str | int, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "2018-07-02T14:43:13",
        "2018-07-02",
        "2018-13-02T14:43:13Z",
        "2018-07-02 14:43:13Z",
        "20180702T144313Z",
        "yesterday",
        "",
        True,
        None,
        [2018],
        float("inf"),
        10**30,
    ],
)
def test_invalid_dates(value: Any) -> None:
    with pytest.raises(BadResponseError):
        parse_datetime(value)


def test_date_formats_read_back() -> None:
    moment = datetime(2024, 3, 12, 10, 4, 30, 123456, tzinfo=UTC)
    assert parse_datetime(format_datetime(moment)) == moment
    assert format_datetime_z(moment) == "2024-03-12T10:04:30Z"


def test_epoch_and_offset_dates_in_a_fixture() -> None:
    rejected, access, _ = load("history-screens.json")
    assert rejected.created == datetime(2024, 3, 12, 10, 0, tzinfo=UTC)
    assert access.created == datetime(2024, 3, 11, 19, 0, tzinfo=UTC)


# --- round trip --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_to_dict_round_trips_through_json(name: str) -> None:
    for operation in load(name):
        wire = json.loads(json.dumps(operation.to_dict()))
        assert parse_operation(wire) == operation


def test_to_dict_uses_the_wire_names() -> None:
    wire = load("conversion-proximity.json")[0].to_dict()

    assert wire["operationExpires"] == "2024-03-12T10:04:30.123456+00:00"
    assert wire["allowedSignatureType"] == {"type": "2FA", "variants": ["possession_knowledge"]}
    assert wire["formData"]["attributes"][0]["targetCurrencyFormatted"] == "Kč"
    # An attribute this client shows as UNKNOWN is written back as the server sent it.
    assert wire["formData"]["attributes"][2] == {
        "type": "ALERT",
        "id": "operation.alert",
        "label": "Watch out",
        "alertType": "WARNING",
        "title": "New payee",
        "message": "You have never paid this account before.",
    }
    assert wire["ui"]["preApprovalScreen"]["type"] == "QR_SCAN"
    assert "someFutureHint" not in wire["ui"]
    assert "statusReason" not in wire


def test_to_dict_keeps_formatted_values_and_omits_absent_ones() -> None:
    raw = load_raw("list-payment-login.json")[0]
    wire = parse_operation(copy.deepcopy(raw)).to_dict()
    assert wire["formData"] == raw["formData"]
    assert wire["ui"] == raw["ui"]


def test_factor_constants_are_plain_strings() -> None:
    assert SignatureFactor.POSSESSION_BIOMETRY == "possession_biometry"
    assert json.dumps(list(SignatureFactor)) == (
        '["possession", "possession_knowledge", "possession_biometry"]'
    )


# --- properties ---------------------------------------------------------------------------------

KNOWN_KEYS = [
    "id",
    "name",
    "data",
    "status",
    "statusReason",
    "operationCreated",
    "operationExpires",
    "allowedSignatureType",
    "type",
    "variants",
    "formData",
    "title",
    "message",
    "attributes",
    "label",
    "amount",
    "currency",
    "ui",
    "preApprovalScreen",
    "postApprovalScreen",
    "payload",
    "heading",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["2FA", "1FA", "AMOUNT", "REVIEW", "QR_SCAN", "2024-01-01T00:00:00Z"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=5), children, max_size=6),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_random_json_raises_only_bad_response(value: Any) -> None:
    try:
        operation = parse_operation(value)
    except BadResponseError:
        return
    assert isinstance(operation, Operation)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([op for name in FIXTURE_FILES for op in load_raw(name)]),
    st.sampled_from(KNOWN_KEYS),
    json_values,
)
def test_mutated_operations_fail_only_with_bad_response_and_round_trip(
    raw: dict[str, Any], key: str, value: Any
) -> None:
    mutated = copy.deepcopy(raw)
    mutated[key] = value
    try:
        operation = parse_operation(mutated)
    except BadResponseError:
        return
    assert parse_operation(json.loads(json.dumps(operation.to_dict()))) == operation
