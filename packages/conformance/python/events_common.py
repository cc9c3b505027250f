"""What ringbuf and perfbuf share: their expect.json's events as the Python wrapper
types them, with the placeholders filled in, and the exit child's runner."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import built, own_comm


def py_event(e: dict[str, Any], cpu: int) -> dict[str, Any]:
    """An event of expect.json (64-bit fields as decimal strings; $pid/$comm/$cpu) as plain data."""
    fill = {"$pid": os.getpid(), "$comm": own_comm(), "$cpu": cpu}
    out = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in e.items()}
    for k in ("seq", "u64", "s64"):
        out[k] = int(e[k])
    return out


def event_dict(ev: Any) -> dict[str, Any]:
    return {
        "seq": ev.seq, "u8": ev.u8, "s8": ev.s8, "u16": ev.u16, "s16": ev.s16, "u32": ev.u32, "s32": ev.s32,
        "u64": ev.u64, "s64": ev.s64, "flag": ev.flag, "comm": ev.comm, "kind": int(ev.kind), "arr": ev.arr,
        "pt": {"x": ev.pt.x, "y": ev.pt.y}, "pid": ev.pid, "tid": ev.tid, "cpu": ev.cpu,
    }


def run_exit_child(scenario: str, event_map: str, within_s: float) -> tuple[Any, str, str]:
    """Runs exit_child.py for a scenario's package: (exit code or 'still running', stdout, stderr)."""
    child = subprocess.Popen([sys.executable, str(Path(__file__).with_name("exit_child.py")),
                              str(built(scenario).python), scenario, event_map],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    try:
        out, err = child.communicate(timeout=within_s)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        return f"still running after {within_s} s", out, err
    del t0
    return child.returncode, out, err


def parse(out: str) -> Any:
    return json.loads(out)
