"""Server-side protocol 4.0 cryptography built on the shared 4.0 primitives.

What a 2.0 reference server computes for a 4.0 activation: its keys from
``KEY_ACTIVATION_SECRET``, the look-ahead search for an authentication code
(online and offline) and the status blob with its MAC. Pure functions over
the activation row: no storage.
"""

import secrets
from collections.abc import Sequence
from typing import Final

from mtoken.auth_code import find_counter_match
from mtoken.counter4 import CTR_DATA_SIZE, advance_counter, counter_hash
from mtoken.kdf4 import KEY_SIZE, ActivationKeys, derive_activation_keys
from mtoken.signature import SignatureType
from mtoken.status4 import StatusBlob, StatusCode, StatusFlag, encode_status_blob

from .crypto import LOOK_AHEAD, CounterMatch, factor_keys
from .records import Activation

#: The order of the utility keys in ``Activation.utility_keys``.
UTILITY_KEY_ORDER: Final = (
    "mac_ctr_data",
    "mac_status",
    "mac_get_act_temp_key",
    "mac_personalized_data",
    "e2ee_shared_info2",
)
PROTOCOL_VERSION_4: Final = 4
_BYTE: Final = 256


def apply_activation_secret(activation: Activation, secret: bytes) -> ActivationKeys:
    """Store the keys a 4.0 activation derives; the secret itself is not kept."""
    keys = derive_activation_keys(secret)
    activation.possession_key = keys.possession
    activation.knowledge_key = keys.knowledge
    activation.biometry_key = keys.biometry
    activation.utility_keys = b"".join(getattr(keys, name) for name in UTILITY_KEY_ORDER)
    activation.protocol_version = PROTOCOL_VERSION_4
    return keys


def utility_key(activation: Activation, name: str) -> bytes:
    """One utility key of a 4.0 activation."""
    if activation.utility_keys is None:
        raise ValueError("the activation has no 4.0 keys")
    index = UTILITY_KEY_ORDER.index(name)
    return activation.utility_keys[index * KEY_SIZE : (index + 1) * KEY_SIZE]


def new_ctr_data() -> bytes:
    """A fresh 32-byte CTR_DATA."""
    return secrets.token_bytes(CTR_DATA_SIZE)


def find_code(
    activation: Activation,
    code_types: Sequence[SignatureType],
    candidates: Sequence[bytes],
    code: str,
    *,
    offline: bool = False,
) -> CounterMatch | None:
    """The first counter step, type and data at which the code verifies, or None."""
    if activation.ctr_data is None:
        return None
    best: CounterMatch | None = None
    for code_type in code_types:
        keys = factor_keys(activation, code_type)
        for data in candidates:
            steps = find_counter_match(
                keys, activation.ctr_data, data, code, offline=offline, look_ahead=LOOK_AHEAD
            )
            if steps is not None and (best is None or steps < best.steps):
                best = CounterMatch(steps, code_type, data)
    return best


def counter_after(ctr_data: bytes, steps: int) -> bytes:
    """The stored CTR_DATA after a code matched ``steps`` ahead."""
    advanced: bytes = advance_counter(ctr_data, steps + 1)
    return advanced


def status_blob(activation: Activation, upgrade_version: int) -> bytes:
    """The 80-byte 4.0 status blob of an activation."""
    if activation.ctr_data is None:
        raise ValueError("the activation has no counter yet")
    flags = StatusFlag(0)
    if activation.biometry_key is not None:
        flags |= StatusFlag.BIOMETRY_FACTOR_ON
    blob = StatusBlob(
        status=StatusCode(activation.status),
        current_version=activation.protocol_version,
        upgrade_version=max(upgrade_version, activation.protocol_version),
        flags=flags,
        ctr_byte=activation.counter % _BYTE,
        fail_count=min(activation.failed_attempts, _BYTE - 1),
        max_fail_count=min(activation.max_failed_attempts, _BYTE - 1),
        ctr_look_ahead=LOOK_AHEAD,
        ctr_data_hash=counter_hash(utility_key(activation, "mac_ctr_data"), activation.ctr_data),
    )
    encoded: bytes = encode_status_blob(utility_key(activation, "mac_status"), blob)
    return encoded
