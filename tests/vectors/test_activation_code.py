"""Vectors for activation codes, their QR signature and recovery codes."""

from typing import Any

import pytest

from mtoken import activation_code as ac
from mtoken import keys
from mtoken.encoding import b64decode
from mtoken.errors import InvalidActivationCodeError

pytestmark = pytest.mark.vectors


def _check_generate(case: dict[str, Any]) -> None:
    random_bytes = bytes.fromhex(case["random_bytes_hex"])
    assert ac.crc16_arc(random_bytes) == int(case["crc16_hex"], 16)
    assert ac.code_bytes(random_bytes).hex() == case["code_bytes_hex"]
    code = ac.generate_activation_code(random_bytes)
    assert code == case["activation_code"]
    assert ac.validate_activation_code(code) is case["expected_valid"]
    assert ac.parse_activation_code(code) == ac.ActivationCode(code=code)


def _check_validate(case: dict[str, Any]) -> None:
    assert ac.validate_activation_code(case["activation_code"]) is case["expected_valid"]


def _check_crc(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["data_hex"])
    assert data == case["data_utf8"].encode("utf-8")
    assert ac.crc16_arc(data) == int(case["crc16_hex"], 16)


_CODE_CHECKS = {
    "generate_and_validate": _check_generate,
    "validate_only": _check_validate,
    "crc16": _check_crc,
}


@pytest.mark.vector_file("powerauth/generated/activation_code.json")
def test_activation_code(case: dict[str, Any]) -> None:
    _CODE_CHECKS[case["kind"]](case)


@pytest.mark.vector_file("powerauth/verify-activation-data-signature-v3.json")
def test_activation_code_signature(case: dict[str, Any]) -> None:
    given = case["input"]
    code = given["activationCode"]
    master_public = b64decode(given["masterPublicKey"])
    signature = b64decode(case["output"]["activationSignature"])
    assert ac.verify_activation_code_signature(master_public, code, signature)

    # The QR form carries the same signature after '#'.
    parsed = ac.parse_activation_code(f"{code}#{case['output']['activationSignature']}")
    assert parsed == ac.ActivationCode(code=code, signature=signature)
    other_code = ac.generate_activation_code(bytes(10))
    assert not ac.verify_activation_code_signature(master_public, other_code, signature)

    # A signature made with the given master private key verifies too.
    master_private = keys.load_private_key(b64decode(given["masterPrivateKey"]))
    assert keys.public_key_bytes(master_private) == master_public
    fresh = ac.sign_activation_code(master_private, code)
    assert ac.verify_activation_code_signature(master_public, code, fresh)


@pytest.mark.vector_file("powerauth/generated/recovery_code.json")
def test_recovery_code(case: dict[str, Any]) -> None:
    secret_key = bytes.fromhex(case["secret_key_hex"])
    nonce = bytes.fromhex(case["nonce_hex"])
    code = ac.derive_recovery_code(secret_key, nonce)
    assert code == case["recovery_code"]
    assert ac.validate_activation_code(code) is case["recovery_code_valid"]
    for puk in case["puks"]:
        index = bytes.fromhex(puk["derivation_index_bytes_hex"])
        assert int.from_bytes(index, "big", signed=True) == puk["derivation_index"]
        assert ac.derive_recovery_puk(secret_key, nonce, index) == puk["puk"]
    # This client recognises recovery codes and refuses them clearly.
    with pytest.raises(InvalidActivationCodeError, match="recovery codes are not supported"):
        ac.parse_activation_code(f"R:{code}")
