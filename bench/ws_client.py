"""One client process of the WebSocket fan-out bench (bench/websocket.py starts several).

Reads JSON lines on stdin, writes JSON lines on stdout:
- given ``{"url", "tokens", "origin", "concurrency"}``, opens one authenticated socket per token
  (``?token=``), waits for each ``ready`` (after a close 4503 it retries, as a client should,
  up to RETRIES times; every failed attempt is counted by exception and close code; connect time
  is the successful attempt's, from the TCP connect to ``ready``), then answers
  ``{"connected": n, "failed": n, "connect_ms": [...], "errors": {...}}``;
- then waits for one ``notification`` frame per socket (pings are ignored) until ``{"timeout": s}``
  given next has passed, and answers ``{"received": [epoch seconds, ...], "missing": n}``;
- closes everything on ``{"close": true}`` (or end of input).

RLIMIT_NOFILE is raised to its hard limit first: one descriptor per socket.
"""

import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter

from websockets.asyncio.client import connect

RETRY_CODE = 4503  # the server's "Redis unavailable, try again later"
RETRIES = 5


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def read_line() -> dict:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return json.loads(line) if line.strip() else {"close": True}


def answer(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


class Socket:
    def __init__(self) -> None:
        self.connection = None
        self.received_at: float | None = None
        self.reader: asyncio.Task | None = None

    async def open(self, url: str, origin: str) -> float:
        started = time.perf_counter()
        self.connection = await connect(
            url, origin=origin, open_timeout=60, ping_interval=None, max_queue=64, compression=None
        )
        while True:
            frame = json.loads(await asyncio.wait_for(self.connection.recv(), 60))
            if frame.get("type") == "ready":
                return (time.perf_counter() - started) * 1000
            if frame.get("type") != "ping":
                raise RuntimeError(f"unexpected frame before ready: {frame}")

    async def wait_notification(self) -> None:
        async for raw in self.connection:
            if json.loads(raw).get("type") == "notification":
                self.received_at = time.time()
                return


async def main() -> None:
    raise_nofile()
    job = await read_line()
    sockets = [Socket() for _ in job["tokens"]]
    limit = asyncio.Semaphore(job.get("concurrency", 100))
    errors: Counter = Counter()
    connect_ms: list[float] = []

    async def open_one(sock: Socket, token: str) -> None:
        """A real client reconnects after a 4503 ("try again later") with a random backoff."""
        for attempt in range(RETRIES + 1):
            async with limit:
                try:
                    connect_ms.append(await sock.open(f"{job['url']}?token={token}", job["origin"]))
                    return
                except Exception as exc:  # counted and reported: the run goes on
                    code = getattr(getattr(exc, "rcvd", None), "code", None)
                    errors[f"{type(exc).__name__} {code or ''}".strip()] += 1
                    sock.connection = None
                    if code != RETRY_CODE or attempt == RETRIES:
                        errors["gave up"] += 1
                        return
            await asyncio.sleep(random.uniform(0.5, 2.0) * (attempt + 1))

    started = time.perf_counter()
    await asyncio.gather(*(open_one(s, t) for s, t in zip(sockets, job["tokens"], strict=True)))
    live = [s for s in sockets if s.connection is not None]
    for sock in live:
        sock.reader = asyncio.ensure_future(sock.wait_notification())
    answer(
        {
            "connected": len(live),
            "failed": len(sockets) - len(live),
            "connect_ms": connect_ms,
            "wall_s": time.perf_counter() - started,
            "errors": dict(errors),
        }
    )
    order = await read_line()
    if "timeout" in order:
        readers = [s.reader for s in live if s.reader]
        if readers:
            await asyncio.wait(readers, timeout=order["timeout"])
        received = [s.received_at for s in live if s.received_at is not None]
        answer({"received": received, "missing": len(live) - len(received)})
        order = await read_line()
    for sock in live:
        if sock.reader and not sock.reader.done():
            sock.reader.cancel()
    await asyncio.gather(*(s.connection.close() for s in live), return_exceptions=True)
    answer({"closed": len(live)})


if __name__ == "__main__":
    asyncio.run(main())
