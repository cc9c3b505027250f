"""lifecycle: open -> set .rodata -> load -> attach, autoload, explicit attach and
detach, destroy, the errors of calls out of order and after destroy, and nothing
left in the kernel or in this process afterwards."""
from __future__ import annotations

import os
from typing import Any

import pytest
from conftest import (
    bpf_fd_counts, case, held, kernel_lists, load_scenario, need_kernel, programs_named, raises_code, spec,
    still_in_kernel, trigger,
)

PID = os.getpid()


@pytest.fixture(scope="module")
def g() -> Any:
    need_kernel()
    m = load_scenario("lifecycle")
    yield m
    # whatever a test left loaded would show here
    assert programs_named("lc_") == []


@case("init")
def test_init(g: Any) -> None:
    """init: open + load + attach; every os.getppid() is one getppid(2), counted once"""
    c = spec("lifecycle", "init")
    ex = c["expect"]
    with g.init(rodata={"target_tgid": PID}) as x:
        assert x.object.state == ex["state"]
        assert x.rodata.target_tgid == PID
        trigger(c["triggers"])
        assert x.bss.count == ex["bss.count"]
        assert x.maps.lc_hits[0] == ex["lc_hits[0]"]
        assert x.bss.manual_count == ex["bss.manual_count"]
        assert x.bss.optional_count == ex["bss.optional_count"]


@case("step-by-step")
def test_step_by_step(g: Any) -> None:
    """step-by-step: open -> set rodata -> load -> attach; programs run only once attached"""
    c = spec("lifecycle", "step-by-step")
    ex, t = c["expect"], c["triggers"]
    with g.open() as opened:
        assert opened.object.state == ex["opened"]["state"]
        opened.rodata.target_tgid = PID
        assert opened.rodata.target_tgid == PID
        trigger(t["opened"])
        x = opened.load()
        assert x.object.state == ex["loaded"]["state"]
        assert x.rodata.target_tgid == PID
        trigger(t["loaded"])
        assert x.bss.count == ex["loaded"]["bss.count"]
        x.attach()
        assert x.object.state == ex["attached"]["state"]
        trigger(t["attached"])
        assert x.bss.count == ex["attached"]["bss.count"]


@case("autoload")
def test_autoload(g: Any) -> None:
    """autoload: a program turned off before load is not loaded, a SEC("?...") one turned on is"""
    c = spec("lifecycle", "autoload")
    ex = c["expect"]
    before = set(held()["programs"])

    def check(x: Any) -> None:
        ours = [i for i in held()["programs"] if i not in before]
        assert len(ours) == len(ex["loadedPrograms"])
        trigger(c["triggers"])
        assert x.bss.count == ex["bss.count"]
        assert x.bss.optional_count == ex["bss.optional_count"]
        names = sorted(p["name"] for p in kernel_lists()["programs"] if p["id"] in ours)
        assert names == ex["loadedPrograms"]

    with g.open(rodata={"target_tgid": PID}) as opened:
        assert opened.programs.lc_count.autoload is True
        assert opened.programs.lc_optional.autoload is False
        opened.programs.lc_count.autoload = False
        opened.programs.lc_optional.autoload = True
        assert (opened.programs.lc_count.autoload, opened.programs.lc_optional.autoload) == (False, True)
        x = opened.load()
        x.attach()
        check(x)
    with g.init(rodata={"target_tgid": PID}, autoload={"lc_count": False, "lc_optional": True}) as x:
        check(x)


@case("explicit-attach")
def test_explicit_attach(g: Any) -> None:
    """explicit-attach: a SEC("tracepoint") program attached by name, detached by the Link and by `with`"""
    c = spec("lifecycle", "explicit-attach")
    t, ex = c["triggers"], c["expect"]
    category, name = c["manualTarget"]
    with g.init(rodata={"target_tgid": PID}) as x:
        trigger(t["a"])
        assert x.bss.manual_count == 0
        link = x.programs.lc_manual.attach_tracepoint(category, name)
        trigger(t["b"])
        assert x.bss.manual_count == t["b"]
        link.detach()
        trigger(t["c"])
        assert x.bss.manual_count == t["b"]
        link.detach()  # idempotent
        with x.programs.lc_manual.attach_tracepoint(category, name):
            trigger(t["d"])
        trigger(t["e"])
        assert x.bss.manual_count == ex["bss.manual_count"]
        assert x.bss.count == ex["bss.count"]
        # SEC("tracepoint") names no target: attach() says so
        with pytest.raises(TypeError, match=r"lc_manual.*names no target.*attach_tracepoint"):
            x.programs.lc_manual.attach()
    # loaded, not attached: only the program attached explicitly runs
    with g.open(rodata={"target_tgid": PID}).load() as x:
        link = x.programs.lc_count.attach()
        trigger(t["f"])
        with link:
            pass
        trigger(t["g"])
        assert x.bss.count == ex["explicitOnly.bss.count"]
        assert x.bss.manual_count == 0


@case("destroy-idempotent")
def test_destroy_idempotent(g: Any) -> None:
    """destroy-idempotent: destroy (and close, and leaving a with block) is idempotent"""
    x = g.init(rodata={"target_tgid": PID})
    x.destroy()
    assert x.object.state == spec("lifecycle", "destroy-idempotent")["expect"]["state"]
    x.destroy()
    x.close()
    with x:
        pass


@case("use-after-destroy")
def test_use_after_destroy(g: Any) -> None:
    """use-after-destroy: calls on the object, its maps and programs raise EDESTROYED"""
    code = spec("lifecycle", "use-after-destroy")["expect"]["error"]
    x = g.init(rodata={"target_tgid": PID})
    hits = x.maps.lc_hits
    x.destroy()
    e = raises_code(code, x.attach)
    assert isinstance(e, g.CoolbpfError)
    raises_code(code, lambda: x.programs.lc_manual.attach_tracepoint("syscalls", "sys_enter_getppid"))
    raises_code(code, x.programs.lc_count.attach)
    raises_code(code, lambda: hits[0])
    raises_code(code, lambda: hits.get(0))
    raises_code(code, lambda: hits.set(0, 1))
    raises_code(code, lambda: list(hits.keys()))
    opened = g.open()
    opened.destroy()
    raises_code(code, opened.load)

    def set_rodata() -> None:
        opened.rodata.target_tgid = 1

    raises_code(code, set_rodata)


@case("use-after-destroy")
def test_use_after_destroy_globals(g: Any) -> None:
    """use-after-destroy: reading or writing a global after destroy raises EDESTROYED, never touches unmapped memory"""
    code = spec("lifecycle", "use-after-destroy")["expect"]["error"]
    x = g.init(rodata={"target_tgid": PID})
    assert x.bss.count == 0  # the section is in use before destroy
    x.destroy()
    raises_code(code, lambda: x.bss.count)

    def write() -> None:
        x.bss.count = 1

    raises_code(code, write)
    raises_code(code, lambda: x.rodata.target_tgid)


@case("out-of-order")
def test_out_of_order(g: Any) -> None:
    """out-of-order: calls out of order raise ESTATE"""
    code = spec("lifecycle", "out-of-order")["expect"]["error"]
    with g.open(rodata={"target_tgid": PID}) as opened:
        raises_code(code, opened.object.attach)  # before load
        x = opened.load()
        e = raises_code(code, opened.load)
        assert isinstance(e, g.CoolbpfError)

        def set_rodata() -> None:
            opened.rodata.target_tgid = 1

        def set_autoload() -> None:
            opened.programs.lc_optional.autoload = True

        raises_code(code, set_rodata)
        raises_code(code, set_autoload)
        x.attach()
        raises_code(code, x.attach)
        # the failed calls changed nothing
        trigger(3)
        assert x.bss.count == 3
        assert x.rodata.target_tgid == PID


@case("nothing-left")
def test_nothing_left(g: Any) -> None:
    """nothing-left: nothing stays in the kernel or in this process after destroy (also after 20 cycles)"""
    c = spec("lifecycle", "nothing-left")
    fds_before = bpf_fd_counts()
    before = held()
    x = g.init(rodata={"target_tgid": PID})
    link = x.programs.lc_manual.attach_tracepoint("syscalls", "sys_enter_getppid")
    trigger(2)
    assert x.bss.manual_count == 2
    now = held()
    ours = {k: [i for i in now[k] if i not in before[k]] for k in ("programs", "maps", "links")}
    want = c["expect"]["heldWhileLoaded"]
    assert len(ours["programs"]) == want["programs"]
    lists = kernel_lists()
    names = [str(next((m.get("name") for m in lists["maps"] if m["id"] == i), "")) for i in ours["maps"]]
    for n in want["maps"]:
        assert len([m for m in names if m == n or (n.startswith(".") and m.endswith(n))]) == 1, (n, names)
    assert link.attached
    x.destroy()
    for _ in range(c["cycles"]):
        y = g.init(rodata={"target_tgid": PID})
        trigger(1)
        assert y.bss.count == 1
        y.destroy()
    assert still_in_kernel(ours) == {"programs": [], "maps": [], "links": []}
    assert bpf_fd_counts() == fds_before
