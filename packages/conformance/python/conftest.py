"""The Python column's harness: whether the kernel tests can run here, the
scenarios' generated packages (built by scripts/build-scenarios.mjs into
build/<name>/python/, imported from there as a user's program would after
`pip install`), expect.json, the trigger, what the kernel and this process
hold, CPUs; and the report python.test.ts turns into one vitest test per
test here.

Every test is marked with the expect.json case ids it covers:
``@case("init")`` (several: ``@case("bits-to-c", "c-to-bits")``).
"""
from __future__ import annotations

import dataclasses
import enum
import importlib
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import pytest

PKG = Path(__file__).resolve().parent.parent
BUILD = PKG / "build"
SCENARIOS = PKG / "scenarios"

F = TypeVar("F", bound=Callable[..., Any])


def case(*ids: str) -> Callable[[F], F]:
    """Marks a test with the expect.json case ids it covers."""

    def mark(f: F) -> F:
        setattr(f, "case_ids", ids)
        return f

    return mark


# ---- whether the kernel tests can run ---------------------------------------


def kernel_skip_reason() -> str | None:
    if sys.platform != "linux":
        return f"BPF needs Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "loading BPF needs root (run the tests as root, as CI does)"
    if not os.access("/sys/kernel/btf/vmlinux", os.R_OK):
        return "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
    if not os.access("/sys/kernel/tracing/events/syscalls/sys_enter_getppid", os.R_OK):
        return ("no syscalls/sys_enter_getppid tracepoint (tracefs not mounted at "
                "/sys/kernel/tracing, or no syscall tracepoints)")
    return None


def need_kernel() -> None:
    why = kernel_skip_reason()
    if why:
        pytest.skip(why)


# ---- scenarios ------------------------------------------------------------------


def expected(scenario: str) -> dict[str, Any]:
    return json.loads((SCENARIOS / scenario / "expect.json").read_text())  # type: ignore[no-any-return]


def spec(scenario: str, case_id: str) -> dict[str, Any]:
    for c in expected(scenario)["cases"]:
        if c["id"] == case_id:
            return c  # type: ignore[no-any-return]
    raise KeyError(case_id)


class Built:
    def __init__(self, scenario: str) -> None:
        self.dir = BUILD / scenario
        self.bpf_o = self.dir / "bpf.o"
        self.bpf_so = self.dir / "bpf.so"
        self.python = self.dir / "python"


def built(scenario: str) -> Built:
    return Built(scenario)


def load_scenario(scenario: str) -> Any:
    """Imports a scenario's generated package (build/<name>/python/<name>/)."""
    b = built(scenario)
    if not (b.python / scenario / "__init__.py").exists():
        pytest.fail(f"no generated package in {b.python} (scripts/build-scenarios.mjs builds it)")
    path = str(b.python)
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module(scenario)


# ---- the trigger -------------------------------------------------------------------


def trigger(n: int = 1) -> None:
    """n getppid(2) system calls from this thread (os.getppid() makes one every time)."""
    for _ in range(n):
        os.getppid()


def own_comm() -> str:
    pid = os.getpid()
    return Path(f"/proc/{pid}/task/{pid}/comm").read_text().rstrip("\n")


# ---- values --------------------------------------------------------------------


def plain(v: Any) -> Any:
    """A decoded value as JSON-like data: dataclasses as dicts, enums as ints, bytes as lists."""
    if v is None or isinstance(v, (bool, str, float)):
        return v
    if isinstance(v, enum.Enum):
        return int(v.value)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, bytes):
        return list(v)
    if isinstance(v, list):
        return [plain(x) for x in v]
    return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}


def like(e: Any, t: Any) -> Any:
    """expect.json's neutral value (64-bit integers as decimal strings) as the Python
    value of the type of `t` (a decoded value of the type): ints, bytes, dataclasses."""
    if isinstance(t, bool) or t is None or isinstance(t, str):
        return e
    if isinstance(t, int):
        return int(e)
    if isinstance(t, float):
        return float(e)
    if isinstance(t, bytes):
        return bytes(e)
    if isinstance(t, list):
        return [like(x, t[i] if i < len(t) else t[0]) for i, x in enumerate(e)]
    kw = {}
    for f in dataclasses.fields(t):
        layout = type(t).FIELDS.get(f.name)
        c = layout.c_name if layout is not None else f.name
        if c in e:
            kw[f.name] = like(e[c], getattr(t, f.name))
    return type(t)(**kw)


def by_c_name(v: Any) -> Any:
    """plain(), with struct members under their C names (as expect.json has them)."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {type(v).FIELDS[f.name].c_name: by_c_name(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, list):
        return [by_c_name(x) for x in v]
    return plain(v)


def json_ints(e: Any, t: Any) -> Any:
    """expect.json's value with decimal strings where the decoded value `t` has ints."""
    if isinstance(t, bool):
        return e
    if isinstance(t, int) and isinstance(e, str):
        return int(e)
    if isinstance(t, list) and isinstance(e, list):
        return [json_ints(x, t[i] if i < len(t) else None) for i, x in enumerate(e)]
    if isinstance(t, dict) and isinstance(e, dict):
        return {k: json_ints(x, t.get(k)) for k, x in e.items()}
    return e


# ---- errors ---------------------------------------------------------------------------


def raises_code(code: str, f: Callable[[], Any]) -> Any:
    """The CoolbpfError f() raised, with this code (fails the test otherwise)."""
    try:
        f()
    except Exception as e:  # noqa: BLE001
        if type(e).__name__ != "CoolbpfError":
            pytest.fail(f"expected a CoolbpfError {code}, got {type(e).__name__}: {e}")
        if getattr(e, "code") != code:
            pytest.fail(f"expected a CoolbpfError {code}, got {getattr(e, 'code')}: {e}")
        return e
    pytest.fail(f"expected a CoolbpfError {code}, the call returned")


# ---- what this process holds, what the kernel has ---------------------------------------


def held() -> dict[str, Any]:
    """The BPF objects behind this process's fds, by kernel id, and the fds by kind."""
    out: dict[str, Any] = {"programs": [], "maps": [], "links": [], "kinds": {}}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if not target.startswith("anon_inode:"):
            continue
        out["kinds"][target] = out["kinds"].get(target, 0) + 1

        def ident(key: str) -> int | None:
            try:
                m = re.search(rf"^{key}:\s*(\d+)", Path(f"/proc/self/fdinfo/{fd}").read_text(), re.M)
            except OSError:
                return None
            return int(m.group(1)) if m else None

        for kind, key, lst in [("anon_inode:bpf-prog", "prog_id", "programs"), ("anon_inode:bpf-map", "map_id", "maps"),
                               ("anon_inode:bpf_link", "link_id", "links")]:
            if target == kind:
                v = ident(key)
                if v is not None and v not in out[lst]:
                    out[lst].append(v)
    for k in ("programs", "maps", "links"):
        out[k].sort()
    return out


def bpf_fd_counts() -> dict[str, int]:
    k = held()["kinds"]
    return {
        "programs": k.get("anon_inode:bpf-prog", 0),
        "maps": k.get("anon_inode:bpf-map", 0),
        "links": k.get("anon_inode:bpf_link", 0),
        "perf_events": k.get("anon_inode:[perf_event]", 0),
        "epoll": k.get("anon_inode:[eventpoll]", 0),
    }


def bpftool(what: str) -> list[dict[str, Any]]:
    out = subprocess.run(["bpftool", "-j", what, "show"], check=True, capture_output=True, text=True).stdout
    return json.loads(out or "[]")  # type: ignore[no-any-return]


def kernel_lists() -> dict[str, list[dict[str, Any]]]:
    return {"programs": bpftool("prog"), "maps": bpftool("map"), "links": bpftool("link")}


def still_in_kernel(ids: dict[str, list[int]], timeout: float = 10.0) -> dict[str, list[int]]:
    """Which of these ids are still in the kernel's lists, once none is or after timeout
    (the kernel frees them after an RCU grace period)."""
    deadline = time.monotonic() + timeout
    while True:
        lists = kernel_lists()
        left = {k: [i for i in ids[k] if any(e["id"] == i for e in lists[k])] for k in ("programs", "maps", "links")}
        if not any(left.values()) or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def programs_named(prefix: str, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        left = [str(p.get("name", "")) for p in bpftool("prog") if str(p.get("name", "")).startswith(prefix)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


# ---- CPUs ------------------------------------------------------------------------------


def allowed_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


@contextmanager
def on_cpu(cpu: int) -> Iterator[None]:
    """This thread (the one making the system calls) pinned to one CPU, then restored."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def possible_cpus() -> int:
    n = 0
    for part in Path("/sys/devices/system/cpu/possible").read_text().strip().split(","):
        a, _, b = part.partition("-")
        n += (int(b) if b else int(a)) - int(a) + 1
    return n


def until(pred: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


# ---- the report python.test.ts reads ---------------------------------------------------

_REPORT: list[dict[str, Any]] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fn = getattr(item, "function", None)
        ids = getattr(fn, "case_ids", None)
        item.user_properties.append(("cases", list(ids) if ids else []))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    cases = dict(report.user_properties).get("cases", [])
    entry = next((e for e in _REPORT if e["nodeid"] == report.nodeid), None)
    if entry is None:
        entry = {"nodeid": report.nodeid, "cases": cases, "outcome": "passed", "message": "", "doc": ""}
        _REPORT.append(entry)
    if report.when == "call" and hasattr(report, "wasxfail"):
        entry["outcome"] = "xfailed" if report.skipped else "xpassed"
        entry["message"] = str(report.wasxfail)
        return
    if report.skipped:
        entry["outcome"] = "skipped"
        lr = report.longrepr
        entry["message"] = str(lr[2]) if isinstance(lr, tuple) else str(lr)
    elif report.failed:
        entry["outcome"] = "failed"
        entry["message"] = report.longreprtext[-6000:]


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get("COOLBPF_PYTEST_REPORT")
    if path:
        docs = {item.nodeid: (getattr(getattr(item, "function", None), "__doc__", None) or "").strip().split("\n")[0]
                for item in session.items}
        for e in _REPORT:
            e["doc"] = docs.get(e["nodeid"], "")
        Path(path).write_text(json.dumps({"tests": _REPORT}, indent=1))
