"""Vectors for ECIES: every encryptor id, both scopes, versions 3.0-3.3."""

from typing import Any

import pytest

from mtoken import ecies, keys
from mtoken.encoding import b64decode
from mtoken.errors import BadResponseError

pytestmark = pytest.mark.vectors


def _hex(case: dict[str, Any], name: str) -> bytes | None:
    value = case.get(name)
    return None if value is None else bytes.fromhex(value)


def _sh2_base(case: dict[str, Any]) -> bytes:
    if case["scope"] == "ACTIVATION_SCOPE":
        return ecies.sh2_base_activation(
            bytes.fromhex(case["transport_key_hex"]), case["application_secret"]
        )
    return ecies.sh2_base_application(case["application_secret"])


def _associated(case: dict[str, Any]) -> bytes | None:
    return ecies.associated_data(
        case["version"], case["application_key"], case["activation_id"], case["temporary_key_id"]
    )


def _assert_payload(payload: dict[str, Any], expected: dict[str, Any]) -> None:
    """Every field the reference sent is ours; absent ones are null there."""
    for name, value in expected.items():
        assert payload.get(name) == value, name
    assert set(payload) <= set(expected)


def _check_intermediates(case: dict[str, Any], sh2_base: bytes) -> None:
    version, sh1 = case["version"], case["encryptor_id_value"]
    assert ecies.shared_info1(sh1, version).hex() == case["shared_info1_hex"]
    assert sh2_base.hex() == case["shared_info2_base_hex"]
    associated = _associated(case)
    assert associated == _hex(case, "associated_data_hex")
    recipient = keys.load_private_key(bytes.fromhex(case["recipient_private_key_hex"]))
    assert keys.public_key_bytes(recipient).hex() == case["recipient_public_key_hex"]
    ephemeral = keys.load_private_key(bytes.fromhex(case["ephemeral_private_key_hex"]))
    compressed = case["ephemeral_public_key_encoding"] == "compressed"
    ephemeral_public = keys.public_key_bytes(ephemeral, compressed=compressed)
    assert ephemeral_public.hex() == case["ephemeral_public_key_hex"]
    shared = keys.ecdh(ephemeral, recipient.public_key())
    assert shared.hex() == case["ecdh_shared_x_hex"]
    envelope = ecies.derive_envelope_key(shared, sh1, version, ephemeral_public)
    assert envelope.to_bytes().hex() == case["envelope_key_hex"]
    assert envelope.enc_key.hex() == case["enc_key_hex"]
    assert envelope.mac_key.hex() == case["mac_key_hex"]
    assert envelope.iv_key.hex() == case["iv_key_hex"]
    nonce = _hex(case, "request_nonce_hex")
    assert envelope.iv_for(nonce).hex() == case["request_iv_hex"]
    sh2 = ecies.request_shared_info2(
        version,
        sh2_base,
        nonce=nonce,
        timestamp_ms=case["request_timestamp"],
        ephemeral_public_key=ephemeral_public,
        associated=associated,
    )
    assert sh2.hex() == case["request_shared_info2_hex"]


def _client_request(case: dict[str, Any]) -> tuple[dict[str, Any], ecies.EciesResponseDecryptor]:
    sh2_base = _sh2_base(case)
    encryptor = ecies.EciesEncryptor(
        bytes.fromhex(case["recipient_public_key_hex"]),
        case["encryptor_id_value"],
        sh2_base,
        _associated(case),
        version=case["version"],
        compress_ephemeral_key=case["ephemeral_public_key_encoding"] == "compressed",
    )
    return encryptor.encrypt_request(
        bytes.fromhex(case["request_plaintext_hex"]),
        timestamp_ms=case["request_timestamp"],
        temporary_key_id=case["temporary_key_id"],
        nonce=_hex(case, "request_nonce_hex"),
        ephemeral_key=keys.load_private_key(bytes.fromhex(case["ephemeral_private_key_hex"])),
    )


def _server_decrypt(
    case: dict[str, Any], payload: dict[str, Any]
) -> tuple[bytes, ecies.EciesResponseEncryptor]:
    return ecies.decrypt_request(
        keys.load_private_key(bytes.fromhex(case["recipient_private_key_hex"])),
        case["encryptor_id_value"],
        _sh2_base(case),
        _associated(case),
        payload,
        version=case["version"],
    )


def _check_deterministic(case: dict[str, Any]) -> None:
    _check_intermediates(case, _sh2_base(case))
    payload, decryptor = _client_request(case)
    _assert_payload(payload, case["encrypted_request"])
    assert b64decode(payload["mac"]).hex() == case["request_mac_hex"]

    plaintext, responder = _server_decrypt(case, case["encrypted_request"])
    assert plaintext.hex() == case["request_plaintext_hex"]
    nonce = _hex(case, "response_nonce_hex") if case["response_nonce_transmitted"] else None
    response = responder.encrypt_response(
        bytes.fromhex(case["response_plaintext_hex"]),
        timestamp_ms=case["response_timestamp"],
        nonce=nonce,
    )
    _assert_payload(response, case["encrypted_response"])
    assert b64decode(response["encryptedData"]).hex() == case["response_encrypted_data_hex"]
    assert b64decode(response["mac"]).hex() == case["response_mac_hex"]

    expected_plaintext = bytes.fromhex(case["response_plaintext_hex"])
    assert decryptor.decrypt_response(case["encrypted_response"]) == expected_plaintext
    random_response = case.get("real_server_response_random")
    if random_response is not None:
        assert decryptor.decrypt_response(random_response) == expected_plaintext


def _check_tampered(case: dict[str, Any]) -> None:
    assert case["expected_error"]
    _check_intermediates(case, _sh2_base(case))
    payload, _ = _client_request(case)
    assert b64decode(payload["mac"]).hex() == case["request_mac_hex"]
    tampered = case["encrypted_request"]
    assert b64decode(tampered["mac"]).hex() == case["tampered_request_mac_hex"]
    with pytest.raises(ValueError, match="MAC"):
        _server_decrypt(case, tampered)


def _check_java_client(case: dict[str, Any]) -> None:
    plaintext, responder = _server_decrypt(case, case["encrypted_request"])
    assert plaintext.hex() == case["request_plaintext_hex"]
    assert responder.envelope.to_bytes().hex() == case["envelope_key_hex"]
    nonce_text = case["encrypted_request"].get("nonce")
    decryptor = ecies.EciesResponseDecryptor(
        responder.envelope,
        version=case["version"],
        sh2_base=_sh2_base(case),
        associated=_associated(case),
        request_nonce=b64decode(nonce_text) if nonce_text else None,
    )
    response = decryptor.decrypt_response(case["encrypted_response"])
    assert response.hex() == case["response_plaintext_hex"]


_ECIES_CHECKS = {
    "deterministic": _check_deterministic,
    "deterministic_tampered_mac": _check_tampered,
    "java_client_random_ephemeral": _check_java_client,
}


@pytest.mark.vector_file("powerauth/generated/ecies.json")
def test_ecies_generated(case: dict[str, Any]) -> None:
    _ECIES_CHECKS[case["kind"]](case)


def _check_e2ee_reference(case: dict[str, Any]) -> None:
    """Reference e2ee vectors: envelope and sharedInfo2 base given, no private keys."""
    version = case["protocolVersion"]
    activation_id = case.get("activationId")
    if case["encryptorScope"] == "ACTIVATION_SCOPE":
        sh2_base = ecies.sh2_base_activation(
            b64decode(case["transportKey"]), case["applicationSecret"]
        )
    else:
        sh2_base = ecies.sh2_base_application(case["applicationSecret"])
    assert sh2_base == b64decode(case["sharedInfo2Base"])
    associated = ecies.associated_data(
        version, case["applicationKey"], activation_id, case.get("temporaryKeyId")
    )
    envelope = ecies.EnvelopeKey.from_bytes(b64decode(case["envelopeKey"]))
    request = {
        "ephemeralPublicKey": case["requestEphemeralPublicKey"],
        "encryptedData": case["encryptedDataRequest"],
        "mac": case["requestMac"],
        "nonce": case["requestNonce"],
        "timestamp": int(case["timestampRequest"]),
        "temporaryKeyId": case.get("temporaryKeyId"),
    }
    plaintext, responder = ecies.open_request(
        envelope, sh2_base, associated, request, version=version
    )
    assert plaintext == case["requestData"].encode("utf-8")

    # Encryption in both directions reproduces the reference bytes.
    request_nonce = b64decode(case["requestNonce"])
    sh2 = ecies.request_shared_info2(
        version,
        sh2_base,
        nonce=request_nonce,
        timestamp_ms=int(case["timestampRequest"]),
        ephemeral_public_key=b64decode(case["requestEphemeralPublicKey"]),
        associated=associated,
    )
    ciphertext, mac = envelope.seal(plaintext, nonce=request_nonce, sh2=sh2)
    assert ciphertext == b64decode(case["encryptedDataRequest"])
    assert mac == b64decode(case["requestMac"])
    response = responder.encrypt_response(
        case["responseData"].encode("utf-8"),
        timestamp_ms=int(case["timestampResponse"]),
        nonce=b64decode(case["responseNonce"]),
    )
    assert response["encryptedData"] == case["encryptedDataResponse"]
    assert response["mac"] == case["responseMac"]

    decryptor = ecies.EciesResponseDecryptor(
        envelope,
        version=version,
        sh2_base=sh2_base,
        associated=associated,
        request_nonce=request_nonce,
    )
    reference_response = {
        "encryptedData": case["encryptedDataResponse"],
        "mac": case["responseMac"],
        "nonce": case["responseNonce"],
        "timestamp": int(case["timestampResponse"]),
    }
    assert decryptor.decrypt_response(reference_response) == case["responseData"].encode("utf-8")
    tampered = reference_response | {"timestamp": reference_response["timestamp"] + 1}
    with pytest.raises(BadResponseError):
        decryptor.decrypt_response(tampered)


@pytest.mark.vector_file("powerauth/e2ee-application-scope-v32.json")
def test_e2ee_application_scope_v32(case: dict[str, Any]) -> None:
    _check_e2ee_reference(case)


@pytest.mark.vector_file("powerauth/e2ee-application-scope-v33.json")
def test_e2ee_application_scope_v33(case: dict[str, Any]) -> None:
    _check_e2ee_reference(case)


@pytest.mark.vector_file("powerauth/e2ee-activation-scope-v32.json")
def test_e2ee_activation_scope_v32(case: dict[str, Any]) -> None:
    _check_e2ee_reference(case)


@pytest.mark.vector_file("powerauth/e2ee-activation-scope-v33.json")
def test_e2ee_activation_scope_v33(case: dict[str, Any]) -> None:
    _check_e2ee_reference(case)
