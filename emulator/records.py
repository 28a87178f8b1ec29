"""The rows the emulator stores: activations, operations, temporary keys, tokens."""

from dataclasses import dataclass
from typing import Any


@dataclass
class Activation:
    """One activation row; keys are None until the key exchange happened."""

    activation_id: str
    activation_code: str
    code_signature: str
    user_id: str
    status: int
    commit_mode: str
    created_ms: int
    max_failed_attempts: int
    failed_attempts: int = 0
    counter: int = 0
    ctr_data: bytes | None = None
    name: str | None = None
    platform: str | None = None
    device_info: str | None = None
    device_public_key: bytes | None = None
    server_private_key: bytes | None = None
    server_public_key: bytes | None = None
    possession_key: bytes | None = None
    knowledge_key: bytes | None = None
    biometry_key: bytes | None = None
    transport_key: bytes | None = None
    vault_key: bytes | None = None
    #: 3 for a 3.3 activation, 4 once activated or upgraded with protocol 4.0.
    protocol_version: int = 3
    #: The 4.0 suite (``EC_P384``, ...); the keys above then hold 4.0 values.
    algorithm: str | None = None
    #: 4.0 utility keys, concatenated in ``UTILITY_KEY_ORDER`` (emulator.crypto4).
    utility_keys: bytes | None = None
    device_mldsa_key: bytes | None = None
    server_mldsa_seed: bytes | None = None


@dataclass
class Operation:
    """One operation row; ``texts`` maps a language to its form data."""

    id: str
    user_id: str | None
    activation_id: str | None
    name: str
    data: str
    status: str
    created_ms: int
    expires_ms: int
    allowed_factors: list[str]
    max_failures: int
    texts: dict[str, dict[str, Any]]
    status_reason: str | None = None
    failure_count: int = 0
    totp_seed: bytes | None = None
    ui: dict[str, Any] | None = None
    reject_reason: str | None = None
    signature_type: str | None = None
    demo: bool = False
    seq: int = 0


@dataclass(frozen=True)
class TemporaryKeyRecord:
    """A temporary key the server handed out.

    Protocol 3.3: the ECIES private key; protocol 4.0: the temporary shared secret.
    """

    key_id: str
    app_key: str
    activation_id: str | None
    private_key: bytes
    expires_ms: int
    version: str = "3.3"


@dataclass(frozen=True)
class TokenRecord:
    """A token created with ``/pa/v3/token/create``."""

    token_id: str
    token_secret: bytes
    activation_id: str
    signature_type: str
    created_ms: int
