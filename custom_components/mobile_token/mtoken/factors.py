"""The factors a mobile token signs with, and the PIN rules (protocol sections 3 and 4)."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .errors import InvalidPinError

MIN_PIN_LENGTH: Final = 4


class Factor(StrEnum):
    """The signature types a mobile token approves with."""

    POSSESSION = "possession"
    POSSESSION_KNOWLEDGE = "possession_knowledge"
    POSSESSION_BIOMETRY = "possession_biometry"


@dataclass(frozen=True, slots=True)
class Authentication:
    """Which factors sign a request, with the PIN when knowledge is one of them."""

    factor: Factor
    pin: str | None = None

    @classmethod
    def possession(cls) -> "Authentication":
        """Possession only (1FA operations, rejects, tokens)."""
        return cls(Factor.POSSESSION)

    @classmethod
    def with_pin(cls, pin: str) -> "Authentication":
        """Possession and knowledge: the user's PIN."""
        return cls(Factor.POSSESSION_KNOWLEDGE, pin)

    @classmethod
    def biometry(cls) -> "Authentication":
        """Possession and the stored biometry-factor key (approval without a PIN)."""
        return cls(Factor.POSSESSION_BIOMETRY)

    def __repr__(self) -> str:
        # Never show the PIN, not even in a traceback.
        return f"Authentication({self.factor.value})"


def check_pin(pin: str) -> None:
    """Refuse PINs the mobile SDK would refuse (digits only, at least four)."""
    if len(pin) < MIN_PIN_LENGTH or not pin.isdigit():
        raise InvalidPinError(f"The PIN must be at least {MIN_PIN_LENGTH} digits")
