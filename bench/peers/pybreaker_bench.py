#!/usr/bin/env python3
"""The peer: pybreaker with its Redis storage, on the success path at concurrency 1.

Run by the bench binary against the same redis-server as the Rust measurements:

    python3 bench/peers/pybreaker_bench.py --url redis://127.0.0.1:PORT/ --seconds 3

Prints one JSON line: calls, seconds, calls_per_s, redis_cmds_per_call (from INFO
commandstats, INFO itself excluded) and the versions used.
"""

import argparse
import json
import time
from importlib.metadata import version

import pybreaker
import redis


def total_commands(client):
    """Commands Redis has run so far, INFO itself excluded."""
    stats = client.info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k != "cmdstat_info")


def noop():
    return None


def run(breaker, seconds):
    calls = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while True:
        # Check the clock every 64 calls so that reading it costs little.
        for _ in range(64):
            breaker.call(noop)
        calls += 64
        now = time.perf_counter()
        if now >= deadline:
            return calls, now - started


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    args = parser.parse_args()

    client = redis.Redis.from_url(args.url)
    storage = pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED, client, namespace="bench-pybreaker"
    )
    breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60, state_storage=storage)
    run(breaker, args.warmup)
    before = total_commands(client)
    calls, elapsed = run(breaker, args.seconds)
    commands = total_commands(client) - before
    print(
        json.dumps(
            {
                "calls": calls,
                "seconds": elapsed,
                "calls_per_s": calls / elapsed,
                "redis_cmds_per_call": commands / calls,
                "pybreaker": version("pybreaker"),
                "redis_py": version("redis"),
            }
        )
    )


if __name__ == "__main__":
    main()
