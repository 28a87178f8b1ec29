"""Vectors for PIN-derived key protection and the secure vault."""

from typing import Any

import pytest

from mtoken import keys, protection
from mtoken.kdf import derive_keys

pytestmark = pytest.mark.vectors


@pytest.mark.vector_file("powerauth/generated/pbkdf2_knowledge_key.json")
def test_pbkdf2_knowledge_key(case: dict[str, Any]) -> None:
    password = case["password_utf8"]
    assert password.encode("utf-8").hex() == case["password_utf8_hex"]
    salt = bytes.fromhex(case["salt_hex"])
    pin_key = protection.derive_pin_key(password, salt, iterations=case["iterations"])
    assert pin_key.hex() == case["derived_key_hex"]
    knowledge = bytes.fromhex(case["signature_knowledge_key_hex"])
    encrypted = protection.encrypt_knowledge_key(pin_key, knowledge)
    assert encrypted.hex() == case["c_signature_knowledge_key_hex"]
    assert protection.decrypt_knowledge_key(pin_key, encrypted) == knowledge
    # A wrong PIN decrypts to another key, without any error.
    wrong_key = protection.derive_pin_key(
        case["wrong_password_utf8"], salt, iterations=case["iterations"]
    )
    wrong = protection.decrypt_knowledge_key(wrong_key, encrypted)
    assert wrong.hex() == case["wrong_password_decrypted_hex"]


@pytest.mark.vector_file("powerauth/generated/vault.json")
def test_vault(case: dict[str, Any]) -> None:
    device_private = keys.load_private_key(bytes.fromhex(case["device_private_key_hex"]))
    server_private = keys.load_private_key(bytes.fromhex(case["server_private_key_hex"]))
    assert keys.public_key_bytes(device_private).hex() == case["device_public_key_hex"]
    assert keys.public_key_bytes(server_private).hex() == case["server_public_key_hex"]
    master = keys.master_secret(device_private, server_private.public_key())
    assert master.hex() == case["master_secret_hex"]
    derived = derive_keys(master)
    assert derived.transport.hex() == case["transport_key_hex"]
    assert derived.vault.hex() == case["vault_encryption_key_hex"]

    encrypted_vault = protection.encrypt_vault_key(derived.transport, derived.vault)
    assert encrypted_vault.hex() == case["encrypted_vault_encryption_key_hex"]
    assert protection.decrypt_vault_key(derived.transport, encrypted_vault) == derived.vault

    java_bytes = bytes.fromhex(case["device_private_key_java_bytes_hex"])
    encrypted_private = protection.encrypt_device_private_key(derived.vault, java_bytes)
    assert encrypted_private.hex() == case["encrypted_device_private_key_hex"]
    decrypted = protection.decrypt_device_private_key(derived.vault, encrypted_private)
    assert decrypted == java_bytes
    assert (
        keys.private_key_bytes(keys.load_private_key(decrypted)).hex()
        == (case["device_private_key_hex"])
    )
