"""tcp-jitter: one line per slow TCP read, a delay histogram on exit (and every --interval
seconds). Ctrl-C / SIGTERM print the histogram and exit 0."""
from __future__ import annotations

import signal
import sys
import time
from types import FrameType

import tcp_jitter

from .core import OptionError, Options, format_event, parse_options, render_histogram, USAGE

HIST_SLOTS = 32


def histogram(skel: tcp_jitter.TcpJitter) -> list[int]:
    """delay_hist is per CPU: a slot's count is the sum over the CPUs"""
    return [sum(skel.maps.delay_hist.get(i, [])) for i in range(HIST_SLOTS)]


def run(o: Options) -> None:
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    old_int = signal.signal(signal.SIGINT, stop)
    old_term = signal.signal(signal.SIGTERM, stop)
    try:
        with tcp_jitter.init(rodata={"threshold_ns": round(o.threshold_ms * 1e6), "filter_port": o.port}) as skel:
            port = o.port or "any"
            print(f"tcp-jitter: attached (threshold {o.threshold_ms:g} ms, port {port})", file=sys.stderr, flush=True)
            now = time.monotonic()
            end = now + o.duration_s if o.duration_s > 0 else None
            next_hist = now + o.interval_s if o.interval_s > 0 else None

            def show(ev: tcp_jitter.Event, cpu: int) -> None:
                print(format_event(ev, o.json), flush=True)

            while not stopping:
                skel.maps.events.poll(show, 0.2)
                now = time.monotonic()
                if end is not None and now >= end:
                    break
                if next_hist is not None and now >= next_hist:
                    print(render_histogram(histogram(skel), o.json), flush=True)
                    next_hist += o.interval_s
            skel.maps.events.poll(show, 0)
            print(render_histogram(histogram(skel), o.json), flush=True)
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


def main(argv: list[str]) -> int:
    try:
        options = parse_options(argv)
    except OptionError as e:
        print(f"tcp-jitter: {e}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        run(options)
    except tcp_jitter.CoolbpfError as e:
        print(f"tcp-jitter: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
