"""Injected faults: a slow, failing, lying or vanished server, or a skewed clock.

``POST /admin/faults {"kind", "count", "value"?}`` arms a fault for the next
``count`` non-admin requests; each such request uses up one of every armed
fault. Kinds:

- ``latency``: wait ``value`` seconds (default 1) before answering normally.
- ``http500``: answer 500 with the ERROR_GENERIC envelope, without processing.
- ``malformed``: process the request, then answer 200 with a truncated body
  (so a signed request has consumed its counter, as a lying proxy would).
- ``drop``: close the connection without answering, without processing.
- ``operation_failed``: a refused signature on an operation's approval answers
  ``OPERATION_FAILED`` instead of ``POWERAUTH_AUTH_FAIL`` (the failed attempt
  still counts), as servers do once a wrong PIN has used the operation up.
- ``clock_skew``: the server clock runs ``value`` seconds off (may be
  negative); ``count`` 0 keeps the skew until another clock_skew replaces it.
"""

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

DEFAULT_LATENCY_S: Final = 1.0
MAX_LATENCY_S: Final = 60.0
MAX_SKEW_S: Final = 10 * 365 * 24 * 3600
MAX_COUNT: Final = 10_000
#: Where the middleware leaves a request's faults for the handlers that act on them.
REQUEST_FAULTS_KEY: Final = "emulator_request_faults"


class FaultKind(StrEnum):
    """The faults the admin API can arm."""

    LATENCY = "latency"
    HTTP500 = "http500"
    MALFORMED = "malformed"
    DROP = "drop"
    CLOCK_SKEW = "clock_skew"
    OPERATION_FAILED = "operation_failed"


@dataclass
class Armed:
    """One armed fault; ``remaining`` None means until replaced (clock skew only)."""

    remaining: int | None
    value: float | None


@dataclass(frozen=True)
class RequestFaults:
    """The faults one request suffers."""

    latency_s: float = 0.0
    http500: bool = False
    malformed: bool = False
    drop: bool = False
    skew_s: float = 0.0
    operation_failed: bool = False


@dataclass
class Faults:
    """Armed faults and the clock skew they impose."""

    armed: dict[FaultKind, Armed] = field(default_factory=dict)

    def arm(self, kind: FaultKind, count: int, value: float | None) -> None:
        """Arm a fault for the next ``count`` requests (replacing the same kind)."""
        remaining: int | None = count
        if kind is FaultKind.CLOCK_SKEW and count == 0:
            remaining = None
        if remaining == 0:
            self.armed.pop(kind, None)
            return
        self.armed[kind] = Armed(remaining, value)

    def current_skew_s(self) -> float:
        """The skew in force now (without using up a request)."""
        skew = self.armed.get(FaultKind.CLOCK_SKEW)
        return (skew.value or 0.0) if skew else 0.0

    def take(self) -> RequestFaults:
        """Use up one request's worth of every armed fault."""
        taken: dict[FaultKind, float | None] = {}
        for kind, armed in list(self.armed.items()):
            taken[kind] = armed.value
            if armed.remaining is not None:
                armed.remaining -= 1
                if armed.remaining <= 0:
                    del self.armed[kind]
        latency = taken.get(FaultKind.LATENCY)
        return RequestFaults(
            latency_s=0.0 if FaultKind.LATENCY not in taken else latency or DEFAULT_LATENCY_S,
            http500=FaultKind.HTTP500 in taken,
            malformed=FaultKind.MALFORMED in taken,
            drop=FaultKind.DROP in taken,
            skew_s=taken.get(FaultKind.CLOCK_SKEW) or 0.0,
            operation_failed=FaultKind.OPERATION_FAILED in taken,
        )


async def apply_latency(faults: RequestFaults) -> None:
    """Sleep as long as the latency fault says."""
    if faults.latency_s > 0:
        await asyncio.sleep(faults.latency_s)
