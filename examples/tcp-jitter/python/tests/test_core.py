"""Unit tests of tcpjitter.core: the same expected output as the other languages' apps
(tests/expected/), and option parsing."""
from __future__ import annotations

import unittest
from pathlib import Path

from tcp_jitter import Event

from tcpjitter import OptionError, Options, format_event, parse_options, render_histogram

EXPECTED = Path(__file__).resolve().parents[2] / "tests" / "expected"


def expected(name: str) -> str:
    return (EXPECTED / name).read_text().removesuffix("\n")


# the generated package's record type, as the app gets it from the ring buffer
EV4 = Event(ts_ns=123456789012, delay_ns=1000265000, pid=4242, queue_cpu=1, read_cpu=0, family=2,
            sport=47001, dport=49246, saddr=bytes([127, 0, 0, 1]) + bytes(12),
            daddr=bytes([10, 199, 0, 2]) + bytes(12), comm="python3")
EV6 = Event(ts_ns=5, delay_ns=150000000, pid=1, queue_cpu=0, read_cpu=1, family=10, sport=443,
            dport=50000, saddr=bytes(15) + b"\x01", daddr=b"\xfe\x80" + bytes(10) + b"\x00\x01\x00\x02",
            comm='srv "x"\\')


class CoreTest(unittest.TestCase):
    def test_events(self) -> None:
        for name, ev in (("event4", EV4), ("event6", EV6)):
            self.assertEqual(format_event(ev, False), expected(f"{name}.txt"))
            self.assertEqual(format_event(ev, True), expected(f"{name}.json"))

    def test_histograms(self) -> None:
        counts = [0] * 32
        counts[0], counts[3], counts[19] = 3, 1, 2
        self.assertEqual(render_histogram(counts, False), expected("histogram.txt"))
        self.assertEqual(render_histogram(counts, True), expected("histogram.json"))
        self.assertEqual(render_histogram([0] * 32, False), expected("histogram-empty.txt"))
        self.assertEqual(render_histogram([0] * 32, True), expected("histogram-empty.json"))

    def test_options(self) -> None:
        self.assertEqual(parse_options([]), Options())
        self.assertEqual(
            parse_options(["--threshold", "2.5", "--port", "8080", "--duration", "3", "--interval", "1", "--json"]),
            Options(threshold_ms=2.5, port=8080, duration_s=3, interval_s=1, json=True))
        for bad, message in ((["--port", "70000"], "--port"), (["--port", "1.5"], "--port"),
                             (["--threshold"], "got nothing"), (["--threshold", "-1"], "--threshold"),
                             (["--bogus"], "unknown argument: --bogus")):
            with self.assertRaises(OptionError) as e:
                parse_options(bad)
            self.assertIn(message, str(e.exception))


if __name__ == "__main__":
    unittest.main()
