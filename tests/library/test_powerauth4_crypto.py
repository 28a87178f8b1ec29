"""Protocol 4.0 primitives beyond the public vectors: KMAC, KDF, shared secret, codes, status."""

import secrets

import pytest
from Crypto.Hash import KMAC256

from mtoken import aead, app_config, auth_code, keys, keys4, keystore4, offline4, pq, shared_secret
from mtoken import counter4 as counter
from mtoken import kdf4 as kdf
from mtoken import status4 as status
from mtoken.encoding import b64decode
from mtoken.kmac import kmac256
from mtoken.signature import SignatureType

#: NIST SP 800-185 KMAC sample #4: KMAC256, key 0x40..0x5F, data 00..03, S "My Tagged Application".
NIST_KMAC256_SAMPLE_4 = (
    "20c570c31346f703c9ac36c61c03cb64c3970d0cfc787e9b79599d273a68d2f7"
    "f69d4cc3de9d104a351689f27cf6f5951f0103f33f4f24871024d9c27773a8dd"
)


def test_kmac256_matches_the_nist_sample() -> None:
    key = bytes(range(0x40, 0x60))
    assert kmac256(key, bytes(range(4)), b"My Tagged Application", 64).hex() == (
        NIST_KMAC256_SAMPLE_4
    )


@pytest.mark.parametrize("length", [16, 32, 48])
def test_kmac256_agrees_with_pycryptodome_for_long_keys(length: int) -> None:
    key, data = secrets.token_bytes(32), secrets.token_bytes(100)
    reference = KMAC256.new(key=key, data=data, mac_len=length, custom=b"PA4CODE").digest()
    assert kmac256(key, data, b"PA4CODE", length) == reference


def test_kmac256_takes_the_short_keys_protocol_4_uses() -> None:
    app_secret = secrets.token_bytes(16)
    with pytest.raises(ValueError, match="256 bits"):
        KMAC256.new(key=app_secret, mac_len=32)
    assert len(kdf.application_temp_key_mac_key(app_secret)) == 32
    assert kdf.derive_password(b"1234", bytes(32)) != kdf.derive_password(b"1235", bytes(32))


def test_activation_keys_are_distinct_and_two_step() -> None:
    secret = secrets.token_bytes(32)
    keys = kdf.derive_activation_keys(secret)
    values = [getattr(keys, name) for name in keys.__slots__]
    assert len(set(values)) == len(values)
    util = kdf.derive(secret, "util")
    assert keys.mac_status == kdf.derive(util, "util/mac/status")
    assert keys.mac_status != kdf.derive(secret, "util/mac/status")
    with pytest.raises(ValueError, match="32 bytes"):
        kdf.derive_activation_keys(bytes(16))


@pytest.mark.parametrize("algorithm", list(shared_secret.Algorithm))
def test_client_and_server_agree_on_the_shared_secret(
    algorithm: shared_secret.Algorithm,
) -> None:
    if not algorithm.usable_here:
        with pytest.raises(pq.PostQuantumUnavailableError, match="EC_P384"):
            shared_secret.ClientContext(algorithm)
        return
    client = shared_secret.ClientContext(algorithm)
    parsed_algorithm, keys = shared_secret.parse_request(client.request_json())
    assert parsed_algorithm is algorithm
    server_secret, response = shared_secret.server_respond(parsed_algorithm, keys)
    received = shared_secret.SharedSecretResponse.from_json(response.to_json())
    assert client.derive(received) == server_secret
    other_salt = shared_secret.SharedSecretResponse(bytes(32), received.encapsulated_keys)
    assert client.derive(other_salt) != server_secret


def test_shared_secret_refuses_a_response_of_the_wrong_shape() -> None:
    client = shared_secret.ClientContext(shared_secret.Algorithm.EC_P384)
    with pytest.raises(ValueError, match="encapsulated keys"):
        client.derive(shared_secret.SharedSecretResponse(bytes(32), ()))
    with pytest.raises(ValueError, match="salt"):
        shared_secret.SharedSecretResponse.from_json({"encapsulatedKeys": []})
    with pytest.raises(ValueError, match="unsupported algorithm"):
        shared_secret.parse_request({"algorithm": "EC_P256", "encapsulationKeys": []})


def test_choose_algorithm_prefers_the_hybrid_where_it_runs() -> None:
    offered = ["EC_P256", "EC_P384", "EC_P384_ML_L3"]
    expected = "EC_P384_ML_L3" if pq.available() else "EC_P384"
    assert shared_secret.choose_algorithm(offered) == expected
    assert shared_secret.choose_algorithm(["EC_P256"]) is None


def test_aead_refuses_a_changed_byte() -> None:
    key, nonce = secrets.token_bytes(32), secrets.token_bytes(12)
    sealed = aead.seal(key, b"kc", nonce, b"ad", b"payload")
    assert aead.open_sealed(key, b"kc", b"ad", sealed) == b"payload"
    for position in (0, 20, len(sealed) - 1):
        tampered = bytearray(sealed)
        tampered[position] ^= 1
        with pytest.raises(aead.AeadError):
            aead.open_sealed(key, b"kc", b"ad", bytes(tampered))
    with pytest.raises(aead.AeadError):
        aead.open_sealed(key, b"other", b"ad", sealed)


def test_auth_code_components_chain_the_factor_keys() -> None:
    keys = [secrets.token_bytes(32) for _ in range(3)]
    ctr, data = secrets.token_bytes(32), b"POST&data"
    one, two, three = (auth_code.components(keys[:n], ctr, data) for n in (1, 2, 3))
    assert two[0] == one[0]
    assert three[:2] == two
    assert len(b64decode(auth_code.online_code(keys, ctr, data))) == 96
    assert auth_code.components([keys[0], keys[2]], ctr, data)[1] != two[1]
    offline = auth_code.offline_code(keys[:2], ctr, data)
    assert len(offline) == 17
    assert offline[8] == "-"


def test_server_finds_a_code_within_the_look_ahead() -> None:
    keys = [secrets.token_bytes(32) for _ in range(2)]
    ctr = secrets.token_bytes(32)
    ahead = counter.advance_counter(ctr, 5)
    code = auth_code.online_code(keys, ahead, b"data")
    assert auth_code.find_counter_match(keys, ctr, b"data", code) == 5
    assert auth_code.find_counter_match(keys, ctr, b"data", code, look_ahead=5) is None
    offline = auth_code.offline_code(keys, ahead, b"data")
    assert auth_code.find_counter_match(keys, ctr, b"data", offline, offline=True) == 5


def test_authorization_header_round_trip_and_refusals() -> None:
    header = auth_code.AuthorizationHeader(
        activation_id="0f3cbd8c-93e8-4f6b-9b1e-2b6f7f6c1a11",
        application_key="AAECAwQFBgcICQoLDA0ODw==",
        nonce="EBESExQVFhcYGRobHB0eHw==",
        code_type=SignatureType.POSSESSION_KNOWLEDGE,
        code=auth_code.online_code([bytes(32), bytes(32)], bytes(32), b"x"),
    )
    value = header.to_header()
    assert 'pa_auth_code_type="possession_knowledge"' in value
    assert auth_code.header_version(value) == "4.0"
    assert auth_code.parse_authorization_header(value) == header
    with pytest.raises(ValueError, match="pa_auth_code"):
        auth_code.parse_authorization_header(value.replace(header.code, "AAAA"))
    with pytest.raises(ValueError, match="not a 4.0"):
        auth_code.parse_authorization_header(value.replace('"4.0"', '"3.3"'))


def _blob(ctr_hash: bytes) -> status.StatusBlob:
    return status.StatusBlob(
        status=status.StatusCode.ACTIVE,
        current_version=4,
        upgrade_version=4,
        flags=status.StatusFlag.BIOMETRY_FACTOR_ON,
        ctr_byte=7,
        fail_count=1,
        max_fail_count=5,
        ctr_look_ahead=20,
        ctr_data_hash=ctr_hash,
    )


def test_status_blob_round_trip_and_mac() -> None:
    key = secrets.token_bytes(32)
    blob = _blob(secrets.token_bytes(32))
    data = status.encode_status_blob(key, blob)
    assert len(data) == 80
    assert data[:4] == bytes.fromhex("dec0ded4")
    assert status.decode_status_blob(key, data) == blob
    assert blob.remaining_attempts == 4
    with pytest.raises(status.StatusBlobError, match="MAC"):
        status.decode_status_blob(secrets.token_bytes(32), data)
    with pytest.raises(status.StatusBlobError, match="80 bytes"):
        status.decode_status_blob(key, data[:-1])


def test_counter_synchronisation_follows_the_sdk_rules() -> None:
    key, ctr = secrets.token_bytes(32), secrets.token_bytes(32)

    def sync(local: bytes, local_byte: int, server: bytes, server_byte: int) -> counter.SyncOutcome:
        return counter.synchronize(
            key,
            local,
            local_byte,
            status_hash=counter.counter_hash(key, server),
            status_byte=server_byte,
            look_ahead=20,
        )

    assert sync(ctr, 3, ctr, 3).result is counter.SyncResult.IN_SYNC
    ahead = counter.advance_counter(ctr, 4)
    assert sync(ahead, 7, ctr, 3).result is counter.SyncResult.CLIENT_AHEAD
    far = counter.advance_counter(ctr, 15)
    assert sync(far, 18, ctr, 3).result is counter.SyncResult.CALCULATE_SOON
    adopted = sync(ctr, 3, ahead, 7)
    assert adopted.result is counter.SyncResult.ADOPTED
    assert (adopted.ctr_data, adopted.ctr_byte) == (ahead, 7)
    assert sync(ctr, 3, secrets.token_bytes(32), 3).result is counter.SyncResult.INVALID
    assert counter.next_ctr_byte(255) == 0


def test_config_string_carries_the_4_0_master_keys() -> None:
    p256 = keys.public_key_bytes(keys.generate_private_key())
    p384 = keys4.ecdsa_public_bytes(keys4.generate_ecdsa_key())
    both = app_config.AppConfig(
        "AAECAwQFBgcICQoLDA0ODw==", "EBESExQVFhcYGRobHB0eHw==", p256, ((2, p384), (3, b"\x30mldsa"))
    )
    parsed = app_config.parse_config_string(app_config.build_config_string(both))
    assert parsed == both
    assert parsed.speaks_v3
    assert parsed.speaks_v4
    assert parsed.master_key(app_config.KEY_ID_MLDSA65) == b"\x30mldsa"
    only_v4 = app_config.AppConfig(both.app_key, both.app_secret, b"", ((2, p384),))
    parsed = app_config.parse_config_string(app_config.build_config_string(only_v4))
    assert not parsed.speaks_v3
    assert parsed.speaks_v4
    legacy = app_config.parse_config_string(
        app_config.build_config_string(app_config.AppConfig(both.app_key, both.app_secret, p256))
    )
    assert not legacy.speaks_v4


@pytest.mark.parametrize("algorithm", list(shared_secret.Algorithm))
def test_temporary_key_jws_verifies_every_signature_of_the_suite(
    algorithm: shared_secret.Algorithm,
) -> None:
    if not algorithm.usable_here:
        with pytest.raises(pq.PostQuantumUnavailableError):
            keys4.SigningKeys.generate(algorithm)
        return
    server = keys4.SigningKeys.generate(algorithm)
    claims = {"sub": "id", "challenge": "c"}
    jws = keystore4.sign_response(server.ecdsa, server.mldsa, algorithm, claims)
    assert keystore4.verify_response(jws, server.public, algorithm) == claims
    other = keys4.SigningKeys.generate(algorithm)
    with pytest.raises(keystore4.KeystoreError, match="does not verify"):
        keystore4.verify_response(jws, other.public, algorithm)
    mac_key = secrets.token_bytes(32)
    jwt = keystore4.build_request_jwt(mac_key, claims)
    assert keystore4.verify_request_jwt(jwt, mac_key) == claims
    with pytest.raises(keystore4.KeystoreError, match="MAC"):
        keystore4.verify_request_jwt(jwt, secrets.token_bytes(32))


def test_fingerprint_and_offline_qr_keys() -> None:
    algorithm = shared_secret.Algorithm.EC_P384
    device, server = keys4.SigningKeys.generate(algorithm), keys4.SigningKeys.generate(algorithm)
    fingerprint = keys4.activation_fingerprint(algorithm, device.public, "id", server.public)
    assert len(fingerprint) == 8
    assert fingerprint.isdigit()
    assert fingerprint != keys4.activation_fingerprint(
        algorithm, server.public, "id", device.public
    )
    signed = b"op\ntitle\nmessage\nA1CZK\nB\nnonce\n0"
    signature = keys4.ecdsa_sign_der(server.ecdsa, signed)
    assert offline4.verify_master_signature(server.public.ecdsa, signed, signature)
    assert not offline4.verify_master_signature(device.public.ecdsa, signed, signature)
    key = secrets.token_bytes(32)
    mac = offline4.personalized_mac(key, signed)
    assert offline4.verify_personalized_mac(key, signed, mac)
    assert not offline4.verify_personalized_mac(key, signed + b"x", mac)
