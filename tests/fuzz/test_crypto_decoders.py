"""Decoders of what the server sends (status blob, ECIES answers, temporary-key JWTs)
and of the PowerAuth headers the server side reads.

Client-side decoders raise BadResponseError (a MobileTokenError); the
byte-level status functions and the server-side header parsers document
ValueError. Valid random inputs decode back to what was encoded.
"""

import json
from typing import Any, Final

from hypothesis import assume, given
from hypothesis import strategies as st

from mtoken import ecies, keys, keystore
from mtoken.counter import CTR_DATA_SIZE, advance_counter
from mtoken.ecies import parse_encryption_header
from mtoken.encoding import b64encode, b64url_encode
from mtoken.errors import BadResponseError
from mtoken.signature import SignatureType, build_authorization_header, parse_authorization_header
from mtoken.status import (
    STATUS_BLOB_SIZE,
    CounterSyncAction,
    StatusBlob,
    ctr_data_hash,
    decrypt_status_blob,
    encrypt_status_blob,
    synchronize_counter,
)
from mtoken.token import build_token_header, parse_token_header

from .support import fuzz, json_trees, mutated_base64, refused_or

key16 = st.binary(min_size=16, max_size=16)
bytes_ = st.integers(min_value=0, max_value=255)
#: JSON nesting the client must refuse cleanly; deeper input hits a reported RecursionError bug.
# Deep enough to exhaust the JSON decoder's recursion.
DEEP_NESTING: Final = 100_000

# --- status blob and counter ------------------------------------------------------------


@st.composite
def status_blobs(draw: st.DrawFn, *, with_counter: bool) -> StatusBlob:
    """Any blob the 32 bytes can carry (statuses and counts this client does not know too)."""
    return StatusBlob(
        status=draw(bytes_),
        current_version=draw(bytes_),
        upgrade_version=draw(bytes_),
        ctr_byte=draw(bytes_) if with_counter else None,
        failed_attempts=draw(bytes_),
        max_failed_attempts=draw(bytes_),
        look_ahead=draw(st.integers(min_value=0, max_value=40)) if with_counter else None,
        ctr_data_hash=draw(key16) if with_counter else None,
    )


@fuzz
@given(key16, st.none() | st.tuples(key16, key16), st.binary(max_size=64))
def test_status_blob_random_bytes_decode_or_raise_value_error(
    transport_key: bytes, challenge_nonce: tuple[bytes, bytes] | None, encrypted: bytes
) -> None:
    challenge, nonce = challenge_nonce or (None, None)
    try:
        blob = decrypt_status_blob(transport_key, challenge, nonce, encrypted)
    except ValueError:
        assert len(encrypted) != STATUS_BLOB_SIZE
        return
    assert blob is None or 0 <= blob.remaining_attempts <= 255
    if blob is not None:
        blob.activation_status  # noqa: B018 - any status byte reads as an enum or None


@fuzz
@given(key16, key16, key16, status_blobs(with_counter=True))
def test_status_blob_round_trips(
    transport_key: bytes, challenge: bytes, nonce: bytes, blob: StatusBlob
) -> None:
    encrypted = encrypt_status_blob(transport_key, challenge, nonce, blob)
    assert decrypt_status_blob(transport_key, challenge, nonce, encrypted) == blob


@fuzz
@given(
    key16,
    key16,
    bytes_,
    status_blobs(with_counter=True) | status_blobs(with_counter=False),
)
def test_counter_sync_of_random_blobs_keeps_or_adopts_a_reachable_counter(
    transport_key: bytes, ctr_data: bytes, ctr_byte: int, blob: StatusBlob
) -> None:
    sync = synchronize_counter(ctr_data, ctr_byte, blob, transport_key)
    assert sync.action in CounterSyncAction
    if sync.action is CounterSyncAction.UPDATED:
        assert sync.ctr_data == advance_counter(ctr_data, sync.hash_distance)
        assert sync.ctr_byte == blob.ctr_byte
    else:
        assert (sync.ctr_data, sync.ctr_byte) == (ctr_data, ctr_byte)


@fuzz
@given(key16, key16, bytes_, st.integers(min_value=0, max_value=19))
def test_counter_sync_adopts_a_server_ahead_within_the_look_ahead(
    transport_key: bytes, ctr_data: bytes, ctr_byte: int, steps: int
) -> None:
    server_ctr = advance_counter(ctr_data, steps)
    blob = StatusBlob(
        3, 3, 3, (ctr_byte + steps) % 256, 0, 5, 20, ctr_data_hash(transport_key, server_ctr)
    )
    sync = synchronize_counter(ctr_data, ctr_byte, blob, transport_key)
    expected = CounterSyncAction.OK if steps == 0 else CounterSyncAction.UPDATED
    assert (sync.action, sync.ctr_data, sync.ctr_byte) == (expected, server_ctr, blob.ctr_byte)


@fuzz
@given(st.binary(max_size=40), bytes_, status_blobs(with_counter=True))
def test_counter_sync_refuses_a_malformed_local_counter_with_value_error(
    ctr_data: bytes, ctr_byte: int, blob: StatusBlob
) -> None:
    assume(len(ctr_data) != CTR_DATA_SIZE)
    assert (
        refused_or(synchronize_counter, ctr_data, ctr_byte, blob, bytes(16), error=ValueError)
        is None
    )


# --- ECIES answers -------------------------------------------------------------------------

ECIES_FIELDS = ["encryptedData", "mac", "nonce", "timestamp"]
be64_timestamps = st.integers(min_value=0, max_value=2**64 - 1)
ecies_values = json_trees(max_leaves=4) | st.integers() | st.binary(max_size=80).map(b64encode)


@st.composite
def ecies_answers(draw: st.DrawFn) -> tuple[ecies.EciesResponseDecryptor, dict[str, Any], bytes]:
    """A decryptor, a genuine encrypted answer for it and the plaintext inside."""
    version = draw(st.sampled_from(ecies.ECIES_VERSIONS))
    envelope = ecies.EnvelopeKey.from_bytes(draw(st.binary(min_size=48, max_size=48)))
    request_nonce = None if version == "3.0" else draw(key16)
    context: dict[str, Any] = {
        "version": version,
        "sh2_base": draw(st.binary(min_size=32, max_size=32)),
        "associated": draw(st.none() | st.binary(max_size=40)),
        "request_nonce": request_nonce,
    }
    plaintext = draw(st.binary(max_size=100))
    timestamp = draw(be64_timestamps)
    answer = ecies.EciesResponseEncryptor(envelope, **context).encrypt_response(
        plaintext, timestamp_ms=timestamp
    )
    return ecies.EciesResponseDecryptor(envelope, **context), answer, plaintext


@fuzz
@given(ecies_answers(), st.data())
def test_ecies_mutated_answers_are_refused_with_bad_response(
    case: tuple[ecies.EciesResponseDecryptor, dict[str, Any], bytes], data: st.DataObject
) -> None:
    decryptor, answer, plaintext = case
    assert decryptor.decrypt_response(answer) == plaintext
    field = data.draw(st.sampled_from(ECIES_FIELDS))
    current = answer.get(field)
    if isinstance(current, str) and data.draw(st.booleans()):
        answer[field] = data.draw(mutated_base64(current))
    elif data.draw(st.booleans()):
        answer[field] = data.draw(ecies_values)
    else:
        answer.pop(field, None)
    opened = refused_or(decryptor.decrypt_response, answer, error=BadResponseError)
    assert opened is None or opened == plaintext


@fuzz
@given(ecies_answers(), st.dictionaries(st.sampled_from(ECIES_FIELDS), ecies_values))
def test_ecies_random_answers_are_refused_with_bad_response(
    case: tuple[ecies.EciesResponseDecryptor, dict[str, Any], bytes], answer: dict[str, Any]
) -> None:
    assert refused_or(case[0].decrypt_response, answer, error=BadResponseError) is None


# --- temporary-key JWTs ------------------------------------------------------------------------

SIGNER = keys.generate_private_key()
SIGNER_PUBLIC = keys.public_key_bytes(SIGNER)
TEMPORARY_PUBLIC = b64encode(keys.public_key_bytes(keys.generate_private_key()))
APP_KEY = b64encode(bytes(range(16)))
CLAIM_NAMES = [
    "sub",
    "applicationKey",
    "activationId",
    "challenge",
    "publicKey",
    "iat",
    "exp",
    "iat_ms",
    "exp_ms",
]


@st.composite
def jwt_claims(draw: st.DrawFn) -> tuple[dict[str, Any], str, str | None]:
    """Claims of a genuine answer, with the challenge and activation id they echo."""
    challenge = draw(st.text(min_size=1, max_size=24))
    activation_id = draw(st.none() | st.uuids().map(str))
    issued = draw(st.integers(min_value=0, max_value=2**45))
    claims: dict[str, Any] = {
        "sub": draw(st.text(min_size=1, max_size=36)),
        "applicationKey": APP_KEY,
        "challenge": challenge,
        "publicKey": TEMPORARY_PUBLIC,
        "iat_ms": issued,
        "exp_ms": issued + keystore.TEMPORARY_KEY_LIFETIME_MS,
    }
    if activation_id is not None:
        claims["activationId"] = activation_id
    return claims, challenge, activation_id


def _verify(jwt: str, challenge: str, activation_id: str | None) -> keystore.TemporaryKey | None:
    return refused_or(
        lambda: keystore.verify_response_jwt(
            jwt, SIGNER_PUBLIC, challenge=challenge, app_key=APP_KEY, activation_id=activation_id
        ),
        error=BadResponseError,
    )


@fuzz
@given(jwt_claims())
def test_jwt_genuine_answers_verify(case: tuple[dict[str, Any], str, str | None]) -> None:
    claims, challenge, activation_id = case
    key = _verify(keystore.sign_response_jwt(SIGNER, claims), challenge, activation_id)
    assert key is not None
    assert (key.key_id, key.issued_at_ms) == (claims["sub"], claims["iat_ms"])


@fuzz
@given(jwt_claims(), st.data())
def test_jwt_mutated_answers_are_refused_with_bad_response(
    case: tuple[dict[str, Any], str, str | None], data: st.DataObject
) -> None:
    claims, challenge, activation_id = case
    if data.draw(st.booleans()):
        claims[data.draw(st.sampled_from(CLAIM_NAMES))] = data.draw(json_trees(max_leaves=4))
        jwt = keystore.sign_response_jwt(SIGNER, claims)  # signed, but with a bad claim
    else:
        parts = keystore.sign_response_jwt(SIGNER, claims).split(".")
        index = data.draw(st.integers(min_value=0, max_value=2))
        parts[index] = data.draw(mutated_base64(parts[index]) | st.text(max_size=12))
        jwt = ".".join(parts)
    key = _verify(jwt, challenge, activation_id)
    if key is not None:  # a mutation that left the meaning intact (say, a padding bit)
        assert key.key_id
        keys.load_public_key(key.public_key)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


jwt_segments = (
    st.text(max_size=30)
    | json_trees(st.sampled_from(["alg", *CLAIM_NAMES])).map(
        lambda value: b64url_encode(json.dumps(value).encode())
    )
    | st.sampled_from([1, 2, 50, DEEP_NESTING]).map(
        lambda depth: b64url_encode(_nested(depth).encode())
    )
)


@fuzz
@given(st.lists(jwt_segments, min_size=1, max_size=4).map(".".join) | st.text())
def test_jwt_random_text_is_refused_with_bad_response(jwt: str) -> None:
    assert _verify(jwt, "challenge", None) is None


# --- PowerAuth headers (server side: ValueError) -----------------------------------------------

HEADER_NAMES = [
    "pa_version",
    "pa_activation_id",
    "pa_application_key",
    "pa_nonce",
    "pa_signature_type",
    "pa_signature",
    "token_id",
    "token_digest",
    "nonce",
    "timestamp",
    "version",
    "application_key",
    "activation_id",
]
header_values = st.text(max_size=20) | st.sampled_from(
    ["3.3", "3.0", "possession_knowledge", APP_KEY, b64encode(bytes(32)), "12345678", "1-2"]
)
headers = st.builds(
    lambda prefix, pairs, sep: prefix + sep.join(f'{name}="{value}"' for name, value in pairs),
    st.sampled_from(["PowerAuth ", "PowerAuth", "powerauth ", "", " PowerAuth  "]),
    st.lists(
        st.tuples(st.sampled_from(HEADER_NAMES) | st.text(max_size=6), header_values), max_size=8
    ),
    st.sampled_from([", ", ",", " ", ";"]),
)
HEADER_PARSERS = (parse_authorization_header, parse_token_header, parse_encryption_header)


@fuzz
@given(headers | st.text())
def test_header_parsers_refuse_random_headers_with_value_error(value: str) -> None:
    for parse in HEADER_PARSERS:
        refused_or(parse, value, error=ValueError)


@fuzz
@given(
    st.sampled_from(["3.0", "3.1", "3.2", "3.3"]),
    st.uuids().map(str),
    key16.map(b64encode),
    key16.map(b64encode),
    st.sampled_from(list(SignatureType)),
    st.sampled_from(["12345678", "12345678-87654321", b64encode(bytes(16)), b64encode(bytes(32))]),
    st.data(),
)
def test_authorization_header_round_trips_and_mutations_raise_value_error(
    version: str,
    activation_id: str,
    app_key: str,
    nonce: str,
    signature_type: SignatureType,
    signature: str,
    data: st.DataObject,
) -> None:
    header = build_authorization_header(
        version=version,
        activation_id=activation_id,
        application_key=app_key,
        nonce=nonce,
        signature_type=signature_type,
        signature=signature,
    )
    parsed = parse_authorization_header(header)
    assert parsed.to_header() == header
    cut = data.draw(st.integers(min_value=0, max_value=len(header)))
    mutated = header[:cut] + data.draw(st.text(max_size=3)) + header[cut + 1 :]
    refused_or(parse_authorization_header, mutated, error=ValueError)


@fuzz
@given(st.uuids().map(str), key16, st.integers(min_value=0, max_value=10**19 - 1))
def test_token_header_round_trips(token_id: str, nonce: bytes, timestamp: int) -> None:
    header = build_token_header(
        version="3.3",
        token_id=token_id,
        token_digest=b64encode(bytes(32)),
        nonce=b64encode(nonce),
        timestamp_ms=timestamp,
    )
    parsed = parse_token_header(header)
    assert (parsed.token_id, parsed.nonce_bytes, parsed.timestamp_ms) == (
        token_id,
        nonce,
        timestamp,
    )
