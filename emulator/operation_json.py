"""Operations as the Mobile Token API sends them (mobile-token-api.md section 2).

Dates are ``yyyy-MM-dd'T'HH:mm:ssZ``; null fields are omitted; the form data
is picked by language. The admin view adds the server-side fields tests
check (status, failure count, reject reason, signature type, owner).
"""

from datetime import UTC, datetime
from typing import Any, Final

from mtoken.encoding import b64encode

from .records import Operation
from .texts import DEFAULT_LANGUAGE, localized

FACTOR_POSSESSION: Final = "possession"
FACTOR_POSSESSION_KNOWLEDGE: Final = "possession_knowledge"
FACTOR_POSSESSION_BIOMETRY: Final = "possession_biometry"
ALLOWED_FACTORS: Final = (
    FACTOR_POSSESSION,
    FACTOR_POSSESSION_KNOWLEDGE,
    FACTOR_POSSESSION_BIOMETRY,
)
TWO_FACTOR_VARIANTS: Final = (FACTOR_POSSESSION_KNOWLEDGE, FACTOR_POSSESSION_BIOMETRY)
FORM_FIELDS: Final = ("title", "message", "resultTexts", "attributes")
_MS_PER_S: Final = 1000


def format_date(ms: int) -> str:
    """Wire date: ``2018-07-02T14:43:13+0000``."""
    return datetime.fromtimestamp(ms / _MS_PER_S, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def allowed_signature_type(factors: list[str]) -> dict[str, Any]:
    """``1FA`` with no variants for possession alone, else ``2FA`` with its variants."""
    variants = [v for v in TWO_FACTOR_VARIANTS if v in factors]
    if not variants:
        return {"type": "1FA", "variants": []}
    return {"type": "2FA", "variants": variants}


def form_data(operation: Operation, language: str) -> dict[str, Any]:
    """The localised form data: title, message, optional result texts, attributes."""
    texts = localized(operation.texts, language)
    form: dict[str, Any] = {
        "title": texts.get("title", ""),
        "message": texts.get("message", ""),
    }
    if texts.get("resultTexts"):
        form["resultTexts"] = texts["resultTexts"]
    form["attributes"] = texts.get("attributes", [])
    return form


def operation_json(operation: Operation, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """One operation object of a list, detail or history answer."""
    out: dict[str, Any] = {
        "id": operation.id,
        "name": operation.name,
        "data": operation.data,
        "status": operation.status,
    }
    if operation.status_reason:
        out["statusReason"] = operation.status_reason
    out["operationCreated"] = format_date(operation.created_ms)
    out["operationExpires"] = format_date(operation.expires_ms)
    ui = localized(operation.texts, language).get("ui") or operation.ui
    if ui:
        out["ui"] = ui
    out["allowedSignatureType"] = allowed_signature_type(operation.allowed_factors)
    out["formData"] = form_data(operation, language)
    templates = localized(operation.texts, language).get("templates")
    if templates:
        out["templates"] = templates
    return out


def admin_operation_json(operation: Operation) -> dict[str, Any]:
    """The operation as the admin API shows it, with its server-side state."""
    out = operation_json(operation)
    out |= {
        "userId": operation.user_id,
        "activationId": operation.activation_id,
        "allowedFactors": operation.allowed_factors,
        "failureCount": operation.failure_count,
        "maxFailureCount": operation.max_failures,
        "rejectReason": operation.reject_reason,
        "signatureType": operation.signature_type,
        "proximity": operation.totp_seed is not None,
    }
    if operation.totp_seed is not None:
        out["totpSeed"] = b64encode(operation.totp_seed)
    return out
