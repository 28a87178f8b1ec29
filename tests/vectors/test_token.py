"""Vectors for the X-PowerAuth-Token digest and header."""

from typing import Any

import pytest

from mtoken import token

pytestmark = pytest.mark.vectors


@pytest.mark.vector_file("powerauth/generated/token_digest.json")
def test_token_digest(case: dict[str, Any]) -> None:
    version = case["version"]
    secret = bytes.fromhex(case["token_secret_hex"])
    nonce = bytes.fromhex(case["nonce_hex"])
    timestamp = int(case["timestamp"])
    if case.get("expected_error"):
        with pytest.raises(ValueError, match="unsupported token version"):
            token.compute_token_digest(secret, nonce, timestamp, version=version)
        return

    data = token.token_digest_input(nonce, timestamp, version=version)
    assert data.hex() == case["digest_input_hex"]
    raw = token.compute_token_digest_bytes(secret, nonce, timestamp, version=version)
    assert raw.hex() == case["token_digest_hex"]
    digest = token.compute_token_digest(secret, nonce, timestamp, version=version)
    assert digest == case["token_digest_b64"]
    assert token.verify_token_digest(secret, nonce, timestamp, digest, version=version)

    header = token.build_token_header(
        version=version,
        token_id=case["token_id"],
        token_digest=digest,
        nonce=case["nonce_b64"],
        timestamp_ms=timestamp,
    )
    assert header == case["header"]
    parsed = token.parse_token_header(case["header"])
    assert parsed == token.TokenHeader(
        version=version,
        token_id=case["token_id"],
        token_digest=case["token_digest_b64"],
        nonce=case["nonce_b64"],
        timestamp_ms=timestamp,
    )
    assert parsed.nonce_bytes == nonce
