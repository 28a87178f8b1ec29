"""The server's clock, which the ``clock_skew`` fault can move.

Every timestamp the emulator checks or sends (ECIES, token digests,
``currentTimestamp``, operation expiry, TOTP) comes from here, so a skewed
server looks skewed to the client in every way at once.
"""

import time
from typing import Final

MS_PER_SECOND: Final = 1000


class Clock:
    """Wall-clock milliseconds plus an adjustable skew."""

    def __init__(self) -> None:
        self.skew_ms = 0

    def now_ms(self) -> int:
        """Server time in milliseconds since the epoch."""
        return int(time.time() * MS_PER_SECOND) + self.skew_ms

    def now_s(self) -> float:
        """Server time in seconds (for TOTP steps)."""
        return self.now_ms() / MS_PER_SECOND
