"""A per-process circuit breaker for calls to a service that may fail or hang.

After ``failures`` consecutive failures the breaker opens and calls fail at once (``open_error``)
until ``reset_seconds`` have passed, so a dead or hung service costs a timeout per reset period
instead of one per call. After that:

- ``single_probe=False`` (Redis): every call may try again; the first failure re-opens it. The
  check while closed is lock-free, because it runs on every cache command.
- ``single_probe=True`` (Cloudinary): one call at a time is let through as a probe, which closes
  the breaker on success or re-opens it on failure.
"""

import logging
import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self,
        *,
        name: str,
        reset_seconds: float,
        open_error: Callable[[str], Exception],
        logger: logging.Logger,
        failures: int = 1,
        single_probe: bool = False,
    ) -> None:
        self.name = name
        self.reset_seconds = reset_seconds
        self.failures = failures
        self.single_probe = single_probe
        self.trips = 0
        self._open_error = open_error
        self._logger = logger
        self._consecutive = 0
        self._opened_at: float | None = None
        self._probing = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        opened_at = self._opened_at
        return opened_at is not None and time.monotonic() - opened_at < self.reset_seconds

    def before_call(self) -> None:
        if self._opened_at is None:
            return
        if not self.single_probe:
            if self.is_open:
                raise self._open_error(f"{self.name} circuit breaker is open")
            return
        with self._lock:
            if self._opened_at is None:
                return
            if self.is_open or self._probing:
                raise self._open_error(f"{self.name} circuit breaker is open")
            self._probing = True

    def record_success(self) -> None:
        if self._opened_at is None and not self._consecutive and not self._probing:
            return
        with self._lock:
            if self._opened_at is not None:
                self._logger.info("%s reachable again, breaker closed", self.name)
            self._consecutive = 0
            self._opened_at = None
            self._probing = False

    def record_failure(self, error: Exception) -> None:
        with self._lock:
            self._consecutive += 1
            if self._probing or self._consecutive >= self.failures:
                if not self.is_open:
                    self.trips += 1
                    self._logger.warning(
                        "%s unavailable, breaker open for %ss: %s",
                        self.name,
                        self.reset_seconds,
                        error,
                    )
                self._opened_at = time.monotonic()
            self._probing = False

    def reset(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._opened_at = None
            self._probing = False
