"""The demo: a user with an activation code and, once activated, realistic operations.

The first time the demo user's activation is ACTIVE it gets a mix (payment
with AMOUNT / KEY_VALUE / NOTE / PARTY_INFO, currency conversion, log-in with
a QR_SCAN proximity check, a 1FA operation, a non-personalised one to claim,
one about to expire, a guarded payment with an alert, two pre-approval screens
and templates, and an HTML message in the inbox); then a new payment every few minutes. Texts in
English and Czech.
"""

import asyncio
import contextlib
import logging
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any, Final

from mtoken.status import ActivationStatus

from .admin import code_json, issue_activation_code
from .context import Emulator
from .crypto import new_totp_seed
from .inbox import new_message
from .operation_json import FACTOR_POSSESSION, TWO_FACTOR_VARIANTS
from .records import Operation
from .texts import DEMO_TEXTS, LANGUAGE_CS, LANGUAGE_EN

_LOGGER = logging.getLogger(__name__)

DEMO_USER: Final = "demo"
#: How often the demo checks for its activation, and adds a new payment once active.
POLL_INTERVAL_S: Final = 2.0
NEW_OPERATION_INTERVAL_S: Final = 180.0
#: The initial mix stays a day; each new payment an hour; one operation expires soon.
EXPIRY_S: Final = 24 * 3600
PAYMENT_EXPIRY_S: Final = 3600
SHORT_EXPIRY_S: Final = 60
_MS_PER_S: Final = 1000
_ACCOUNT: Final = "238400856/0300"
_CURRENCY_SIGN: Final = {LANGUAGE_EN: "CZK", LANGUAGE_CS: "Kč"}


def _amount_text(amount: float, language: str) -> str:
    text = f"{amount:,.2f}"
    if language == LANGUAGE_CS:
        text = text.replace(",", " ").replace(".", ",")
    return text


def _amount_attribute(label: str, amount: float, language: str) -> dict[str, Any]:
    formatted = _amount_text(amount, language)
    currency = _CURRENCY_SIGN[language]
    return {
        "type": "AMOUNT",
        "id": "operation.amount",
        "label": label,
        "amount": amount,
        "currency": "CZK",
        "amountFormatted": formatted,
        "currencyFormatted": currency,
        "valueFormatted": f"{formatted} {currency}",
    }


def _payment_texts(amount: float, note: str) -> dict[str, dict[str, Any]]:
    texts = {}
    for language, t in DEMO_TEXTS["payment"].items():
        labels = t["labels"]
        texts[language] = {
            "title": t["title"],
            "message": t["message"],
            "resultTexts": t["resultTexts"],
            "attributes": [
                _amount_attribute(labels["amount"], amount, language),
                {
                    "type": "KEY_VALUE",
                    "id": "operation.account",
                    "label": labels["account"],
                    "value": _ACCOUNT,
                },
                {"type": "NOTE", "id": "operation.note", "label": labels["note"], "note": note},
                {
                    "type": "PARTY_INFO",
                    "id": "operation.partyInfo",
                    "label": labels["party"],
                    "partyInfo": {
                        "logoUrl": "https://www.example.com/logo.png",
                        "name": t["party"],
                        "description": t["party"],
                        "websiteUrl": "https://www.example.com",
                    },
                },
            ],
        }
    return texts


def _conversion_texts() -> dict[str, dict[str, Any]]:
    texts = {}
    for language, t in DEMO_TEXTS["conversion"].items():
        target = _amount_text(2510.5, language)
        texts[language] = {
            "title": t["title"],
            "message": t["message"],
            "attributes": [
                {
                    "type": "AMOUNT_CONVERSION",
                    "id": "operation.conversion",
                    "label": t["labels"]["conversion"],
                    "dynamic": True,
                    "sourceAmount": 100,
                    "sourceCurrency": "EUR",
                    "sourceAmountFormatted": "100.00",
                    "sourceCurrencyFormatted": "€",
                    "sourceValueFormatted": "€100.00",
                    "targetAmount": 2510.5,
                    "targetCurrency": "CZK",
                    "targetAmountFormatted": target,
                    "targetCurrencyFormatted": _CURRENCY_SIGN[language],
                    "targetValueFormatted": f"{target} {_CURRENCY_SIGN[language]}",
                }
            ],
        }
    return texts


def _login_texts() -> dict[str, dict[str, Any]]:
    texts = {}
    for language, t in DEMO_TEXTS["login"].items():
        texts[language] = {
            "title": t["title"],
            "message": t["message"],
            "attributes": [],
            "ui": {
                "preApprovalScreen": {
                    "type": "QR_SCAN",
                    "heading": t["heading"],
                    "message": t["scan"],
                }
            },
        }
    return texts


def _guarded_texts() -> dict[str, dict[str, Any]]:
    """A payment with an ALERT, two pre-approval screens (SDK 2.4+) and templates."""
    texts = {}
    for language, t in DEMO_TEXTS["guarded_payment"].items():
        texts[language] = {
            "title": t["title"],
            "message": t["message"],
            "attributes": [
                _amount_attribute(t["labels"]["amount"], 24990.0, language),
                {
                    "type": "KEY_VALUE",
                    "id": "operation.account",
                    "label": t["labels"]["account"],
                    "value": "19-2000145399/0800",
                },
                {
                    "type": "ALERT",
                    "id": "operation.newPayee",
                    "label": t["alert_title"],
                    "alertType": "WARNING",
                    "title": t["alert_title"],
                    "message": t["alert"],
                },
            ],
            "ui": {
                "blockApprovalOnCall": True,
                "preApprovalScreens": [
                    {
                        "id": "fraud-warning",
                        "type": "WARNING",
                        "heading": t["warning"],
                        "message": t["warning_text"],
                        "elements": [
                            {
                                "id": "hang-up",
                                "type": "ALERT",
                                "style": "DANGER",
                                "text": t["hang_up"],
                            },
                            {
                                "id": "at-once",
                                "type": "LIST_ITEM",
                                "style": "WARNING",
                                "text": t["item"],
                            },
                            {
                                "id": "call",
                                "type": "BUTTON",
                                "action": "PHONE",
                                "actionSettings": "REJECT",
                                "href": "+420800123456",
                                "text": t["call"],
                            },
                        ],
                        "controls": {
                            "approve": {"type": "BUTTON", "text": t["understand"], "counter": 3}
                        },
                    },
                    {
                        "id": "branch-scan",
                        "type": "QR_SCAN",
                        "heading": t["heading"],
                        "message": t["scan"],
                    },
                ],
            },
            "templates": {
                "list": {"title": t["list_title"], "message": "${operation.account}"},
                "detail": {
                    "showTitleAndMessage": True,
                    "sections": [
                        {"cells": [{"name": "operation.newPayee"}, {"name": "operation.amount"}]}
                    ],
                },
            },
        }
    return texts


def _simple_texts(template: str, label_key: str, value: str) -> dict[str, dict[str, Any]]:
    return {
        language: {
            "title": t["title"],
            "message": t["message"],
            "attributes": [
                {
                    "type": "KEY_VALUE",
                    "id": f"operation.{label_key}",
                    "label": t["labels"][label_key],
                    "value": value,
                }
            ],
        }
        for language, t in DEMO_TEXTS[template].items()
    }


def _today() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


class Demo:
    """Seeds and feeds the demo user's operations while the emulator runs."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._task: asyncio.Task[None] | None = None

    def prepare(self) -> dict[str, Any]:
        """The demo user's unused activation code (a new one when none is left)."""
        activation = self.emu.db.unused_code_of(DEMO_USER) or issue_activation_code(
            self.emu, DEMO_USER
        )
        return code_json(activation)

    def _operation(
        self, name: str, data: str, texts: dict[str, dict[str, Any]], **extra: Any
    ) -> str:
        now = self.emu.now_ms()
        expires_s = extra.pop("expires_s", EXPIRY_S)
        operation = Operation(
            id=str(uuid.uuid4()),
            user_id=extra.pop("user_id", DEMO_USER),
            activation_id=None,
            name=name,
            data=data,
            status="PENDING",
            created_ms=now,
            expires_ms=now + expires_s * _MS_PER_S,
            allowed_factors=extra.pop("factors", list(TWO_FACTOR_VARIANTS)),
            max_failures=5,
            texts=texts,
            demo=True,
            **extra,
        )
        self.emu.db.insert_operation(operation)
        return operation.id

    def add_payment(self) -> None:
        """A new payment with a random amount."""
        amount = secrets.randbelow(500_000) / 100 + 1
        note = f"Invoice {secrets.randbelow(90_000) + 10_000}"
        data = f"A1*A{amount:.2f}CZK*Q{_ACCOUNT}**D{_today()}*N{note}"
        self._operation(
            "authorize_payment", data, _payment_texts(amount, note), expires_s=PAYMENT_EXPIRY_S
        )

    def seed(self) -> None:
        """The initial mix of operations."""
        self._operation(
            "authorize_payment_expiring",
            f"A1*A49.90CZK*D{_today()}",
            _simple_texts("expiring", "amount", "49.90 CZK"),
            expires_s=SHORT_EXPIRY_S,
        )
        claim_id = self._operation(
            "login_branch",
            "A2*Tbranch-visit",
            _simple_texts("claim", "branch", "Praha 1"),
            user_id=None,
        )
        self._operation(
            "enable_notifications",
            "A3*Tnotifications",
            _simple_texts("one_factor", "device", "Home Assistant"),
            factors=[FACTOR_POSSESSION],
        )
        login_id = self._operation(
            "login", "A2*Tinternet-banking", _login_texts(), totp_seed=new_totp_seed()
        )
        self._operation("currency_conversion", "A1*A100EUR*TCZK", _conversion_texts())
        guarded_id = self._operation(
            "authorize_payment_guarded",
            "A1*A24990.00CZK*Q19-2000145399/0800",
            _guarded_texts(),
            totp_seed=new_totp_seed(),
        )
        message = DEMO_TEXTS["guarded_payment"][LANGUAGE_EN]
        new_message(
            self.emu,
            DEMO_USER,
            {
                "subject": message["message_subject"],
                "summary": message["message_summary"],
                "body": message["message_body"],
                "type": "html",
            },
        )
        self.add_payment()
        _LOGGER.info("demo operations seeded for user %s", DEMO_USER)
        _LOGGER.info("demo: operation %s is not personalised; claim it by its id", claim_id)
        _LOGGER.info("demo: the log-in's proximity code: GET /admin/operations/%s/totp", login_id)
        _LOGGER.info("demo: the guarded payment's code: GET /admin/operations/%s/totp", guarded_id)

    def _activated(self) -> bool:
        return any(
            a.user_id == DEMO_USER and a.status == ActivationStatus.ACTIVE
            for a in self.emu.db.activations()
        )

    async def _run(self) -> None:
        while not self._activated():  # noqa: ASYNC110 - polls the database, no event to wait on
            await asyncio.sleep(POLL_INTERVAL_S)
        if not self.emu.db.demo_operations():
            self.seed()
        while True:
            await asyncio.sleep(NEW_OPERATION_INTERVAL_S)
            self.add_payment()

    def start(self) -> None:
        """Start feeding operations in the background."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="emulator-demo")

    async def stop(self) -> None:
        """Stop the background task and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
