"""The emulator's shared state: application keys, database, clock and faults.

The application (one app key, app secret and master key pair, as one
PowerAuth application version) is created on first start and stored, so a
restarted emulator keeps serving the activations it made.
"""

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

from mtoken.app_config import AppConfig, build_config_string
from mtoken.encoding import b64decode, b64encode
from mtoken.keys import generate_private_key, load_private_key, private_key_bytes, public_key_bytes

from .clock import Clock
from .db import Database
from .faults import Faults

SETTING_APP_KEY: Final = "app_key"
SETTING_APP_SECRET: Final = "app_secret"
SETTING_MASTER_PRIVATE_KEY: Final = "master_private_key"
APP_KEY_SIZE: Final = 16
_SETTINGS: Final = (SETTING_APP_KEY, SETTING_APP_SECRET, SETTING_MASTER_PRIVATE_KEY)


@dataclass(frozen=True)
class Application:
    """The one application the emulator serves."""

    app_key: str
    app_secret: str
    master_private_key: ec.EllipticCurvePrivateKey

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
        """The configuration a client needs."""
        return AppConfig(self.app_key, self.app_secret, self.master_public_key)

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
    return Application(app_key, app_secret, load_private_key(b64decode(master)))


@dataclass
class Emulator:
    """Everything a handler needs, stored on the aiohttp application."""

    db: Database
    application: Application
    clock: Clock = field(default_factory=Clock)
    faults: Faults = field(default_factory=Faults)

    @classmethod
    def open(cls, data_dir: Path) -> "Emulator":
        """Open the state in ``data_dir`` (created on first start)."""
        db = Database.open(data_dir)
        return cls(db=db, application=load_or_create_application(db))

    def now_ms(self) -> int:
        """Server time in milliseconds."""
        return self.clock.now_ms()


EMULATOR_KEY: Final = web.AppKey("emulator", Emulator)


def emulator_of(request: web.Request) -> Emulator:
    """The emulator state behind a request."""
    return request.app[EMULATOR_KEY]
