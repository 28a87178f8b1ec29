"""The emulator's shared state: application keys, database, clock and faults.

The application (one app key, app secret and master key pair, as one
PowerAuth application version) is created on first start and stored, so a
restarted emulator keeps serving the activations it made.
"""

import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

from mtoken import keys4, pq
from mtoken.app_config import KEY_ID_MLDSA65, KEY_ID_P384, AppConfig, build_config_string
from mtoken.encoding import b64decode, b64encode
from mtoken.keys import generate_private_key, load_private_key, private_key_bytes, public_key_bytes
from mtoken.shared_secret import Algorithm

from .clock import Clock
from .db import Database
from .faults import Faults

SETTING_APP_KEY: Final = "app_key"
SETTING_APP_SECRET: Final = "app_secret"
SETTING_MASTER_PRIVATE_KEY: Final = "master_private_key"
SETTING_MASTER_P384_KEY: Final = "master_p384_private_key"
SETTING_MASTER_MLDSA65_SEED: Final = "master_mldsa65_seed"
APP_KEY_SIZE: Final = 16
_SETTINGS: Final = (SETTING_APP_KEY, SETTING_APP_SECRET, SETTING_MASTER_PRIVATE_KEY)
PROTOCOL_V3: Final = "3.3"
PROTOCOL_V4: Final = "4.0"
#: ``--protocol`` choices: which PowerAuth generations the emulator speaks.
PROTOCOL_CHOICES: Final = {
    "3.3": frozenset({PROTOCOL_V3}),
    "4.0": frozenset({PROTOCOL_V4}),
    "both": frozenset({PROTOCOL_V3, PROTOCOL_V4}),
}


@dataclass(frozen=True)
class Application:
    """The one application the emulator serves."""

    app_key: str
    app_secret: str
    master_private_key: ec.EllipticCurvePrivateKey
    #: Protocol 4.0 master keys: ECDSA P-384 and, where ML-DSA is available, ML-DSA-65.
    master_p384_key: ec.EllipticCurvePrivateKey = field(default_factory=keys4.generate_ecdsa_key)
    master_mldsa65_seed: bytes | None = None

    @property
    def algorithms(self) -> tuple[Algorithm, ...]:
        """The 4.0 suites this application offers (the hybrid one only with ML-DSA keys)."""
        if self.master_mldsa65_seed is not None:
            return (Algorithm.EC_P384, Algorithm.EC_P384_ML_L3)
        return (Algorithm.EC_P384,)

    def master_signing_keys(self) -> keys4.SigningKeys:
        """The 4.0 master keys as signing keys."""
        mldsa = (
            pq.mldsa_from_seed(65, self.master_mldsa65_seed)
            if self.master_mldsa65_seed is not None
            else None
        )
        return keys4.SigningKeys(self.master_p384_key, mldsa)

    @property
    def app_secret_bytes(self) -> bytes:
        """The raw 16-byte app secret (HS256 key of application-scope JWTs)."""
        raw: bytes = b64decode(self.app_secret)
        return raw

    @property
    def master_public_key(self) -> bytes:
        """The master server public key, 65 bytes uncompressed."""
        encoded: bytes = public_key_bytes(self.master_private_key)
        return encoded

    @property
    def config(self) -> AppConfig:
        """The configuration a client needs: the 3.3 master key and the 4.0 ones."""
        v4 = [(KEY_ID_P384, keys4.ecdsa_public_bytes(self.master_p384_key))]
        public = self.master_signing_keys().public
        if public.mldsa is not None:
            v4.append((KEY_ID_MLDSA65, public.mldsa))
        return AppConfig(self.app_key, self.app_secret, self.master_public_key, tuple(v4))

    @property
    def config_string(self) -> str:
        """The mobile SDK 1.8+ configuration string."""
        text: str = build_config_string(self.config)
        return text


def load_or_create_application(db: Database) -> Application:
    """Read the application from the database, creating it on first start."""
    stored = [db.get_setting(name) for name in _SETTINGS]
    if any(value is None for value in stored):
        stored = [
            b64encode(secrets.token_bytes(APP_KEY_SIZE)),
            b64encode(secrets.token_bytes(APP_KEY_SIZE)),
            b64encode(private_key_bytes(generate_private_key())),
        ]
        for name, value in zip(_SETTINGS, stored, strict=True):
            db.set_setting(name, str(value))
    app_key, app_secret, master = (str(value) for value in stored)
    p384 = db.get_setting(SETTING_MASTER_P384_KEY)
    if p384 is None:
        p384 = b64encode(keys4.ecdsa_private_bytes(keys4.generate_ecdsa_key()))
        db.set_setting(SETTING_MASTER_P384_KEY, p384)
    mldsa = db.get_setting(SETTING_MASTER_MLDSA65_SEED)
    if mldsa is None and pq.available():
        mldsa = b64encode(pq.mldsa_seed(pq.mldsa_generate(65)))
        db.set_setting(SETTING_MASTER_MLDSA65_SEED, mldsa)
    return Application(
        app_key,
        app_secret,
        load_private_key(b64decode(master)),
        keys4.load_ecdsa_private(b64decode(p384)),
        b64decode(mldsa) if mldsa is not None and pq.available() else None,
    )


@dataclass
class Emulator:
    """Everything a handler needs, stored on the aiohttp application."""

    db: Database
    application: Application
    clock: Clock = field(default_factory=Clock)
    faults: Faults = field(default_factory=Faults)
    #: The last ``mobileTokenData`` an approval or rejection carried, by operation id (not stored).
    mobile_token_data: dict[str, Any] = field(default_factory=dict)
    #: The protocol generations served; the admin API can refuse 3.3 at run time.
    protocols: frozenset[str] = PROTOCOL_CHOICES["both"]

    @property
    def speaks_v3(self) -> bool:
        """Whether 3.3 activations, signatures and endpoints are accepted."""
        return PROTOCOL_V3 in self.protocols

    @property
    def speaks_v4(self) -> bool:
        """Whether the ``/pa/v4`` endpoints and 4.0 authentication codes are served."""
        return PROTOCOL_V4 in self.protocols

    @classmethod
    def open(cls, data_dir: Path) -> "Emulator":
        """Open the state in ``data_dir`` (created on first start)."""
        db = Database.open(data_dir)
        return cls(db=db, application=load_or_create_application(db))

    @property
    def config_string(self) -> str:
        """The configuration string; a server without 4.0 lists only its P-256 key, as 1.x does."""
        if self.speaks_v4:
            return self.application.config_string
        config = replace(self.application.config, master_keys_v4=())
        text: str = build_config_string(config)
        return text

    def now_ms(self) -> int:
        """Server time in milliseconds."""
        return self.clock.now_ms()


EMULATOR_KEY: Final = web.AppKey("emulator", Emulator)


def emulator_of(request: web.Request) -> Emulator:
    """The emulator state behind a request."""
    return request.app[EMULATOR_KEY]
