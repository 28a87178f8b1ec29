"""Vectors for P-256 keys: ECDH master secret, derived keys, fingerprints, ECDSA."""

from typing import Any

import pytest

from mtoken import keys
from mtoken.encoding import b64decode
from mtoken.kdf import derive_keys, fold, hmac_sha256, kdf, kdf_internal

pytestmark = pytest.mark.vectors


@pytest.mark.vector_file("powerauth/compute-master-secret-key.json")
def test_master_secret_from_both_sides(case: dict[str, Any]) -> None:
    given, expected = case["input"], case["output"]
    device_private = keys.load_private_key(b64decode(given["devicePrivateKey"]))
    server_private = keys.load_private_key(b64decode(given["serverPrivateKey"]))
    device_public = keys.load_public_key(b64decode(given["devicePublicKey"]))
    server_public = keys.load_public_key(b64decode(given["serverPublicKey"]))
    master = b64decode(expected["masterSecretKey"])

    assert keys.public_key_bytes(device_private) == b64decode(given["devicePublicKey"])
    assert keys.master_secret(device_private, server_public) == master
    assert keys.master_secret(server_private, device_public) == master


@pytest.mark.vector_file("powerauth/compute-derived-keys.json")
def test_derived_keys(case: dict[str, Any]) -> None:
    derived = derive_keys(b64decode(case["input"]["masterSecretKey"]))
    expected = case["output"]
    assert derived.possession == b64decode(expected["signaturePossessionKey"])
    assert derived.knowledge == b64decode(expected["signatureKnowledgeKey"])
    assert derived.biometry == b64decode(expected["signatureBiometryKey"])
    assert derived.transport == b64decode(expected["transportKey"])
    assert derived.vault == b64decode(expected["vaultEncryptionKey"])


def _check_ecdh_case(case: dict[str, Any]) -> None:
    device_private = keys.load_private_key(bytes.fromhex(case["device_private_key_hex"]))
    server_private = keys.load_private_key(bytes.fromhex(case["server_private_key_hex"]))
    device_public = bytes.fromhex(case["device_public_key_hex"])
    server_public = bytes.fromhex(case["server_public_key_hex"])
    assert keys.public_key_bytes(device_private) == device_public
    assert keys.public_key_bytes(server_private) == server_public
    assert (
        keys.public_key_bytes(device_private, compressed=True).hex()
        == case["device_public_key_compressed_hex"]
    )
    # Compressed and uncompressed encodings load to the same point.
    server_compressed = bytes.fromhex(case["server_public_key_compressed_hex"])
    assert keys.public_key_bytes(keys.load_public_key(server_compressed)) == server_public

    shared = keys.ecdh(device_private, keys.load_public_key(server_public))
    assert shared.hex() == case["ecdh_shared_x_hex"]
    assert keys.ecdh(server_private, keys.load_public_key(device_public)) == shared
    master = keys.master_secret(device_private, keys.load_public_key(server_compressed))
    assert master.hex() == case["master_secret_hex"]

    derived = derive_keys(master)
    assert derived.possession.hex() == case["signature_possession_key_hex"]
    assert derived.knowledge.hex() == case["signature_knowledge_key_hex"]
    assert derived.biometry.hex() == case["signature_biometry_key_hex"]
    assert derived.transport.hex() == case["transport_key_hex"]
    assert derived.vault.hex() == case["vault_encryption_key_hex"]


def _check_kdf_index(case: dict[str, Any]) -> None:
    key = bytes.fromhex(case["key_hex"])
    assert kdf(key, case["index"]).hex() == case["derived_key_hex"]


def _check_kdf_internal(case: dict[str, Any]) -> None:
    key, data = bytes.fromhex(case["key_hex"]), bytes.fromhex(case["data_hex"])
    assert hmac_sha256(key, data).hex() == case["hmac_sha256_hex"]
    assert fold(hmac_sha256(key, data)).hex() == case["derived_key_hex"]
    assert kdf_internal(key, data).hex() == case["derived_key_hex"]


_KDF_CHECKS = {
    "ecdh_master_and_derived_keys": _check_ecdh_case,
    "kdf_index": _check_kdf_index,
    "kdf_internal": _check_kdf_internal,
}


@pytest.mark.vector_file("powerauth/generated/kdf.json")
def test_kdf_and_master_secret(case: dict[str, Any]) -> None:
    _KDF_CHECKS[case["kind"]](case)


@pytest.mark.vector_file("powerauth/public-key-fingerprint-v3.json")
def test_public_key_fingerprint(case: dict[str, Any]) -> None:
    given, expected = case["input"], case["output"]
    device, server = b64decode(given["devicePublicKey"]), b64decode(given["serverPublicKey"])
    fingerprint = keys.activation_fingerprint(device, expected["activationId"], server)
    assert fingerprint == expected["fingerprint"]


@pytest.mark.vector_file("powerauth/generated/activation_fingerprint.json")
def test_activation_fingerprint(case: dict[str, Any]) -> None:
    device = bytes.fromhex(case["device_public_key_hex"])
    if case["kind"] == "v2_legacy":
        assert keys.legacy_fingerprint_v2(device) == case["fingerprint"]
        return
    server = bytes.fromhex(case["server_public_key_hex"])
    activation_id = case["activation_id"]
    assert keys.activation_fingerprint(device, activation_id, server) == case["fingerprint"]
    # The compressed encodings give the same fingerprint.
    device_c = bytes.fromhex(case["device_public_key_compressed_hex"])
    server_c = bytes.fromhex(case["server_public_key_compressed_hex"])
    assert keys.activation_fingerprint(device_c, activation_id, server_c) == case["fingerprint"]


@pytest.mark.vector_file("powerauth/generated/ecdsa_server_signed_data.json")
def test_server_signed_data(case: dict[str, Any]) -> None:
    public_key = bytes.fromhex(case["public_key_hex"])
    data = bytes.fromhex(case["signed_data_hex"])
    signature = bytes.fromhex(case["signature_der_hex"])
    expected = case["expected_valid"]

    assert keys.verify_server_signed_data(public_key, data, signature) is expected
    compressed = bytes.fromhex(case["public_key_compressed_hex"])
    assert keys.verify_server_signed_data(compressed, data, signature) is expected
    if case["expected_exception"]:
        # Where the reference throws, the signature does not even decode.
        with pytest.raises(ValueError, match="signature"):
            keys.parse_der_signature(signature)
    raw = case.get("signature_raw_rs_hex_informative")
    if raw is not None:
        assert keys.ecdsa_verify_raw(
            keys.load_public_key(public_key), data, bytes.fromhex(raw)
        ) is (expected)
