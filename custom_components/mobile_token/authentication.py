"""Which factors sign a user's action: the caller's choice, checked, or the best allowed.

Pure functions, so the rules (PIN or biometry factor, 1FA operations, the last
PIN attempt) read in one place and are shared by actions and the card.
"""

from __future__ import annotations

from .errors import validation_error
from .mtoken.factors import Authentication, Factor
from .mtoken.model import Operation
from .mtoken.session import ActivationStatusInfo


def operation_authentication(
    operation: Operation, pin: str | None, factor: str | None, *, allow_biometry: bool
) -> Authentication:
    """Use the factor the caller asked for, or the best the operation and entry allow."""
    chosen = (
        Factor(factor) if factor else choose_factor(operation, pin, allow_biometry=allow_biometry)
    )
    if not operation.allows(chosen):
        raise validation_error(
            "factor_not_allowed",
            factor=chosen.value,
            allowed=", ".join(operation.allowed_signature.factors),
        )
    if chosen is Factor.POSSESSION:
        return Authentication.possession()
    return two_factor_authentication(
        pin, chosen.value, allow_biometry=allow_biometry, biometry_allowed=True
    )


def choose_factor(operation: Operation, pin: str | None, *, allow_biometry: bool) -> Factor:
    """A PIN when given, else possession for 1FA, else the biometry factor if enabled."""
    if pin is not None and operation.allows(Factor.POSSESSION_KNOWLEDGE):
        return Factor.POSSESSION_KNOWLEDGE
    if operation.allows(Factor.POSSESSION):
        return Factor.POSSESSION
    if allow_biometry and operation.allows(Factor.POSSESSION_BIOMETRY):
        return Factor.POSSESSION_BIOMETRY
    if operation.allows(Factor.POSSESSION_KNOWLEDGE):
        raise validation_error("pin_required")
    raise validation_error(
        "factor_not_allowed",
        factor=Factor.POSSESSION_BIOMETRY.value,
        allowed=", ".join(operation.allowed_signature.factors),
    )


def two_factor_authentication(
    pin: str | None, factor: str | None, *, allow_biometry: bool, biometry_allowed: bool
) -> Authentication:
    """PIN or biometry-factor authentication; possession alone is refused."""
    if factor is None:
        factor = (
            Factor.POSSESSION_BIOMETRY.value
            if pin is None and allow_biometry and biometry_allowed
            else Factor.POSSESSION_KNOWLEDGE.value
        )
    if factor == Factor.POSSESSION_BIOMETRY:
        if not allow_biometry:
            raise validation_error("biometry_not_enabled")
        if not biometry_allowed:
            raise validation_error(
                "factor_not_allowed", factor=factor, allowed=Factor.POSSESSION_KNOWLEDGE.value
            )
        return Authentication.biometry()
    if factor != Factor.POSSESSION_KNOWLEDGE:
        raise validation_error(
            "factor_not_allowed", factor=factor, allowed=Factor.POSSESSION_KNOWLEDGE.value
        )
    if not pin:
        raise validation_error("pin_required")
    return Authentication.with_pin(pin)


def check_block_risk(
    auth: Authentication, status: ActivationStatusInfo | None, *, accept_block_risk: bool
) -> None:
    """Refuse a PIN attempt that would block the activation unless the caller accepts it."""
    if (
        auth.factor is Factor.POSSESSION_KNOWLEDGE
        and not accept_block_risk
        and status is not None
        and status.max_failed_attempts > 0
        and status.remaining_attempts <= 1
    ):
        raise validation_error("block_risk", remaining_attempts=str(status.remaining_attempts))
