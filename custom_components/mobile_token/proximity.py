"""The proximity check (PAC) that goes with an approval (mobile-token-api.md section 5).

When an operation shows a ``QR_SCAN`` pre-approval screen the bank wants proof
that the user stands where the operation was started: the TOTP from its QR
code or deeplink travels with the approval.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from .errors import translate_error, validation_error
from .mtoken.errors import InvalidProximityCodeError
from .mtoken.model import Operation, ProximityCheck, ProximityCheckType
from .mtoken.pac import parse_pac


def proximity_check(
    operation: Operation, pac: str | None, totp: str | None, received: datetime
) -> ProximityCheck | None:
    """Build the proximity check from a pasted PAC text or a bare TOTP, if any.

    ``received`` is when the user entered or scanned the code (the card says;
    else now). The type tells the bank how the code arrived: ``DEEPLINK`` for
    a link, ``QR_CODE`` for a QR text or a typed code. Raise a translated
    error when the operation requires one and none was given, or when the PAC
    belongs to another operation.
    """
    check_type = ProximityCheckType.QR_CODE
    if pac:
        if _is_link(pac):
            check_type = ProximityCheckType.DEEPLINK
        try:
            code = parse_pac(pac)
        except InvalidProximityCodeError as err:
            raise translate_error(err) from err
        if code.operation_id != operation.id or not code.totp:
            raise validation_error("pac_mismatch")
        totp = code.totp
    if not totp:
        if operation.requires_proximity_check:
            raise validation_error("proximity_required")
        return None
    return ProximityCheck(totp=totp, type=check_type, timestamp_received=received)


def _is_link(text: str) -> bool:
    """A pasted link (``scheme://…?oid=…``) rather than the QR code's JWT text."""
    try:
        return bool(urlsplit(text.strip()).scheme)
    except ValueError:
        return False
