"""net-observe: a live table of an application's TCP connections.

    python -m netobserve [--pid N] [--port N] [--interval S] [--json]

--json prints {"connections": [...]} once, at exit (SIGINT/SIGTERM).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from types import FrameType

from . import ConnectionStats, observe


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def table(conns: list[ConnectionStats]) -> str:
    head = ["PID", "COMM", "LOCAL", "REMOTE", "PROTO", "IN", "OUT", "REQS", "P50ms", "P99ms"]
    rows = [[
        str(c.pid), c.comm, f"{c.local_addr}:{c.local_port}", f"{c.remote_addr}:{c.remote_port}",
        c.protocol + ("*" if c.closed else ""), str(c.bytes_in), str(c.bytes_out), str(c.requests),
        _ms(c.p50_ms), _ms(c.p99_ms),
    ] for c in conns]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]
    return "\n".join("  ".join(v.ljust(widths[i]) for i, v in enumerate(r)).rstrip() for r in [head, *rows])


def main() -> int:
    ap = argparse.ArgumentParser(prog="netobserve", description=__doc__.splitlines()[1] if __doc__ else None)
    ap.add_argument("--pid", type=int, default=0, help="only this process (0: all)")
    ap.add_argument("--port", type=int, default=0, help="only connections with this local or peer port (0: all)")
    ap.add_argument("--interval", type=float, default=1.0, help="table refresh, seconds")
    ap.add_argument("--json", action="store_true", help="print the connections as JSON at exit")
    args = ap.parse_args()

    stopping = False

    def stop(_sig: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        obs = observe(pid=args.pid, port=args.port)
    except Exception as e:  # noqa: BLE001 - one line for the user
        print(f"netobserve: {e}", file=sys.stderr)
        return 1
    with obs:
        print("net-observe: ready", file=sys.stderr, flush=True)
        next_table = time.monotonic() + args.interval
        while not stopping:
            obs.poll(0.2)
            if not args.json and time.monotonic() >= next_table:
                next_table += args.interval
                out = table(obs.connections())
                sys.stdout.write(f"\x1b[H\x1b[2J{out}\n" if sys.stdout.isatty() else f"{out}\n\n")
                sys.stdout.flush()
        conns = obs.connections()
        dropped = obs.dropped()
    if args.json:
        print(json.dumps({"connections": [c.to_json() for c in conns], "dropped": dropped}))
    else:
        print(table(conns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
