"""Shared helpers of the emulator's tests: users, operations, vector files."""

import os
from pathlib import Path
from typing import Any

from raw_client import Device, RawClient

from emulator.testing import SAMPLE_PAYMENT_DATA, RunningEmulator

USER_ID = "alice"
OTHER_USER_ID = "bob"
PIN_FACTORS = "possession_knowledge"
PAYMENT_DATA = SAMPLE_PAYMENT_DATA


def vectors_dir() -> Path:
    """MOBILE_TOKEN_VECTORS_DIR, else the project's copy in ``tests/vectors/data``."""
    configured = os.environ.get("MOBILE_TOKEN_VECTORS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1] / "vectors" / "data"


async def activate(client: RawClient, emu: RunningEmulator, user_id: str = USER_ID) -> Device:
    """A new ACTIVE activation of ``user_id``."""
    code = await emu.admin.create_activation_code(user_id)
    return await client.activate(code["activationCode"])


async def payment(emu: RunningEmulator, **overrides: Any) -> dict[str, Any]:
    """A 2FA payment for USER_ID."""
    return await emu.admin.create_payment(USER_ID, **overrides)
