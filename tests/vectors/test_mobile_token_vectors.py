"""Vectors for the offline QR operation parser and the proximity-check (PAC) parser.

Each case's ``expect`` names the fields it checks (README of the vector set):
only those are compared, amounts as decimals, so the same test runs against
any vector set of this format.
"""

from decimal import Decimal
from typing import Any

import pytest

from mtoken.errors import InvalidQrCodeError
from mtoken.pac import parse_pac_deeplink, parse_pac_qr
from mtoken.qr import parse_qr_operation, qr_operation_to_dict

pytestmark = pytest.mark.vectors

_PAC_PARSERS = {"qr": parse_pac_qr, "deeplink": parse_pac_deeplink}


def _assert_matches(expected: Any, actual: Any, path: str = "") -> None:
    """Compare what ``expected`` lists; ``amount`` values compare as decimals."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} is not produced by the parser"
            _assert_matches(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), path
        assert len(actual) == len(expected), path
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            _assert_matches(want, got, f"{path}[{index}]")
    elif path.endswith(".amount"):
        assert Decimal(str(actual)) == Decimal(str(expected)), path
    else:
        assert actual == expected, path


@pytest.mark.vector_file("mobile-token/qr-operations.json")
def test_qr_operation(case: dict[str, Any]) -> None:
    expect = dict(case["expect"])
    if not expect.pop("valid"):
        with pytest.raises(InvalidQrCodeError):
            parse_qr_operation(case["qr"])
        return
    op = parse_qr_operation(case["qr"])
    actual = qr_operation_to_dict(op) | {
        "nonce": op.nonce,
        "signedData": op.signed_data.decode("utf-8"),
    }
    _assert_matches(expect, actual)


@pytest.mark.vector_file("mobile-token/pac.json")
def test_proximity_code(case: dict[str, Any]) -> None:
    code = _PAC_PARSERS[case["kind"]](case["input"])
    if case["expect"] is None:
        assert code is None
        return
    assert code is not None
    _assert_matches(case["expect"], {"operationId": code.operation_id, "totp": code.totp})
