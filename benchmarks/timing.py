"""Timing helpers: medians of interleaved runs and an event-loop lag probe."""

import asyncio
import contextlib
import statistics
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Final

PROBE_INTERVAL_S: Final = 0.001
MS_PER_S: Final = 1000.0


async def time_async(func: Callable[[], Awaitable[object]]) -> float:
    """Seconds one awaited call takes."""
    start = time.perf_counter()
    await func()
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    """The median (robust to the odd disturbed run on a shared machine)."""
    return statistics.median(values)


class LoopLagProbe:
    """A task sleeping 1 ms again and again; the longest overshoot is the longest stall.

    Anything that keeps the event loop busy (a synchronous parse, a key
    derivation on the loop instead of the executor) delays the probe's wake-up
    by as long as it runs.
    """

    def __init__(self) -> None:
        self.max_lag_s = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(PROBE_INTERVAL_S)
            lag = time.perf_counter() - start - PROBE_INTERVAL_S
            self.max_lag_s = max(self.max_lag_s, lag)

    @property
    def max_lag_ms(self) -> float:
        """The longest stall seen so far, in milliseconds."""
        return self.max_lag_s * MS_PER_S

    async def __aenter__(self) -> "LoopLagProbe":
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
