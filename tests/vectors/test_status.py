"""Vectors for the activation status blob and counter synchronisation."""

from typing import Any

import pytest

from mtoken import status
from mtoken.counter import advance_counter
from mtoken.encoding import b64decode
from mtoken.kdf import counter_hash_key, status_blob_iv_key

pytestmark = pytest.mark.vectors


@pytest.mark.vector_file("powerauth/activation-status-blob-iv.json")
def test_status_blob_iv(case: dict[str, Any]) -> None:
    given = case["input"]
    iv = status.status_blob_iv(
        b64decode(given["transportKey"]), b64decode(given["challenge"]), b64decode(given["nonce"])
    )
    assert iv == b64decode(case["output"]["iv"])


@pytest.mark.vector_file("powerauth/activation-status-blob-data.json")
def test_status_blob_reference(case: dict[str, Any]) -> None:
    given, expected = case["input"], case["output"]
    transport_key = b64decode(given["transportKey"])
    blob = status.decrypt_status_blob(
        transport_key,
        b64decode(given["challenge"]),
        b64decode(given["nonce"]),
        b64decode(given["encryptedStatusBlob"]),
    )
    assert blob is not None
    assert blob.status == int(expected["activationStatus"])
    assert blob.current_version == int(expected["currentVersion"])
    assert blob.upgrade_version == int(expected["upgradeVersion"])
    assert blob.failed_attempts == int(expected["failedAttempts"])
    assert blob.max_failed_attempts == int(expected["maxFailedAttempts"])
    assert blob.look_ahead == int(expected["ctrLookAhead"])
    assert blob.ctr_byte == int(expected["ctrByte"])
    assert blob.ctr_data_hash == b64decode(expected["ctrDataHash"])
    distance, _ = status.hash_distance(
        b64decode(given["ctrData"]), blob.ctr_data_hash, transport_key, blob.look_ahead
    )
    assert distance == int(expected["counterDistance"])


def _blob_fields(case: dict[str, Any], blob: status.StatusBlob) -> None:
    assert blob.status == case["activation_status"]
    assert blob.current_version == case["current_version"]
    assert blob.upgrade_version == case["upgrade_version"]
    assert blob.failed_attempts == case["failed_attempts"]
    assert blob.max_failed_attempts == case["max_failed_attempts"]


def _check_v31(case: dict[str, Any]) -> None:
    transport_key = bytes.fromhex(case["transport_key_hex"])
    challenge, nonce = bytes.fromhex(case["challenge_hex"]), bytes.fromhex(case["nonce_hex"])
    assert status_blob_iv_key(transport_key).hex() == case["key_transport_iv_hex"]
    assert counter_hash_key(transport_key).hex() == case["key_transport_ctr_hex"]
    assert status.status_blob_iv(transport_key, challenge, nonce).hex() == case["status_iv_hex"]
    encrypted = b64decode(case["encrypted_status_blob_b64"])
    assert encrypted.hex() == case["encrypted_status_blob_hex"]
    blob = status.decrypt_status_blob(transport_key, challenge, nonce, encrypted)
    assert blob is not None
    assert case["is_valid"]
    _blob_fields(case, blob)
    assert blob.ctr_byte == case["ctr_byte"]
    assert blob.look_ahead == case["ctr_look_ahead"]
    assert blob.ctr_data_hash is not None
    assert blob.ctr_data_hash.hex() == case["ctr_data_hash_hex"]
    server_ctr = bytes.fromhex(case["server_ctr_data_hex"])
    assert status.ctr_data_hash(transport_key, server_ctr) == blob.ctr_data_hash

    local_ctr = bytes.fromhex(case["local_ctr_data_hex"])
    sync = status.synchronize_counter(local_ctr, case["local_ctr_byte"], blob, transport_key)
    assert sync.hash_distance == case["expected_hash_distance"]
    assert sync.byte_distance == case["expected_byte_distance"]
    assert sync.action == status.CounterSyncAction(case["expected_sdk_counter_state"])
    assert sync.ctr_data.hex() == case["expected_local_ctr_data_after_sync_hex"]
    if sync.action is status.CounterSyncAction.UPDATED:
        assert sync.ctr_byte == blob.ctr_byte
        assert sync.ctr_data == advance_counter(local_ctr, sync.hash_distance)
    else:
        assert sync.ctr_byte == case["local_ctr_byte"]


def _check_v30(case: dict[str, Any]) -> None:
    transport_key = bytes.fromhex(case["transport_key_hex"])
    assert status.status_blob_iv(transport_key, None, None).hex() == case["status_iv_hex"]
    encrypted = bytes.fromhex(case["encrypted_status_blob_hex"])
    blob = status.decrypt_status_blob(transport_key, None, None, encrypted)
    assert blob is not None
    assert case["is_valid"]
    _blob_fields(case, blob)
    # 3.0 counter bytes are filler: not reported, and never a reason to resync.
    assert blob.ctr_byte is None
    assert blob.ctr_data_hash is None
    sync = status.synchronize_counter(bytes(16), 0, blob, transport_key)
    assert sync.action is status.CounterSyncAction.OK


def _check_wrong_challenge(case: dict[str, Any]) -> None:
    transport_key = bytes.fromhex(case["transport_key_hex"])
    blob = status.decrypt_status_blob(
        transport_key,
        bytes.fromhex(case["challenge_hex"]),
        bytes.fromhex(case["nonce_hex"]),
        bytes.fromhex(case["encrypted_status_blob_hex"]),
    )
    assert blob is None
    assert not case["is_valid"]


_STATUS_CHECKS = {
    "v3.1+": _check_v31,
    "v3.0_zero_iv": _check_v30,
    "invalid_wrong_challenge": _check_wrong_challenge,
}


@pytest.mark.vector_file("powerauth/generated/activation_status.json")
def test_activation_status_generated(case: dict[str, Any]) -> None:
    _STATUS_CHECKS[case["kind"]](case)
