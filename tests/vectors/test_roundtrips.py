"""Round trips between the client and server halves of each primitive."""

import pytest

from mtoken import activation_code as ac
from mtoken import app_config, ecies, keys, keystore, status
from mtoken.counter import advance_counter
from mtoken.encoding import b64encode
from mtoken.errors import BadResponseError
from mtoken.signature import (
    SignatureType,
    build_authorization_header,
    canonical_query,
    compute_online_signature,
    find_counter_match,
    parse_authorization_header,
    select_factor_keys,
)
from mtoken.token import build_token_header, parse_token_header

pytestmark = pytest.mark.vectors

APP_KEY = b64encode(bytes(range(1, 17)))
APP_SECRET = b64encode(bytes(range(17, 33)))
ACTIVATION_ID = "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6"
TEMPORARY_KEY_ID = "0a7d7f6d-1f1c-4c86-b8d5-ad4bb4b2bd4e"
TRANSPORT_KEY = bytes(range(100, 116))
NOW_MS = 1_750_000_000_000


def test_config_string_round_trip() -> None:
    master = keys.public_key_bytes(keys.generate_private_key())
    config = app_config.AppConfig(APP_KEY, APP_SECRET, master)
    text = app_config.build_config_string(config)
    assert app_config.parse_config_string(text) == config
    assert app_config.parse_config_string(f"  {text[:10]}\n{text[10:]} ") == config
    assert (
        app_config.config_from_values(APP_KEY, APP_SECRET, config.master_public_key_b64) == config
    )


def test_config_string_accepts_compressed_key_and_long_counts() -> None:
    master = keys.public_key_bytes(keys.generate_private_key(), compressed=True)
    config = app_config.AppConfig(APP_KEY, APP_SECRET, master)
    raw = bytearray(b"\x01\x10" + config.app_key_bytes + b"\x10" + config.app_secret_bytes)
    raw += b"\x01\x01\x80\x21" + master  # a two-byte count for the key length
    assert app_config.parse_config_string(b64encode(bytes(raw))) == config


def test_activation_code_round_trip() -> None:
    for _ in range(20):
        code = ac.generate_activation_code()
        assert ac.validate_activation_code(code)
        assert ac.parse_activation_code(code).code == code
        typed = code.lower().replace("-", " ").replace("o", "0").replace("i", "1")
        assert ac.parse_activation_code(typed).code == code
        assert ac.parse_activation_code(code.replace("-", "")).code == code


def test_signed_activation_code_round_trip() -> None:
    master = keys.generate_private_key()
    code = ac.generate_activation_code()
    signature = ac.sign_activation_code(master, code)
    parsed = ac.parse_activation_code(f"{code}#{b64encode(signature)}")
    assert parsed.signature == signature
    master_public = keys.public_key_bytes(master)
    assert ac.verify_activation_code_signature(master_public, parsed.code, signature)
    other_master = keys.public_key_bytes(keys.generate_private_key())
    assert not ac.verify_activation_code_signature(other_master, parsed.code, signature)


@pytest.mark.parametrize("version", ecies.ECIES_VERSIONS)
@pytest.mark.parametrize("activation_id", [None, ACTIVATION_ID], ids=["application", "activation"])
@pytest.mark.parametrize("compressed", [False, True], ids=["uncompressed", "compressed"])
def test_ecies_client_server_round_trip(
    version: str, activation_id: str | None, compressed: bool
) -> None:
    server_key = keys.generate_private_key()
    if activation_id is None:
        sh1, sh2_base = ecies.SH1_APPLICATION_GENERIC, ecies.sh2_base_application(APP_SECRET)
    else:
        sh1 = ecies.SH1_ACTIVATION_GENERIC
        sh2_base = ecies.sh2_base_activation(TRANSPORT_KEY, APP_SECRET)
    associated = ecies.associated_data(version, APP_KEY, activation_id, TEMPORARY_KEY_ID)
    encryptor = ecies.EciesEncryptor(
        keys.public_key_bytes(server_key),
        sh1,
        sh2_base,
        associated,
        version=version,
        compress_ephemeral_key=compressed,
    )
    payload, decryptor = encryptor.encrypt_request(
        b'{"hello":"server"}', timestamp_ms=NOW_MS, temporary_key_id=TEMPORARY_KEY_ID
    )
    plaintext, responder = ecies.decrypt_request(
        server_key, sh1, sh2_base, associated, payload, version=version
    )
    assert plaintext == b'{"hello":"server"}'
    response = responder.encrypt_response(b'{"hello":"client"}', timestamp_ms=NOW_MS + 5)
    assert decryptor.decrypt_response(response) == b'{"hello":"client"}'

    with pytest.raises(BadResponseError):
        decryptor.decrypt_response(response | {"encryptedData": payload["encryptedData"]})
    with pytest.raises(ValueError, match="MAC"):
        ecies.decrypt_request(server_key, sh1, b"\x00" * 32, associated, payload, version=version)


def test_ecies_requests_use_fresh_envelopes() -> None:
    server_key = keys.generate_private_key()
    sh2_base = ecies.sh2_base_application(APP_SECRET)
    associated = ecies.associated_data("3.3", APP_KEY, None, TEMPORARY_KEY_ID)
    encryptor = ecies.EciesEncryptor(
        keys.public_key_bytes(server_key), ecies.SH1_APPLICATION_GENERIC, sh2_base, associated
    )
    first, _ = encryptor.encrypt_request(b"x", timestamp_ms=NOW_MS, temporary_key_id="k")
    second, _ = encryptor.encrypt_request(b"x", timestamp_ms=NOW_MS, temporary_key_id="k")
    assert first["ephemeralPublicKey"] != second["ephemeralPublicKey"]
    assert first["nonce"] != second["nonce"]


def test_encryption_header() -> None:
    assert ecies.build_encryption_header("3.3", APP_KEY) == (
        f'PowerAuth version="3.3", application_key="{APP_KEY}"'
    )
    header = ecies.build_encryption_header("3.3", APP_KEY, ACTIVATION_ID)
    assert header.endswith(f', activation_id="{ACTIVATION_ID}"')
    assert ecies.parse_encryption_header(header) == ecies.EncryptionHeader(
        "3.3", APP_KEY, ACTIVATION_ID
    )
    with pytest.raises(ValueError, match="unsupported ECIES version"):
        ecies.parse_encryption_header(header.replace("3.3", "4.0"))


@pytest.mark.parametrize("with_challenge", [True, False], ids=["v3.1+", "v3.0"])
def test_status_blob_round_trip(with_challenge: bool) -> None:
    challenge, nonce = (bytes(range(16)), bytes(range(16, 32))) if with_challenge else (None, None)
    server_ctr = bytes(range(50, 66))
    blob = status.StatusBlob(
        status=status.ActivationStatus.ACTIVE,
        current_version=3,
        upgrade_version=3,
        ctr_byte=7 if with_challenge else None,
        failed_attempts=2,
        max_failed_attempts=5,
        look_ahead=20 if with_challenge else None,
        ctr_data_hash=status.ctr_data_hash(TRANSPORT_KEY, server_ctr) if with_challenge else None,
    )
    encrypted = status.encrypt_status_blob(TRANSPORT_KEY, challenge, nonce, blob)
    decrypted = status.decrypt_status_blob(TRANSPORT_KEY, challenge, nonce, encrypted)
    assert decrypted == blob
    assert decrypted.activation_status is status.ActivationStatus.ACTIVE
    assert decrypted.remaining_attempts == 3
    assert status.decrypt_status_blob(bytes(16), challenge, nonce, encrypted) is None


def test_counter_sync_adopts_server_counter_within_look_ahead() -> None:
    local_ctr = bytes(range(16))
    server_ctr = advance_counter(local_ctr, 4)
    blob = status.StatusBlob(3, 3, 3, 14, 0, 5, 20, status.ctr_data_hash(TRANSPORT_KEY, server_ctr))
    sync = status.synchronize_counter(local_ctr, 10, blob, TRANSPORT_KEY)
    assert sync.action is status.CounterSyncAction.UPDATED
    assert (sync.ctr_data, sync.ctr_byte) == (server_ctr, 14)


def test_byte_distance_wraps() -> None:
    assert status.byte_distance(2, 250) == 8
    assert status.byte_distance(250, 2) == -8
    assert status.byte_distance(128, 0) == 128
    assert status.byte_distance(0, 128) == -128


def test_activation_status_names() -> None:
    assert (
        status.ActivationStatus.from_name("pending_commit")
        is status.ActivationStatus.PENDING_COMMIT
    )
    with pytest.raises(ValueError, match="unknown activation status"):
        status.ActivationStatus.from_name("DELETED")


@pytest.mark.parametrize("activation_id", [None, ACTIVATION_ID], ids=["application", "activation"])
def test_temporary_key_jwt_round_trip(activation_id: str | None) -> None:
    signer = keys.generate_private_key()
    temporary = keys.generate_private_key()
    app_secret_raw = bytes(range(17, 33))
    hs256_key = (
        keystore.application_jwt_key(app_secret_raw)
        if activation_id is None
        else keystore.activation_jwt_key(TRANSPORT_KEY, app_secret_raw)
    )
    request = keystore.build_request_jwt(APP_KEY, hs256_key, activation_id, "Y2hhbGxlbmdl")
    assert request.startswith(keystore.REQUEST_JWT_HEADER + ".")
    claims = keystore.verify_request_jwt(request, hs256_key)
    assert claims == keystore.peek_jwt_claims(request)
    assert claims["applicationKey"] == APP_KEY
    assert claims.get("activationId") == activation_id
    with pytest.raises(ValueError, match="signature"):
        keystore.verify_request_jwt(request, bytes(16))

    response_claims = {
        "sub": TEMPORARY_KEY_ID,
        "applicationKey": APP_KEY,
        "activationId": activation_id,
        "challenge": claims["challenge"],
        "publicKey": b64encode(keys.public_key_bytes(temporary)),
        "iat": NOW_MS // 1000,
        "exp": NOW_MS // 1000 + 300,
        "iat_ms": NOW_MS,
        "exp_ms": NOW_MS + 300_000,
    }
    response = keystore.sign_response_jwt(signer, response_claims)
    signer_public = keys.public_key_bytes(signer)
    key = keystore.verify_response_jwt(
        response,
        signer_public,
        challenge="Y2hhbGxlbmdl",
        app_key=APP_KEY,
        activation_id=activation_id,
    )
    assert key == keystore.TemporaryKey(
        TEMPORARY_KEY_ID, keys.public_key_bytes(temporary), NOW_MS, NOW_MS + 300_000
    )
    assert key.usable_at(NOW_MS + 289_000)
    assert not key.usable_at(NOW_MS + 291_000)

    with pytest.raises(BadResponseError, match="claim challenge"):
        keystore.verify_response_jwt(
            response, signer_public, challenge="other", app_key=APP_KEY, activation_id=activation_id
        )
    with pytest.raises(BadResponseError, match="signature"):
        keystore.verify_response_jwt(
            response,
            keys.public_key_bytes(temporary),
            challenge="Y2hhbGxlbmdl",
            app_key=APP_KEY,
            activation_id=activation_id,
        )
    header, _, signature = response.split(".")
    forged = keystore.sign_response_jwt(signer, response_claims | {"sub": "other"}).split(".")[1]
    with pytest.raises(BadResponseError, match="signature"):
        keystore.verify_response_jwt(
            f"{header}.{forged}.{signature}",
            signer_public,
            challenge="Y2hhbGxlbmdl",
            app_key=APP_KEY,
            activation_id=activation_id,
        )


def test_authorization_header_round_trip_and_look_ahead() -> None:
    factor_keys = select_factor_keys(
        SignatureType.POSSESSION_KNOWLEDGE, possession=bytes(16), knowledge=bytes(range(16))
    )
    ctr = bytes(range(16))
    data = b"POST&...&secret"
    signature = compute_online_signature(factor_keys, advance_counter(ctr, 3), data, version="3.3")
    assert find_counter_match(factor_keys, ctr, data, signature, version="3.3") == 3
    assert (
        find_counter_match(factor_keys, ctr, data, signature, version="3.3", look_ahead=3) is None
    )
    header = build_authorization_header(
        version="3.3",
        activation_id=ACTIVATION_ID,
        application_key=APP_KEY,
        nonce=b64encode(bytes(16)),
        signature_type="POSSESSION_KNOWLEDGE",
        signature=signature,
    )
    parsed = parse_authorization_header(header)
    assert parsed.to_header() == header
    assert parsed.signature_type.factors == SignatureType.POSSESSION_KNOWLEDGE.factors


def test_token_header_round_trip() -> None:
    header = build_token_header(
        version="3.3",
        token_id=ACTIVATION_ID,
        token_digest=b64encode(bytes(32)),
        nonce=b64encode(bytes(16)),
        timestamp_ms=NOW_MS,
    )
    parsed = parse_token_header(header)
    assert (parsed.token_id, parsed.timestamp_ms, parsed.version) == (ACTIVATION_ID, NOW_MS, "3.3")


def test_canonical_query_follows_java_url_encoding() -> None:
    assert canonical_query("b=2&a=x y&a=%7E*&flag&c=") == "a=x+y&a=%7E*&b=2&c="
    assert canonical_query({"z": "1", "a": ["2", "1"]}) == "a=1&a=2&z=1"
    assert canonical_query([("ž", "€")]) == "%C5%BE=%E2%82%AC"
