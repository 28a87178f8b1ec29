"""Protocol figures: signature and ECIES cost as ratios to a floor measured in the same run.

Absolute times differ from machine to machine and from minute to minute on a
shared one; a ratio to a primitive measured alongside does not.
"""

import secrets
import time
from collections.abc import Callable
from typing import Any

from mtoken import ecies
from mtoken.kdf import hmac_sha256
from mtoken.keys import ecdh, generate_private_key, public_key_bytes
from mtoken.signature import compute_online_signature, signature_base_string


def best_of(func: Callable[[], Any], *, repeat: int = 5, number: int = 200) -> float:
    """The best mean time of one call in seconds (least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            func()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def signature_vs_hmac() -> dict[str, float]:
    """A 2FA online signature (with the data string) against one HMAC-SHA256."""
    keys = [secrets.token_bytes(16), secrets.token_bytes(16)]
    ctr = secrets.token_bytes(16)
    body = b'{"requestObject":{"id":"op","data":"A1*A100CZK*Q238400856/0300"}}'
    nonce = "AAAAAAAAAAAAAAAAAAAAAA=="

    def sign() -> str:
        data = signature_base_string("POST", "/operation/authorize", nonce, body, "c2VjcmV0")
        return compute_online_signature(keys, ctr, data, version="3.3")

    hmac_time = best_of(lambda: hmac_sha256(keys[0], body), number=2000)
    signature_time = best_of(sign, number=2000)
    return {
        "hmac_us": hmac_time * 1e6,
        "signature_us": signature_time * 1e6,
        "signature_vs_hmac": signature_time / hmac_time,
    }


def ecies_vs_ecdh() -> dict[str, float]:
    """An ECIES request encryption plus response decryption against one ECDH."""
    server_key = generate_private_key()
    server_public = public_key_bytes(server_key)
    peer = server_key.public_key()
    own = generate_private_key()
    sh2 = ecies.sh2_base_application("c2VjcmV0c2VjcmV0c2VjcmV0")
    ad = ecies.associated_data("3.3", "a2V5a2V5a2V5a2V5a2V5aw==", None, "key-1")
    plaintext = b'{"activationName":"Home Assistant"}'

    def client_side(rounds: int) -> float:
        """Time only the client's share: encrypt the request, decrypt the response."""
        spent = 0.0
        for _ in range(rounds):
            start = time.perf_counter()
            encryptor = ecies.EciesEncryptor(server_public, ecies.SH1_APPLICATION_GENERIC, sh2, ad)
            request, decryptor = encryptor.encrypt_request(
                plaintext, timestamp_ms=1_700_000_000_000, temporary_key_id="key-1"
            )
            spent += time.perf_counter() - start
            _, responder = ecies.decrypt_request(
                server_key, ecies.SH1_APPLICATION_GENERIC, sh2, ad, request, version="3.3"
            )
            response = responder.encrypt_response(plaintext, timestamp_ms=1_700_000_000_000)
            start = time.perf_counter()
            decryptor.decrypt_response(response)
            spent += time.perf_counter() - start
        return spent / rounds

    ecdh_time = best_of(lambda: ecdh(own, peer), number=200)
    ecies_time = min(client_side(100) for _ in range(5))
    return {
        "ecdh_us": ecdh_time * 1e6,
        "ecies_us": ecies_time * 1e6,
        "ecies_vs_ecdh": ecies_time / ecdh_time,
    }
