"""Proximity-check (PAC) codes from QR codes, deeplinks and pasted text."""

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtoken.errors import InvalidProximityCodeError
from mtoken.pac import ProximityCode, parse_pac, parse_pac_deeplink, parse_pac_qr

OPERATION_ID = "3b9edfd2-4d82-477c-b4b3-20fa5c99c993"
HEADER = "eyJhbGciOiJub25lIiwidHlwZSI6IkpXVCJ9"


def jwt(payload: object, *, url_safe: bool = False, padded: bool = True) -> str:
    raw = json.dumps(payload).encode()
    encoded = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(raw).decode()
    return f"{HEADER}.{encoded if padded else encoded.rstrip('=')}"


# --- deeplinks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("app://operation?oid=abc&potp=12345678", ProximityCode("abc", "12345678")),
        ("app://operation?oid=abc&totp=12345678", ProximityCode("abc", "12345678")),
        ("app://operation?potp=11111111&oid=abc", ProximityCode("abc", "11111111")),
        ("app://operation?oid=abc", ProximityCode("abc", None)),
        ("app://operation?oid=abc&potp=", ProximityCode("abc", None)),
        ("app://operation?oid=a%2Fb%3D&totp=1", ProximityCode("a/b=", "1")),
        ("app://operation?oid=a+b&totp=1", ProximityCode("a+b", "1")),
        ("app://operation?oid=abc&totp=1#fragment", ProximityCode("abc", "1")),
        ("https://bank.example/pac?oid=abc&totp=1", ProximityCode("abc", "1")),
    ],
)
def test_deeplink_with_query_items(link: str, expected: ProximityCode) -> None:
    assert parse_pac_deeplink(link) == expected


def test_deeplink_with_a_jwt() -> None:
    link = "app://operation?code=" + jwt({"oid": OPERATION_ID, "potp": "14357458"})
    assert parse_pac_deeplink(link) == ProximityCode(OPERATION_ID, "14357458")


@pytest.mark.parametrize(
    "link",
    [
        "app://an-invalid-url.com",
        "app://operation?",
        "app://operation?code=abc",
        "app://operation?code",
        "app://operation?oid=&totp=1",
        "app://operation?code=" + jwt({"potp": "1"}),
        "http://[::1",
        "",
    ],
)
def test_not_a_deeplink_code(link: str) -> None:
    assert parse_pac_deeplink(link) is None


# --- QR codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"oid": OPERATION_ID, "potp": "14357458"}, ProximityCode(OPERATION_ID, "14357458")),
        ({"oid": OPERATION_ID, "totp": "14357458"}, ProximityCode(OPERATION_ID, "14357458")),
        ({"oid": OPERATION_ID, "totp": "1", "potp": "2"}, ProximityCode(OPERATION_ID, "1")),
        ({"oid": OPERATION_ID}, ProximityCode(OPERATION_ID, None)),
        ({"oid": OPERATION_ID, "potp": None, "iat": 1}, ProximityCode(OPERATION_ID, None)),
    ],
)
def test_jwt_qr_code(payload: dict[str, object], expected: ProximityCode) -> None:
    assert parse_pac_qr(jwt(payload)) == expected
    assert parse_pac_qr(jwt(payload, url_safe=True, padded=False)) == expected
    assert parse_pac_qr(jwt(payload) + ".signature") == expected


def test_url_safe_payload_characters() -> None:
    payload = {"oid": "??>>??", "totp": "1"}
    code = jwt(payload, url_safe=True, padded=False)
    assert "_" in code or "-" in code
    assert parse_pac_qr(code) == ProximityCode("??>>??", "1")


def test_deeplink_in_a_qr_code() -> None:
    code = parse_pac_qr("app://operation?oid=abc&potp=12345678")
    assert code == ProximityCode("abc", "12345678")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        HEADER,
        f"{HEADER}.",
        f"{HEADER}.!!!",
        f"{HEADER}.{base64.b64encode(b'not json').decode()}",
        f"{HEADER}.{base64.b64encode(bytes([0xFF, 0xFE])).decode()}",
        jwt(["oid", OPERATION_ID]),
        jwt({"oid": 123, "potp": "1"}),
        jwt({"oid": "", "potp": "1"}),
        jwt({"oid": OPERATION_ID, "potp": 14357458}),
        jwt({"oid": OPERATION_ID, "totp": ["1"]}),
        f"{HEADER}.{base64.b64encode(b'[' * 100_000).decode()}",
        "http://[::1",
    ],
)
def test_not_a_qr_code(text: str) -> None:
    assert parse_pac_qr(text) is None


# --- pasted text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        jwt({"oid": OPERATION_ID, "potp": "14357458"}),
        f"  app://operation?oid={OPERATION_ID}&potp=14357458\n",
        f"app://operation?c={jwt({'oid': OPERATION_ID, 'totp': '14357458'})}",
    ],
)
def test_parse_pac_accepts_what_a_user_pastes(text: str) -> None:
    assert parse_pac(text) == ProximityCode(OPERATION_ID, "14357458")


@pytest.mark.parametrize("text", ["", "   ", "12345678", "app://operation?x=y"])
def test_parse_pac_refuses_other_text(text: str) -> None:
    with pytest.raises(InvalidProximityCodeError, match="not a proximity code"):
        parse_pac(text)


# --- properties ---------------------------------------------------------------------------------

urlish = st.lists(
    st.sampled_from(["app://", "op?", "oid=", "totp=", "potp=", "&", "%", "%2F", "=", ".", "eyJ"])
    | st.text(max_size=4),
    max_size=12,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.text() | urlish)
def test_random_text_is_a_code_or_none_or_the_typed_error(text: str) -> None:
    for parser in (parse_pac_qr, parse_pac_deeplink):
        assert parser(text) is None or isinstance(parser(text), ProximityCode)
    try:
        code = parse_pac(text)
    except InvalidProximityCodeError:
        return
    assert code.operation_id
