"""A per-process circuit breaker for calls to Cloudinary.

Cloudinary is a remote SaaS: when it fails or hangs, each call would hold a worker for a whole
timeout. After ``failures`` consecutive failures the breaker opens and calls fail at once (the API
answers 503) until ``reset_seconds`` have passed; then one call is let through as a probe, which
closes the breaker on success or opens it again on failure.
"""

import logging
import threading
import time

logger = logging.getLogger("etrainer.media")


class CircuitOpenError(Exception):
    """Raised instead of calling out while the breaker is open."""


class CircuitBreaker:
    def __init__(self, *, failures: int, reset_seconds: float) -> None:
        self.failures = failures
        self.reset_seconds = reset_seconds
        self._consecutive = 0
        self._opened_at: float | None = None
        self._probing = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        opened_at = self._opened_at
        return opened_at is not None and time.monotonic() - opened_at < self.reset_seconds

    def before_call(self) -> None:
        """Refuse while open; after the reset time let exactly one probe through at a time."""
        with self._lock:
            if self._opened_at is None:
                return
            if self.is_open or self._probing:
                raise CircuitOpenError("Cloudinary circuit breaker is open")
            self._probing = True

    def record_success(self) -> None:
        with self._lock:
            if self._opened_at is not None:
                logger.info("Cloudinary reachable again, breaker closed")
            self._consecutive = 0
            self._opened_at = None
            self._probing = False

    def record_failure(self, error: Exception) -> None:
        with self._lock:
            self._consecutive += 1
            if self._probing or self._consecutive >= self.failures:
                if not self.is_open:
                    logger.warning(
                        "Cloudinary failing, breaker open for %ss: %s", self.reset_seconds, error
                    )
                self._opened_at = time.monotonic()
            self._probing = False

    def reset(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._opened_at = None
            self._probing = False
