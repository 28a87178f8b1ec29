"""The emulator's server-side verification against the reference test vectors.

Every case of signatures-v3/v31/offline goes through the server's look-ahead
search; every ECIES case goes through the server's key lookup, MAC check,
freshness check and response encryption; status blobs carry the fields the
reference blobs carry.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emu_helpers import vectors_dir

from emulator.auth import verify_signed_request
from emulator.context import Application, Emulator
from emulator.crypto import LOOK_AHEAD, encrypted_status, find_signature
from emulator.db import Database
from emulator.encryption import open_request
from emulator.errors import ERR_ENCRYPTION, ApiError
from emulator.records import Activation, TemporaryKeyRecord
from mtoken.counter import next_counter
from mtoken.ecies import (
    EciesResponseDecryptor,
    EnvelopeKey,
    associated_data,
    sh2_base_activation,
    sh2_base_application,
)
from mtoken.ecies import (
    open_request as open_with_envelope,
)
from mtoken.encoding import b64decode, b64encode
from mtoken.keys import load_private_key
from mtoken.signature import SignatureType, canonical_query
from mtoken.status import ActivationStatus, decrypt_status_blob

POWERAUTH = vectors_dir() / "powerauth"
FAR_FUTURE_MS = 2**62


def _cases(name: str) -> list[dict[str, Any]]:
    data = json.loads((POWERAUTH / name).read_text())
    return data.get("data") or data.get("cases") or next(iter(data.values()))


def _each(cases: list[dict[str, Any]], check: Callable[[dict[str, Any]], None]) -> None:
    """Run a check on every case of a file, naming the case that fails."""
    assert cases
    for index, case in enumerate(cases):
        try:
            check(case)
        except (AssertionError, ApiError, ValueError) as err:
            raise AssertionError(f"case {index} fails: {err!r}") from err


def _activation_with_keys(inputs: dict[str, Any]) -> Activation:
    return Activation(
        activation_id="8d1bd3a0-0000-4000-8000-000000000001",
        activation_code="AAAAA-AAAAA-AAAAA-AAAAA",
        code_signature="",
        user_id="vector",
        status=ActivationStatus.ACTIVE,
        commit_mode="auto",
        created_ms=0,
        max_failed_attempts=5,
        ctr_data=b64decode(inputs["counterData"]),
        possession_key=b64decode(inputs["signaturePossessionKey"]),
        knowledge_key=b64decode(inputs["signatureKnowledgeKey"]),
        biometry_key=b64decode(inputs["signatureBiometryKey"]),
    )


ONLINE = [("signatures-v3.json", "3.0"), ("signatures-v31.json", "3.1")]


def check_online_signature(version: str, case: dict[str, Any]) -> None:
    inputs, signature = case["input"], case["output"]["signature"]
    activation = _activation_with_keys(inputs)
    signature_type = SignatureType.parse(inputs["signatureType"])
    data = b64decode(inputs["data"])
    match = find_signature(activation, [signature_type], [data], signature, version=version)
    assert match is not None
    assert match.steps == 0
    tampered = data + b"x"
    assert (
        find_signature(activation, [signature_type], [tampered], signature, version=version) is None
    )


def check_offline_signature(case: dict[str, Any]) -> None:
    inputs, signature = case["input"], case["output"]["signature"]
    activation = _activation_with_keys(inputs)
    match = find_signature(
        activation,
        [SignatureType.parse(inputs["signatureType"])],
        [b64decode(inputs["data"])],
        signature,
        version="3.3",
        offline=True,
        length=int(inputs["signatureComponentLength"]),
    )
    assert match is not None
    assert match.steps == 0


def _vector_emulator(case: dict[str, Any], recipient: bytes) -> Emulator:
    application = Application(
        case["application_key"], case["application_secret"], load_private_key(recipient)
    )
    return Emulator(db=Database(Path(":memory:")), application=application)


def _vector_activation(emu: Emulator, case: dict[str, Any], recipient: bytes) -> Activation:
    activation = _activation_with_keys(
        {
            "counterData": b64encode(bytes(16)),
            "signaturePossessionKey": b64encode(bytes(16)),
            "signatureKnowledgeKey": b64encode(bytes(16)),
            "signatureBiometryKey": b64encode(bytes(16)),
        }
    )
    activation.activation_id = case["activation_id"]
    activation.transport_key = bytes.fromhex(case["transport_key_hex"])
    activation.server_private_key = recipient
    emu.db.save_activation(activation)
    return activation


def check_ecies_request(case: dict[str, Any]) -> None:
    recipient = bytes.fromhex(case["recipient_private_key_hex"])
    emu = _vector_emulator(case, recipient)
    try:
        activation = None
        if case["scope"] == "ACTIVATION_SCOPE":
            activation = _vector_activation(emu, case, recipient)
        if case["temporary_key_id"] is not None:
            emu.db.save_temporary_key(
                TemporaryKeyRecord(
                    case["temporary_key_id"],
                    case["application_key"],
                    case["activation_id"],
                    recipient,
                    FAR_FUTURE_MS,
                ),
                0,
            )
        request = case["encrypted_request"]
        if request.get("timestamp") is not None:
            emu.clock.skew_ms = request["timestamp"] - emu.clock.now_ms() + emu.clock.skew_ms
        sh1, version = case["encryptor_id_value"], case["version"]
        if case["kind"] == "deterministic_tampered_mac":
            with pytest.raises(ApiError) as refused:
                open_request(emu, request, sh1=sh1, version=version, activation=activation)
            assert refused.value.code == ERR_ENCRYPTION
            return
        opened = open_request(emu, request, sh1=sh1, version=version, activation=activation)
        assert opened.plaintext == bytes.fromhex(case["request_plaintext_hex"])
        # A replay of the same envelope is refused (3.2+: nonce and timestamp are checked).
        if version in ("3.2", "3.3"):
            with pytest.raises(ApiError):
                open_request(emu, request, sh1=sh1, version=version, activation=activation)
        _check_response(case, opened, version)
    finally:
        emu.db.close()


def _check_response(case: dict[str, Any], opened: Any, version: str) -> None:
    responder = opened.responder
    plaintext = bytes.fromhex(case["response_plaintext_hex"])
    expected = {k: v for k, v in case["encrypted_response"].items() if v is not None}
    if case["kind"] == "deterministic" and version in ("3.2", "3.3"):
        nonce = bytes.fromhex(case["response_nonce_hex"])
        timestamp = case["response_timestamp"]
        assert (
            responder.encrypt_response(plaintext, timestamp_ms=timestamp, nonce=nonce) == expected
        )
    elif case["kind"] == "deterministic":
        assert responder.encrypt_response(plaintext, timestamp_ms=None) == expected
    # Whatever the server sends, the client side of the same envelope decrypts.
    if case["scope"] == "ACTIVATION_SCOPE":
        sh2_base = sh2_base_activation(
            bytes.fromhex(case["transport_key_hex"]), case["application_secret"]
        )
    else:
        sh2_base = sh2_base_application(case["application_secret"])
    request_nonce = case["encrypted_request"].get("nonce")
    decryptor = EciesResponseDecryptor(
        responder.envelope,
        version=version,
        sh2_base=sh2_base,
        associated=associated_data(
            version, case["application_key"], case["activation_id"], case["temporary_key_id"]
        ),
        request_nonce=None if request_nonce is None else b64decode(request_nonce),
    )
    answer = {"status": "OK", "responseObject": {"reply": 42}}
    assert json.loads(decryptor.decrypt_response(opened.answer(answer))) == answer


E2EE = [
    f"e2ee-{scope}-scope-v{v}.json" for scope in ("application", "activation") for v in (32, 33)
]


def check_e2ee_case(case: dict[str, Any]) -> None:
    version = case["protocolVersion"]
    envelope = EnvelopeKey.from_bytes(b64decode(case["envelopeKey"]))
    sh2_base = b64decode(case["sharedInfo2Base"])
    ad = associated_data(
        version, case["applicationKey"], case.get("activationId"), case.get("temporaryKeyId")
    )
    request = {
        "ephemeralPublicKey": case["requestEphemeralPublicKey"],
        "encryptedData": case["encryptedDataRequest"],
        "mac": case["requestMac"],
        "nonce": case["requestNonce"],
        "timestamp": int(case["timestampRequest"]),
        "temporaryKeyId": case.get("temporaryKeyId"),
    }
    plaintext, responder = open_with_envelope(envelope, sh2_base, ad, request, version=version)
    assert plaintext == case["requestData"].encode()
    answer = responder.encrypt_response(
        case["responseData"].encode(),
        timestamp_ms=int(case["timestampResponse"]),
        nonce=b64decode(case["responseNonce"]),
    )
    assert answer["encryptedData"] == case["encryptedDataResponse"]
    assert answer["mac"] == case["responseMac"]


def check_status_blob(case: dict[str, Any]) -> None:
    inputs, expected = case["input"], case["output"]
    transport = b64decode(inputs["transportKey"])
    challenge, nonce = b64decode(inputs["challenge"]), b64decode(inputs["nonce"])
    reference = decrypt_status_blob(
        transport, challenge, nonce, b64decode(inputs["encryptedStatusBlob"])
    )
    assert reference is not None
    server_ctr = b64decode(inputs["ctrData"])
    for _ in range(int(expected["counterDistance"])):
        server_ctr = next_counter(server_ctr)
    activation = _activation_with_keys(
        {
            "counterData": b64encode(server_ctr),
            "signaturePossessionKey": b64encode(bytes(16)),
            "signatureKnowledgeKey": b64encode(bytes(16)),
            "signatureBiometryKey": b64encode(bytes(16)),
        }
    )
    activation.transport_key = transport
    activation.status = int(expected["activationStatus"])
    activation.counter = int(expected["ctrByte"])
    activation.failed_attempts = int(expected["failedAttempts"])
    activation.max_failed_attempts = int(expected["maxFailedAttempts"])
    ours = decrypt_status_blob(
        transport, challenge, nonce, encrypted_status(activation, challenge, nonce)
    )
    assert ours is not None
    assert ours.status == reference.status
    assert ours.ctr_byte == reference.ctr_byte
    assert ours.failed_attempts == reference.failed_attempts
    assert ours.max_failed_attempts == reference.max_failed_attempts
    # The look-ahead is the server's setting: the emulator's is the reference default.
    assert reference.look_ahead == int(expected["ctrLookAhead"])
    assert ours.look_ahead == LOOK_AHEAD
    assert ours.ctr_data_hash == reference.ctr_data_hash == b64decode(expected["ctrDataHash"])


def test_unknown_activation_gets_random_blob() -> None:
    challenge, nonce = bytes(16), bytes(range(16))
    blob = encrypted_status(None, challenge, nonce)
    assert len(blob) == 32
    assert decrypt_status_blob(bytes(16), challenge, nonce, blob) is None


def check_reference_request(case: dict[str, Any]) -> None:
    """The whole server check: header, normalised data (GET: canonical query), counter advance."""
    application = Application(
        case["application_key"], case["application_secret"], load_private_key(bytes(range(1, 33)))
    )
    emu = Emulator(db=Database(Path(":memory:")), application=application)
    try:
        activation = _activation_with_keys(
            {
                "counterData": b64encode(bytes.fromhex(case["ctr_data_hex"])),
                "signaturePossessionKey": b64encode(
                    bytes.fromhex(case["signature_possession_key_hex"])
                ),
                "signatureKnowledgeKey": b64encode(
                    bytes.fromhex(case["signature_knowledge_key_hex"])
                ),
                "signatureBiometryKey": b64encode(
                    bytes.fromhex(case["signature_biometry_key_hex"])
                ),
            }
        )
        activation.activation_id = case["activation_id"]
        emu.db.save_activation(activation)
        method = case["http_method"]
        if method == "GET":
            body = canonical_query(case["query_string"]).encode()
            assert body.decode() == case["canonized_query"]
        else:
            body = bytes.fromhex(case["body_hex"] or "")
        signed = verify_signed_request(
            emu, case["header"], method=method, uri_id=case["uri_id"], body=body
        )
        assert str(signed.signature_type) == case["signature_type"]
        stored = emu.db.get_activation(case["activation_id"])
        assert stored is not None
        assert stored.counter == 1
        assert stored.ctr_data == next_counter(bytes.fromhex(case["ctr_data_hex"]))
        with pytest.raises(ApiError):  # the same request again: its counter is used up
            verify_signed_request(
                emu, case["header"], method=method, uri_id=case["uri_id"], body=body
            )
    finally:
        emu.db.close()


@pytest.mark.vectors
@pytest.mark.parametrize(("name", "version"), ONLINE)
def test_server_verifies_online_signatures(name: str, version: str) -> None:
    _each(_cases(name), lambda case: check_online_signature(version, case))


@pytest.mark.vectors
def test_server_verifies_offline_signatures() -> None:
    _each(_cases("signatures-offline.json"), check_offline_signature)


@pytest.mark.vectors
def test_server_verifies_reference_requests() -> None:
    _each(_cases("generated/signatures_online.json"), check_reference_request)


@pytest.mark.vectors
def test_server_opens_reference_ecies_requests() -> None:
    _each(_cases("generated/ecies.json"), check_ecies_request)


@pytest.mark.vectors
@pytest.mark.parametrize("name", E2EE)
def test_server_decrypts_reference_requests_and_encrypts_responses(name: str) -> None:
    _each(_cases(name), check_e2ee_case)


@pytest.mark.vectors
def test_status_blobs_carry_reference_fields() -> None:
    _each(_cases("activation-status-blob-data.json"), check_status_blob)
