"""errors: what fails, with which code, naming what; a failed init leaves nothing loaded."""
from __future__ import annotations

import hashlib
import os
from typing import Any, Callable

import pytest
from conftest import (
    bpf_fd_counts, built, case, held, load_scenario, need_kernel, programs_named, raises_code, spec, trigger,
)

PID = os.getpid()


@pytest.fixture(scope="module")
def g() -> Any:
    need_kernel()
    return load_scenario("errors")


def sha256(path: Any) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def fails_cleanly(f: Callable[[], Any], code: str) -> Any:
    """A failing init: the error, and nothing left (no new BPF fds here, none of our programs in the kernel)."""
    fds, before = bpf_fd_counts(), held()
    e = raises_code(code, f)
    assert bpf_fd_counts() == fds
    assert held() == before
    assert programs_named("er_") == []
    return e


@case("verifier")
def test_verifier(g: Any) -> None:
    """verifier: a program the verifier rejects: EACCES naming it, with the verifier log; nothing stays loaded"""
    want = spec("errors", "verifier")["expect"]
    e = fails_cleanly(lambda: g.init(rodata={"target_tgid": PID}, autoload={"er_bad": True}), want["code"])
    assert isinstance(e, g.CoolbpfError)
    assert e.errno == 13
    for n in want["messageNames"]:
        assert n in str(e).split("\n")[0]
    for line in want["verifierLog"]:
        assert line in e.detail
    assert e.detail in str(e)
    # step by step: the same from load(), which cannot be retried
    with g.open(rodata={"target_tgid": PID}) as opened:
        opened.programs.er_bad.autoload = True
        raises_code(want["code"], opened.load)
        again = raises_code("ESTATE", opened.load)
        assert "destroy()" in str(again)


@case("missing-tracepoint-auto")
def test_missing_tracepoint_auto(g: Any) -> None:
    """missing-tracepoint-auto: a tracepoint that does not exist, from SEC(): ENOENT naming the program and the tracepoint; nothing stays loaded"""
    want = spec("errors", "missing-tracepoint-auto")["expect"]
    e = fails_cleanly(lambda: g.init(rodata={"target_tgid": PID}, autoload={"er_no_tp": True}), want["code"])
    for n in want["messageNames"]:
        assert n in str(e)


@case("missing-tracepoint-explicit")
def test_missing_tracepoint_explicit(g: Any) -> None:
    """missing-tracepoint-explicit: a tracepoint that does not exist, attached explicitly: ENOENT naming it; the object stays usable"""
    c = spec("errors", "missing-tracepoint-explicit")
    want = c["expect"]
    category, name = c["target"]
    with g.init(rodata={"target_tgid": PID}) as x:
        e = raises_code(want["code"], lambda: x.programs.er_manual.attach_tracepoint(category, name))
        for n in want["messageNames"]:
            assert n in str(e)
        assert x.object.state == "attached"
        trigger(c["triggers"])
        assert x.bss.ok_hits == want["bss.ok_hits"]


@case("not-loaded")
def test_not_loaded(g: Any) -> None:
    """not-loaded: attaching a program that was not loaded: an error naming it"""
    want = spec("errors", "not-loaded")["expect"]
    with g.init(rodata={"target_tgid": PID}) as x:
        e = raises_code(want["code"], lambda: x.programs.er_no_tp.attach_tracepoint("syscalls", "sys_enter_getppid"))
        for n in want["messageNames"]:
            assert n in str(e)


@case("maps")
def test_maps(g: Any) -> None:
    """maps: a missing key is None (KeyError with []), not an error; NOEXIST on an existing key is EEXIST naming the map"""
    c = spec("errors", "maps")
    want = c["expect"]
    k = c["key"]
    with g.init(rodata={"target_tgid": PID}) as x:
        kv = x.maps.er_kv
        assert kv.get(k) is None
        with pytest.raises(KeyError):
            kv[k]
        assert (k in kv) is want["has"]
        assert kv.delete(k) is want["delete"]
        kv[k] = 1
        e = raises_code(want["NOEXIST on existing"], lambda: kv.set(k, 2, 1))
        for n in want["messageNames"]:
            assert n in str(e)
        assert kv[k] == 1


@case("wrong-so")
def test_wrong_so(g: Any) -> None:
    """wrong-so: a bpf.so built from another object: EMISMATCH naming both SHA-256s (so_path and $COOLBPF_BPF_SO); a missing one: ENOENT"""
    c = spec("errors", "wrong-so")
    other = built(c["otherScenario"])
    ours, theirs = sha256(built("errors").bpf_o), sha256(other.bpf_o)
    assert g.OBJECT_SHA256 == ours and theirs != ours

    def check(e: Any) -> None:
        assert ours in str(e) and theirs in str(e) and str(other.bpf_so) in str(e)

    check(raises_code("EMISMATCH", lambda: g.open(so_path=other.bpf_so)))
    saved = os.environ.get("COOLBPF_BPF_SO")
    os.environ["COOLBPF_BPF_SO"] = str(other.bpf_so)
    try:
        check(raises_code("EMISMATCH", lambda: g.init(rodata={"target_tgid": PID})))
    finally:
        if saved is None:
            del os.environ["COOLBPF_BPF_SO"]
        else:
            os.environ["COOLBPF_BPF_SO"] = saved
    missing = other.dir / "no-such-bpf.so"
    assert str(missing) in str(raises_code(c["expect"]["missingFile"], lambda: g.open(so_path=missing)))
    # the right one still works
    with g.init(rodata={"target_tgid": PID}) as x:
        trigger(1)
        assert x.bss.ok_hits == 1


@case("fentry")
def test_fentry(g: Any) -> None:
    """fentry: runs where the kernel allows it, else skipped with the reason"""
    c = spec("errors", "fentry")
    try:
        x = g.init(rodata={"target_tgid": PID}, autoload={"er_fentry": True})
    except g.CoolbpfError as e:
        if e.code in ("EPERM", "ENOTSUPP", "EOPNOTSUPP", "ESRCH"):
            pytest.skip(f"the kernel refused it: {e.code}: {str(e).splitlines()[0]}")
        raise
    with x:
        trigger(c["triggers"])
        assert x.bss.fentry_hits >= c["triggers"]


@case("exports")
def test_exports(g: Any) -> None:
    """exports: the generated package exports CoolbpfError (the class its errors are) and the update flags"""
    assert (g.BPF_ANY, g.BPF_NOEXIST, g.BPF_EXIST) == (0, 1, 2)
    assert "CoolbpfError" in g.__all__ and "BPF_NOEXIST" in g.__all__
    with pytest.raises(g.CoolbpfError) as info:
        g.open(so_path="/nonexistent")
    assert info.value.code == "ENOENT" and info.value.errno == 2
