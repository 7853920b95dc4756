"""What a transfer reports its end to: an event its waiters yield, or callbacks
(`Delivery`); and the error of a transfer cut by a link failure."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol, cast


class TransferFailed(Exception):
    """A transfer cut because a link on its path failed."""


class Delivery:
    """Where a transfer's end goes when its sender waits with callbacks, not on an event
    (`Network.send`): `arrived` with the bytes as the last byte arrives, `failed` with
    the `TransferFailed` when the transfer is cut. A pull storm moves thousands of blobs at
    once; this spares each an event.
    """

    __slots__ = ("arrived", "failed")

    def __init__(
        self, arrived: Callable[[float], None], failed: Callable[[TransferFailed], None]
    ) -> None:
        self.arrived = arrived
        self.failed = failed

    def succeed(self, value: Any = None) -> None:
        self.arrived(value)

    def fail(self, exception: Exception) -> None:
        self.failed(cast(TransferFailed, exception))


class Done(Protocol):
    """What a transfer reports its end to: an event its waiters yield, or callbacks."""

    def succeed(self, value: Any = None) -> object: ...

    def fail(self, exception: Exception) -> object: ...


def check_size(size_bytes: float) -> None:
    """Refuse a transfer of a negative or infinite size.

    Raises:
        ValueError: naming the size.
    """
    if not (size_bytes >= 0 and math.isfinite(size_bytes)):
        raise ValueError(f"size_bytes must be finite and >= 0, not {size_bytes}")
