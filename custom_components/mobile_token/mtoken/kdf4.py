"""Key derivation of protocol 4.0: KMAC-256 with string labels.

``KDF.derive(K, label, diversifier, L) = KMAC256(K, diversifier, L, "PA4KDF:" || label)``
(protocol 4.0 notes, sections 3 and 5; reference ``PowerAuthKDF.cpp`` and the
Java ``Kdf``). Labels are full paths (``util/mac/status``), and every key of
the tree hangs off ``KEY_ACTIVATION_SECRET`` through one intermediate key.
"""

from dataclasses import dataclass
from typing import Final

from .kmac import kmac256

KEY_SIZE: Final = 32
_KDF_PREFIX: Final = b"PA4KDF:"
_PASSWORD_CUSTOM: Final = b"PA4PBKDF"

LABEL_AUTH: Final = "auth"
LABEL_AUTH_POSSESSION: Final = "auth/possession"
LABEL_AUTH_KNOWLEDGE: Final = "auth/knowledge"
LABEL_AUTH_BIOMETRY: Final = "auth/biometry"
LABEL_ENC: Final = "enc"
LABEL_VAULT: Final = "vault"
LABEL_UTIL: Final = "util"
LABEL_MAC_CTR_DATA: Final = "util/mac/ctr-data"
LABEL_MAC_STATUS: Final = "util/mac/status"
LABEL_MAC_GET_ACT_TEMP_KEY: Final = "util/mac/get-act-temp-key"
LABEL_MAC_PERSONALIZED_DATA: Final = "util/mac/personalized-data"
LABEL_E2EE_SHARED_INFO2: Final = "util/key-e2ee-sh2"
LABEL_MAC_GET_APP_TEMP_KEY: Final = "util/mac/get-app-temp-key"


def derive(key: bytes, label: str, diversifier: bytes = b"", length: int = KEY_SIZE) -> bytes:
    """One step of the 4.0 key tree."""
    return kmac256(key, diversifier, _KDF_PREFIX + label.encode("utf-8"), length)


def derive_password(password: bytes, salt: bytes) -> bytes:
    """The 4.0 password KDF (``PA4PBKDF``), for keys a PIN wraps."""
    return kmac256(password, salt, _PASSWORD_CUSTOM, KEY_SIZE)


@dataclass(frozen=True, slots=True)
class ActivationKeys:
    """What a 4.0 activation derives from ``KEY_ACTIVATION_SECRET`` (section 5).

    The client keeps these and not the activation secret itself.
    """

    possession: bytes
    knowledge: bytes
    biometry: bytes
    mac_ctr_data: bytes
    mac_status: bytes
    mac_get_act_temp_key: bytes
    mac_personalized_data: bytes
    e2ee_shared_info2: bytes


def derive_activation_keys(activation_secret: bytes) -> ActivationKeys:
    """Derive the factor and utility keys, two steps each as the reference does."""
    if len(activation_secret) != KEY_SIZE:
        raise ValueError(f"KEY_ACTIVATION_SECRET must be {KEY_SIZE} bytes")
    auth = derive(activation_secret, LABEL_AUTH)
    util = derive(activation_secret, LABEL_UTIL)
    return ActivationKeys(
        possession=derive(auth, LABEL_AUTH_POSSESSION),
        knowledge=derive(auth, LABEL_AUTH_KNOWLEDGE),
        biometry=derive(auth, LABEL_AUTH_BIOMETRY),
        mac_ctr_data=derive(util, LABEL_MAC_CTR_DATA),
        mac_status=derive(util, LABEL_MAC_STATUS),
        mac_get_act_temp_key=derive(util, LABEL_MAC_GET_ACT_TEMP_KEY),
        mac_personalized_data=derive(util, LABEL_MAC_PERSONALIZED_DATA),
        e2ee_shared_info2=derive(util, LABEL_E2EE_SHARED_INFO2),
    )


def application_temp_key_mac_key(app_secret_raw: bytes) -> bytes:
    """``KEY_MAC_GET_APP_TEMP_KEY``: derived straight from the raw 16-byte application secret."""
    return derive(app_secret_raw, LABEL_MAC_GET_APP_TEMP_KEY)
