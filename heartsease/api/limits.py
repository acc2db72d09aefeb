"""Limits on what one sender may ask of the service: failed sign-ins per person and address
(shared by every worker through Redis when there is one), and messages per second from one
sender over a WebSocket (a streamed session, a viewer)."""

from __future__ import annotations

import logging
import math
import uuid
from collections import defaultdict, deque

log = logging.getLogger(__name__)

MAX_FAILED_SIGN_INS = 5  # per email and address, within FAILED_SIGN_IN_WINDOW_S
FAILED_SIGN_IN_WINDOW_S = 300.0
SIGN_IN_PREFIX = "heartsease:sign-in-failures:"


class SignInLimiter:
    """Failed sign-ins per (email, address) over a sliding window: password guessing slows
    to a few tries every five minutes, while a person who mistypes is not locked out for
    long. In this process's memory (one worker)."""

    def __init__(self) -> None:
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def retry_after_s(self, key: tuple[str, str], now: float) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        failures = self._failures.get(key)
        while failures and now - failures[0] > FAILED_SIGN_IN_WINDOW_S:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
            return 0.0
        return _wait_s(list(failures), now)

    def failed(self, key: tuple[str, str], now: float) -> None:
        self._failures[key].append(now)


class RedisSignInLimiter(SignInLimiter):
    """The same window kept in Redis (a sorted set of failure times per key), so several
    workers count together and a guesser gains nothing by landing on another. If Redis is
    unreachable, this worker counts alone (and says so) rather than refusing every sign-in.
    Times are wall-clock seconds, the one clock the workers share."""

    def __init__(self, redis_url: str) -> None:
        import redis

        super().__init__()
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=1.0,
                                           socket_connect_timeout=1.0)
        self._errors = (redis.RedisError, OSError)

    def retry_after_s(self, key: tuple[str, str], now: float) -> float:
        name = _redis_key(key)
        try:
            pipe = self._redis.pipeline()
            pipe.zremrangebyscore(name, "-inf", now - FAILED_SIGN_IN_WINDOW_S)
            pipe.zrange(name, 0, -1, withscores=True)
            failures = [score for _, score in pipe.execute()[1]]
        except self._errors as exc:
            log.warning("sign-in limits are per worker while Redis is unreachable: %s", exc)
            return super().retry_after_s(key, now)
        return _wait_s(failures, now) if failures else 0.0

    def failed(self, key: tuple[str, str], now: float) -> None:
        name = _redis_key(key)
        try:
            pipe = self._redis.pipeline()
            pipe.zadd(name, {uuid.uuid4().hex: now})
            pipe.expire(name, math.ceil(FAILED_SIGN_IN_WINDOW_S))
            pipe.execute()
        except self._errors:
            super().failed(key, now)


def _wait_s(failures: list[float], now: float) -> float:
    if len(failures) < MAX_FAILED_SIGN_INS:
        return 0.0
    return max(0.0, FAILED_SIGN_IN_WINDOW_S - (now - min(failures)))


def _redis_key(key: tuple[str, str]) -> str:
    email, address = key
    return f"{SIGN_IN_PREFIX}{address}:{email}"


def make_sign_in_limiter(redis_url: str | None) -> SignInLimiter:
    return RedisSignInLimiter(redis_url) if redis_url else SignInLimiter()


class MessageRate:
    """A token bucket for one sender: ``per_s`` messages a second on average, bursts of
    up to ``burst``. :meth:`wait_s` counts a message in and says how long to hold it so
    that the rate holds (0: at once).

    >>> rate = MessageRate(per_s=2, burst=3)
    >>> [rate.wait_s(now=0.0) for _ in range(4)]
    [0.0, 0.0, 0.0, 0.5]
    >>> rate.wait_s(now=1.0)  # the held one went at 0.5; one more token by 1.0
    0.0
    >>> rate.bursting
    True
    """

    def __init__(self, per_s: float, burst: float) -> None:
        self.per_s = per_s
        self.burst = burst
        self._tokens = burst
        self._at: float | None = None

    def wait_s(self, now: float) -> float:
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_s)
        self._at = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.per_s

    @property
    def bursting(self) -> bool:
        """Whether the sender is running ahead of the rate (two messages or more)."""
        return self._tokens <= self.burst - 2.0
