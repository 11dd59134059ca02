"""Load generator for bench/ack_latency.py: its own process, aiohttp's client, N requests in flight.

Reads one JSON job from stdin: {"url" (or "urls": several; a body [kind, body, n] goes to urls[n], a body
[kind, body] to urls[i % len(urls)] in turn), "secret", "concurrency", "bodies": [[kind, body(, n)], ...],
"warmup": [body, ...], "timeout": seconds}. Signs every
body (Slack v0) just before the timed run, sends the warm-up (untimed; it opens the connections), then the
bodies with `concurrency` workers, and prints one JSON object: per-request latency (s), kind, status, and the
wall time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
import time

import aiohttp


def sign(secret: bytes, body: str, stamp: str) -> dict[str, str]:
    digest = hmac.new(secret, f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


async def run(job: dict) -> dict:
    secret = job["secret"].encode()
    urls: list[str] = job.get("urls") or [job["url"]]
    concurrency = int(job["concurrency"])
    stamp = str(int(time.time()))
    timeout = aiohttp.ClientTimeout(total=float(job.get("timeout", 30.0)))
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, force_close=False)
    results: list[tuple[str, float, int, str, int]] = []
    failures = 0

    async def send(
        session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[float, int, str]:
        started = time.perf_counter()
        try:
            async with session.post(url, data=body, headers=headers) as response:
                text = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            return time.perf_counter() - started, -1, type(exc).__name__
        return time.perf_counter() - started, status, text[:200].decode(errors="replace")

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        warm = [(urls[n % len(urls)], b.encode(), sign(secret, b, stamp)) for n, b in enumerate(job.get("warmup", []))]
        queue: asyncio.Queue = asyncio.Queue()
        for item in warm:
            queue.put_nowait(item)

        async def warm_worker() -> None:
            while not queue.empty():
                url, body, headers = queue.get_nowait()
                await send(session, url, body, headers)

        await asyncio.gather(*(warm_worker() for _ in range(concurrency)))

        prepared = [
            (
                item[0],
                urls[(item[2] if len(item) > 2 else n) % len(urls)],
                item[1].encode(),
                sign(secret, item[1], stamp),
            )
            for n, item in enumerate(job["bodies"])
        ]
        for item in prepared:
            queue.put_nowait(item)

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                kind, url, body, headers = queue.get_nowait()
                latency, status, text = await send(session, url, body, headers)
                results.append((kind, latency, status, text, urls.index(url)))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {
        "wall": wall,
        "latencies": [r[1] for r in results],
        "kinds": [r[0] for r in results],
        "statuses": [r[2] for r in results],
        "samples": {r[0]: r[3] for r in results},
        "targets": [r[4] for r in results],
    }


def main() -> None:
    job = json.load(sys.stdin)
    print(json.dumps(asyncio.run(run(job))))


if __name__ == "__main__":
    main()
