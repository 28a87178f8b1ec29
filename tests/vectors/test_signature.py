"""Vectors for online and offline PowerAuth signatures and the authorization header."""

from typing import Any

import pytest

from mtoken import signature as sig
from mtoken.encoding import b64decode

pytestmark = pytest.mark.vectors


def _reference_keys(given: dict[str, Any]) -> list[bytes]:
    signature_type = sig.SignatureType.parse(given["signatureType"])
    return sig.select_factor_keys(
        signature_type,
        possession=b64decode(given["signaturePossessionKey"]),
        knowledge=b64decode(given["signatureKnowledgeKey"]),
        biometry=b64decode(given["signatureBiometryKey"]),
    )


def _generated_keys(case: dict[str, Any]) -> list[bytes]:
    return sig.select_factor_keys(
        sig.SignatureType.parse(case["signature_type"]),
        possession=bytes.fromhex(case["signature_possession_key_hex"]),
        knowledge=bytes.fromhex(case["signature_knowledge_key_hex"]),
        biometry=bytes.fromhex(case["signature_biometry_key_hex"]),
    )


def _check_reference_online(case: dict[str, Any], version: str) -> None:
    given = case["input"]
    factor_keys = _reference_keys(given)
    ctr_data, data = b64decode(given["counterData"]), b64decode(given["data"])
    expected = case["output"]["signature"]
    assert sig.compute_online_signature(factor_keys, ctr_data, data, version=version) == expected
    assert sig.verify_signature(factor_keys, ctr_data, data, expected, version=version)


@pytest.mark.vector_file("powerauth/signatures-v3.json")
def test_online_signature_decimal(case: dict[str, Any]) -> None:
    _check_reference_online(case, "3.0")


@pytest.mark.vector_file("powerauth/signatures-v31.json")
def test_online_signature_base64(case: dict[str, Any]) -> None:
    _check_reference_online(case, "3.1")


@pytest.mark.vector_file("powerauth/signatures-offline.json")
def test_offline_signature_reference(case: dict[str, Any]) -> None:
    given = case["input"]
    factor_keys = _reference_keys(given)
    ctr_data, data = b64decode(given["counterData"]), b64decode(given["data"])
    length = int(given["signatureComponentLength"])
    expected = case["output"]["signature"]
    assert sig.compute_offline_signature(factor_keys, ctr_data, data, length=length) == expected
    assert sig.verify_signature(
        factor_keys, ctr_data, data, expected, version="3.3", offline=True, length=length
    )


def _body_bytes(case: dict[str, Any]) -> bytes:
    # A null body is signed as the empty string.
    return bytes.fromhex(case["body_hex"] or "")


def _request_body(case: dict[str, Any]) -> bytes:
    if case["http_method"] == "GET" and case.get("query_string") is not None:
        canonical = sig.canonical_query(case["query_string"])
        assert canonical == case["canonized_query"]
        return canonical.encode("utf-8")
    return _body_bytes(case)


@pytest.mark.vector_file("powerauth/generated/signatures_online.json")
def test_online_signature_generated(case: dict[str, Any]) -> None:
    version = case["version"]
    body = _request_body(case)
    assert body == _body_bytes(case)
    base = sig.request_base_string(case["http_method"], case["uri_id"], case["nonce_b64"], body)
    assert base == case["signature_base_string"]
    data = sig.signature_base_string(
        case["http_method"], case["uri_id"], case["nonce_b64"], body, case["application_secret"]
    )
    assert data == case["normalized_data"].encode("utf-8")

    factor_keys = _generated_keys(case)
    ctr_data = bytes.fromhex(case["ctr_data_hex"])
    components = sig.signature_components(factor_keys, ctr_data, data)
    assert [c.hex() for c in components] == case["signature_components_hmac_hex"]
    signature = sig.compute_online_signature(factor_keys, ctr_data, data, version=version)
    assert signature == case["signature"]
    assert sig.verify_signature(factor_keys, ctr_data, data, signature, version=version)

    header = sig.build_authorization_header(
        version=version,
        activation_id=case["activation_id"],
        application_key=case["application_key"],
        nonce=case["nonce_b64"],
        signature_type=case["signature_type"],
        signature=signature,
    )
    parsed = sig.parse_authorization_header(case["header"])
    assert parsed == sig.parse_authorization_header(header)
    assert parsed.signature == case["signature"]
    assert parsed.signature_type == sig.SignatureType.parse(case["signature_type"])
    assert parsed.version == version
    assert header == case["header"]


@pytest.mark.vector_file("powerauth/generated/signatures_offline.json")
def test_offline_signature_generated(case: dict[str, Any]) -> None:
    length = case["component_length"]
    if case.get("expected_error"):
        with pytest.raises(ValueError, match="offline signature components"):
            sig.compute_offline_signature([bytes(16), bytes(16)], bytes(16), b"", length=length)
        return
    data = sig.offline_signature_data(
        case["uri_id"], case["nonce_b64"], case["offline_data_utf8"].encode("utf-8")
    )
    assert data == case["normalized_data"].encode("utf-8")
    factor_keys = _generated_keys(case)
    ctr_data = bytes.fromhex(case["ctr_data_hex"])
    components = sig.signature_components(factor_keys, ctr_data, data)
    assert [c.hex() for c in components] == case["signature_components_hmac_hex"]
    signature = sig.compute_offline_signature(factor_keys, ctr_data, data, length=length)
    assert signature == case["signature"]
    assert sig.verify_signature(
        factor_keys, ctr_data, data, signature, version="3.3", offline=True, length=length
    )
