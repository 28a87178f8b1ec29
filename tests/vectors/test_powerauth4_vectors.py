"""Protocol 4.0 vectors (``powerauth4/``): E2EE, counter, token digest, ML-KEM, SHA-3.

Files in ``powerauth4/superseded/`` encode a pre-release design and are not
read. Every valid file of the folder has a test here (checked below).
"""

import itertools
from pathlib import Path
from typing import Any

import pytest

from mtoken import counter4 as counter
from mtoken import e2ee4 as e2ee
from mtoken import pq
from mtoken import token4 as token
from mtoken.encoding import b64decode, b64encode
from mtoken.kmac import sha3_256, sha3_384

pytestmark = pytest.mark.vectors

POWERAUTH4_FILES = (
    "powerauth4/E2ee_Activation_Scope_Test_Vectors.json",
    "powerauth4/E2ee_Activation_Scope_Test_Vectors_40.json",
    "powerauth4/E2ee_Application_Scope_Test_Vectors.json",
    "powerauth4/E2ee_Application_Scope_Test_Vectors_40.json",
    "powerauth4/Hash_Based_Counter_Test_Vectors.json",
    "powerauth4/MLKEM_768_Test_Vectors.json",
    "powerauth4/SHA3_256_Test_Vectors.json",
    "powerauth4/SHA3_384_Test_Vectors.json",
    "powerauth4/Token_Digest_Test_Vectors.json",
)
#: The last 64 bytes of the vectors' pre-standard PKCS#8 ML-KEM key: the seed d || z.
MLKEM_SEED_SIZE = 64


def test_every_valid_powerauth4_file_has_a_test(vectors_path: Path, default_vectors: bool) -> None:
    folder = vectors_path / "powerauth4"
    present = {f"powerauth4/{path.name}" for path in folder.glob("*.json")}
    assert present <= set(POWERAUTH4_FILES)
    if default_vectors:
        assert present == set(POWERAUTH4_FILES)


def _e2ee_context(case: dict[str, Any]) -> e2ee.E2eeContext:
    app_secret = b64decode(case["applicationSecret"])
    if case["encryptorScope"] == "ACTIVATION_SCOPE":
        assert case["encryptorId"] == "ACTIVATION_SCOPE_GENERIC"
        sh2 = e2ee.shared_info2_activation(b64decode(case["sharedInfo2Key"]), app_secret)
        sh1 = e2ee.SH1_ACTIVATION_GENERIC
    else:
        assert case["encryptorId"] == "APPLICATION_SCOPE_GENERIC"
        sh2 = e2ee.shared_info2_application(app_secret)
        sh1 = e2ee.SH1_APPLICATION_GENERIC
    return e2ee.E2eeContext(
        shared_secret=b64decode(case["envelopeKey"]),
        temporary_key_id=case["temporaryKeyId"],
        app_key=case["applicationKey"],
        shared_info2=sh2,
        sh1=sh1,
        activation_id=case.get("activationId"),
    )


def _check_e2ee(case: dict[str, Any]) -> None:
    assert case.get("protocolVersion", "4.0") == "4.0"
    context = _e2ee_context(case)
    nonce = b64decode(case["nonce"])
    request_ts, response_ts = int(case["timestampRequest"]), int(case["timestampResponse"])

    client = e2ee.ClientEncryptor(context, nonce)
    body = client.encrypt_request(case["requestData"].encode(), request_ts)
    assert body["encryptedData"] == case["encryptedDataRequest"]
    assert body["nonce"] == case["nonce"]

    # The server's view: open the request, seal the response under the second nonce half.
    request = b64decode(case["encryptedDataRequest"])
    opened = context.open(nonce, e2ee.request_nonce(nonce), request_ts, request)
    assert opened == case["requestData"].encode()
    response = context.seal(
        nonce, e2ee.response_nonce(nonce), response_ts, case["responseData"].encode()
    )
    assert b64encode(response) == case["encryptedDataResponse"]

    answer = {"encryptedData": case["encryptedDataResponse"], "timestamp": response_ts}
    assert client.decrypt_response(answer) == case["responseData"].encode()
    with pytest.raises(e2ee.E2eeError):
        client.decrypt_response({**answer, "timestamp": response_ts + 1})


@pytest.mark.vector_file("powerauth4/E2ee_Activation_Scope_Test_Vectors.json")
def test_e2ee_activation_scope(case: dict[str, Any]) -> None:
    _check_e2ee(case)


@pytest.mark.vector_file("powerauth4/E2ee_Activation_Scope_Test_Vectors_40.json")
def test_e2ee_activation_scope_40(case: dict[str, Any]) -> None:
    _check_e2ee(case)


@pytest.mark.vector_file("powerauth4/E2ee_Application_Scope_Test_Vectors.json")
def test_e2ee_application_scope(case: dict[str, Any]) -> None:
    _check_e2ee(case)


@pytest.mark.vector_file("powerauth4/E2ee_Application_Scope_Test_Vectors_40.json")
def test_e2ee_application_scope_40(case: dict[str, Any]) -> None:
    _check_e2ee(case)


@pytest.mark.vector_file("powerauth4/Hash_Based_Counter_Test_Vectors.json")
def test_hash_based_counter(case: dict[str, Any]) -> None:
    values = [b64decode(case[f"ctrData[{index}]"]) for index in range(len(case))]
    for current, following in itertools.pairwise(values):
        assert counter.next_counter(current) == following
    assert counter.advance_counter(values[0], len(values) - 1) == values[-1]


@pytest.mark.vector_file("powerauth4/Token_Digest_Test_Vectors.json")
def test_token_digest(case: dict[str, Any]) -> None:
    secret = b64decode(case["tokenSecret"])
    nonce = b64decode(case["nonce"])
    timestamp = int(b64decode(case["timestamp"]).decode("ascii"))
    assert token.compute_token_digest(secret, nonce, timestamp) == case["tokenDigest"]
    assert token.verify_token_digest(secret, nonce, timestamp, case["tokenDigest"])
    assert not token.verify_token_digest(secret, nonce, timestamp + 1, case["tokenDigest"])


@pytest.mark.vector_file("powerauth4/MLKEM_768_Test_Vectors.json")
def test_mlkem_768_decapsulation(case: dict[str, Any]) -> None:
    if not pq.available():
        pytest.skip("this cryptography has no ML-KEM (Home Assistant 2025.4 pins 44.0)")
    private_der = b64decode(case["pqcClientPrivateKey"])
    key = pq.mlkem_from_seed(768, private_der[-MLKEM_SEED_SIZE:])
    secret = pq.mlkem_decapsulate(key, b64decode(case["pqcCiphertext"]))
    assert b64encode(secret) == case["sharedSecret"]


@pytest.mark.vector_file("powerauth4/SHA3_256_Test_Vectors.json")
def test_sha3_256(case: dict[str, Any]) -> None:
    assert sha3_256(bytes.fromhex(case["msg"])).hex() == case["digest"]


@pytest.mark.vector_file("powerauth4/SHA3_384_Test_Vectors.json")
def test_sha3_384(case: dict[str, Any]) -> None:
    assert sha3_384(bytes.fromhex(case["msg"])).hex() == case["digest"]
