"""English and Czech texts, and the language an ``Accept-Language`` header asks for."""

from typing import Any, Final

LANGUAGE_EN: Final = "en"
LANGUAGE_CS: Final = "cs"
SUPPORTED_LANGUAGES: Final = (LANGUAGE_EN, LANGUAGE_CS)
DEFAULT_LANGUAGE: Final = LANGUAGE_EN


def _quality(part: str) -> float:
    for param in part.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def choose_language(header: str | None) -> str:
    """The best supported language of an ``Accept-Language`` header (fallback ``en``)."""
    if not header:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag = part.split(";")[0].strip().lower()
        primary = tag.split("-")[0]
        if primary in SUPPORTED_LANGUAGES:
            ranked.append((-_quality(part), index, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def localized(texts: dict[str, dict[str, Any]], language: str) -> dict[str, Any]:
    """The form data in a language, else English, else whatever there is."""
    for candidate in (language, DEFAULT_LANGUAGE):
        if candidate in texts:
            return texts[candidate]
    return next(iter(texts.values()), {})


# Demo operation texts: {template: {language: form data}}.
DEMO_TEXTS: Final[dict[str, dict[str, dict[str, Any]]]] = {
    "payment": {
        LANGUAGE_EN: {
            "title": "Confirm payment",
            "message": "Please confirm the following payment.",
            "resultTexts": {
                "success": "The payment was confirmed.",
                "failure": "The payment could not be confirmed.",
                "reject": "The payment was rejected.",
            },
            "labels": {
                "amount": "Amount",
                "account": "To account",
                "note": "Note",
                "party": "Merchant",
            },
            "party": "Electricity supplier",
        },
        LANGUAGE_CS: {
            "title": "Potvrzení platby",
            "message": "Prosíme o potvrzení následující platby.",
            "resultTexts": {
                "success": "Platba byla potvrzena.",
                "failure": "Platbu se nepodařilo potvrdit.",
                "reject": "Platba byla zamítnuta.",
            },
            "labels": {
                "amount": "Částka",
                "account": "Na účet",
                "note": "Poznámka",
                "party": "Obchodník",
            },
            "party": "Dodavatel elektřiny",
        },
    },
    "conversion": {
        LANGUAGE_EN: {
            "title": "Currency exchange",
            "message": "Confirm the exchange of EUR to CZK.",
            "labels": {"conversion": "Exchange"},
        },
        LANGUAGE_CS: {
            "title": "Směna měny",
            "message": "Potvrďte směnu EUR na CZK.",
            "labels": {"conversion": "Směna"},
        },
    },
    "guarded_payment": {
        LANGUAGE_EN: {
            "title": "Payment to a new account",
            "message": "Please check the payment carefully.",
            "alert_title": "New payee",
            "alert": "You have never paid this account before.",
            "warning": "Watch out for fraud",
            "warning_text": "Nobody from the bank ever asks you to approve a payment by phone.",
            "hang_up": "If someone is guiding you on the phone, hang up now.",
            "item": "The money leaves your account at once and cannot be returned.",
            "call": "Call the bank",
            "understand": "I understand",
            "list_title": "Pay ${operation.amount}",
            "heading": "Scan the QR code",
            "scan": "Scan the QR code shown at the branch.",
            "labels": {"amount": "Amount", "account": "To account"},
            "message_subject": "New exchange rates",
            "message_summary": "Rates for December are out.",
            "message_body": "<p>Dear customer,</p><p>the <b>exchange rates</b> for December "
            "are out. "
            '<a href="https://www.example.com/rates">See the rates</a>.</p>',
        },
        LANGUAGE_CS: {
            "title": "Platba na nový účet",
            "message": "Platbu si prosím pečlivě zkontrolujte.",
            "alert_title": "Nový příjemce",
            "alert": "Na tento účet jste ještě nikdy neplatili.",
            "warning": "Pozor na podvodníky",
            "warning_text": "Nikdo z banky vás nikdy nežádá o schválení platby po telefonu.",
            "hang_up": "Pokud vás někdo navádí po telefonu, zavěste.",
            "item": "Peníze odejdou z účtu okamžitě a nelze je vrátit.",
            "call": "Zavolat do banky",
            "understand": "Rozumím",
            "list_title": "Zaplatit ${operation.amount}",
            "heading": "Naskenujte QR kód",
            "scan": "Naskenujte QR kód zobrazený na pobočce.",
            "labels": {"amount": "Částka", "account": "Na účet"},
            "message_subject": "Nové kurzy",
            "message_summary": "Kurzy na prosinec jsou venku.",
            "message_body": "<p>Vážený kliente,</p><p><b>kurzy</b> na prosinec jsou venku.</p>",
        },
    },
    "login": {
        LANGUAGE_EN: {
            "title": "Log in to internet banking",
            "message": "Scan the QR code shown in your browser, then confirm the log-in.",
            "heading": "Scan the QR code",
            "scan": "Scan the QR code in your browser.",
        },
        LANGUAGE_CS: {
            "title": "Přihlášení do internetového bankovnictví",
            "message": "Naskenujte QR kód zobrazený v prohlížeči a potvrďte přihlášení.",
            "heading": "Naskenujte QR kód",
            "scan": "Naskenujte QR kód v prohlížeči.",
        },
    },
    "one_factor": {
        LANGUAGE_EN: {
            "title": "Allow notifications",
            "message": "Allow the bank to send you notifications.",
            "labels": {"device": "Device"},
        },
        LANGUAGE_CS: {
            "title": "Povolit notifikace",
            "message": "Povolte bance zasílat vám notifikace.",
            "labels": {"device": "Zařízení"},
        },
    },
    "claim": {
        LANGUAGE_EN: {
            "title": "Branch visit",
            "message": "Confirm your identity at the branch counter.",
            "labels": {"branch": "Branch"},
        },
        LANGUAGE_CS: {
            "title": "Návštěva pobočky",
            "message": "Potvrďte svou totožnost u přepážky.",
            "labels": {"branch": "Pobočka"},
        },
    },
    "expiring": {
        LANGUAGE_EN: {
            "title": "Card payment",
            "message": "This request expires in a minute.",
            "labels": {"amount": "Amount"},
        },
        LANGUAGE_CS: {
            "title": "Platba kartou",
            "message": "Tento požadavek za minutu vyprší.",
            "labels": {"amount": "Částka"},
        },
    },
}
