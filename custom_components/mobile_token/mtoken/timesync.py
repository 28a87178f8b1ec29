"""Server-synchronised time (protocol trap 7, mobile-token-api.md section 6).

From protocol 3.2 on, ECIES timestamps and token digests are checked against
the server's clock, so the client keeps an offset learnt from the server and
never trusts the local clock alone.
"""

import time
from datetime import UTC, datetime


def local_time_ms() -> int:
    """The local wall clock in epoch milliseconds."""
    return time.time_ns() // 1_000_000


class ServerClock:
    """The offset between the server's clock and ours, in milliseconds."""

    def __init__(self) -> None:
        self.offset_ms = 0
        self.synchronized = False

    def now_ms(self) -> int:
        """The server's current time as best we know it."""
        return local_time_ms() + self.offset_ms

    def now(self) -> datetime:
        """The server's current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now_ms() / 1000, tz=UTC)

    def update(
        self, server_time_ms: int, *, sent_ms: int, received_ms: int, resolution_ms: int = 0
    ) -> None:
        """Learn the offset from a server timestamp taken mid-way through a request.

        A coarse timestamp (``resolution_ms``, e.g. whole seconds) only replaces
        a finer offset learnt earlier when it disagrees by more than its resolution.
        """
        round_trip = max(0, received_ms - sent_ms)
        offset = server_time_ms + round_trip // 2 - received_ms
        if self.synchronized and abs(offset - self.offset_ms) <= resolution_ms + round_trip:
            return
        self.offset_ms = offset
        self.synchronized = True
