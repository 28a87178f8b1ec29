"""Shared helpers of the emulator's tests: users, operations, vector files."""

import os
from pathlib import Path
from typing import Any

from raw_client import Device, RawClient

from emulator.testing import RunningEmulator

USER_ID = "alice"
OTHER_USER_ID = "bob"
PIN_FACTORS = "possession_knowledge"
PAYMENT_DATA = "A1*A100CZK*Q238400856/0300**D20170629*NUtility Bill"


def vectors_dir() -> Path:
    """MOBILE_TOKEN_VECTORS_DIR, else ``../shared/testvectors`` from the project root."""
    configured = os.environ.get("MOBILE_TOKEN_VECTORS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "testvectors"


async def activate(client: RawClient, emu: RunningEmulator, user_id: str = USER_ID) -> Device:
    """A new ACTIVE activation of ``user_id``."""
    code = await emu.admin.create_activation_code(user_id)
    return await client.activate(code["activationCode"])


async def payment(emu: RunningEmulator, **overrides: Any) -> dict[str, Any]:
    """A 2FA payment for USER_ID."""
    fields: dict[str, Any] = {
        "userId": USER_ID,
        "name": "authorize_payment",
        "data": PAYMENT_DATA,
        "title": "Payment",
        "message": "Please confirm the payment",
        "attributes": [
            {
                "type": "AMOUNT",
                "id": "operation.amount",
                "label": "Amount",
                "amount": 100,
                "currency": "CZK",
            },
        ],
        "allowedFactors": ["possession_knowledge", "possession_biometry"],
        "expiresInSeconds": 300,
        "proximity": False,
    }
    fields.update(overrides)
    return await emu.admin.create_operation(**fields)
