"""globals: .rodata of every scalar kind, set before load and copied by BPF into
.bss; .data and .data.custom written live and read by BPF; initial values of
every writable section; .rodata read-only after load; out-of-range values."""
from __future__ import annotations

import os
from typing import Any

import pytest
from conftest import by_c_name, case, expected, json_ints, like, load_scenario, need_kernel, spec, trigger

E = expected("globals")
PID = os.getpid()
NAMES = list(E["defaults"])


@pytest.fixture(scope="module")
def g() -> Any:
    need_kernel()
    return load_scenario("globals")


def values(g: Any, v: dict[str, Any]) -> dict[str, Any]:
    """expect.json's neutral values as the Python wrapper types them (ints, bytes, dataclasses)."""
    with g.open() as opened:  # a decoded value of each type, to follow its shape
        return {n: like(v[n], getattr(opened.rodata, n)) for n in NAMES}


def rodata_of(r: Any) -> dict[str, Any]:
    return {n: getattr(r, n) for n in NAMES}


def mirror_of(b: Any) -> dict[str, Any]:
    return {n: getattr(b, "m_" + n[2:]) for n in NAMES}


def neutral(d: dict[str, Any]) -> dict[str, Any]:
    return {k: by_c_name(v) for k, v in d.items()}


@case("rodata-defaults")
def test_rodata_defaults(g: Any) -> None:
    """rodata-defaults: .rodata defaults (the C initializers) as read and as BPF saw them"""
    want = values(g, E["defaults"])
    with g.init(rodata={"target_tgid": PID}) as x:
        assert rodata_of(x.rodata) == want
        trigger(1)
        assert x.bss.copies == 1
        assert mirror_of(x.bss) == want
        # and in expect.json's own terms (C member names, decimal strings for 64 bits)
        got = neutral(rodata_of(x.rodata))
        assert got == json_ints(E["defaults"], got)


@case("rodata-init")
def test_rodata_init(g: Any) -> None:
    """rodata-init: .rodata of every kind set through init(): read back, and BPF saw the same"""
    want = values(g, E["values"])
    with g.init(rodata={"target_tgid": PID, **want}) as x:
        assert rodata_of(x.rodata) == want
        trigger(1)
        assert mirror_of(x.bss) == want
        # values beyond 2^53 and negative 64-bit ones came through exactly
        assert x.bss.m_u64 == 18446744073709551557
        assert x.bss.m_s64 == -9223372036854775807
        assert x.bss.m_color == g.GlColor.GL_NEG and x.bss.m_color is g.GlColor.GL_NEG


@case("rodata-open")
def test_rodata_open(g: Any) -> None:
    """rodata-open: .rodata set one by one on the opened object, read back before load, after load, and by BPF"""
    want = values(g, E["values"])
    with g.open() as opened:
        opened.rodata.target_tgid = PID
        for n in NAMES:
            setattr(opened.rodata, n, want[n])
            assert (n, getattr(opened.rodata, n)) == (n, want[n])
        assert rodata_of(opened.rodata) == want
        x = opened.load()
        x.attach()
        assert rodata_of(x.rodata) == want
        trigger(1)
        assert mirror_of(x.bss) == want


@case("rodata-read-only")
def test_rodata_read_only(g: Any) -> None:
    """rodata-read-only: .rodata is read-only after load (AttributeError; mypy refuses the assignment too)"""
    with g.init(rodata={"target_tgid": PID}) as x:
        before = x.rodata.r_u32
        with pytest.raises(AttributeError, match=r"\.rodata is read-only"):
            x.rodata.r_u32 = 1
        with pytest.raises(AttributeError, match=r"\.rodata is read-only"):
            x.rodata.r_cfg = values(g, E["values"])["r_cfg"]
        assert x.rodata.r_u32 == before
        trigger(1)
        assert x.bss.m_u32 == before


@case("data-live")
def test_data_live(g: Any) -> None:
    """data-live: .data written live is what BPF reads; BPF's writes are read live"""
    c = spec("globals", "data-live")
    ex = c["expect"]
    with g.init(rodata={"target_tgid": PID}) as x:
        assert x.data.live_in == int(ex["live_in default"])
        x.data.live_in = int(c["liveIn"])
        assert x.data.live_in == int(c["liveIn"])
        trigger(c["triggers"])
        assert x.bss.live_seen == int(ex["live_seen"])
        assert x.data.d_counter == int(ex["d_counter"])
        assert x.bss.copies == int(ex["copies"])


@case("data-custom")
def test_data_custom(g: Any) -> None:
    """data-custom: a custom section (.data.custom): defaults, live writes, BPF's counts"""
    c = spec("globals", "data-custom")
    ex = c["expect"]
    with g.init(rodata={"target_tgid": PID}) as x:
        assert x.data_custom.custom_in == int(ex["custom_in default"])
        assert x.data_custom.custom_hits == 0
        x.data_custom.custom_in = int(c["customIn"])
        trigger(c["triggers"])
        assert x.bss.custom_seen == int(ex["custom_seen"])
        assert x.data_custom.custom_hits == ex["custom_hits"]


@case("initial-values")
def test_initial_values(g: Any) -> None:
    """initial-values: initial values of .data, .data.custom and .bss given to init()"""
    c = spec("globals", "initial-values")
    i, ex = c["initial"], c["expect"]
    with g.init(rodata={"target_tgid": PID}, data={"live_in": int(i["live_in"])},
                data_custom={"custom_in": int(i["custom_in"])}, bss={"b_initial": int(i["b_initial"])}) as x:
        assert x.bss.b_initial == int(ex["b_initial"])
        trigger(1)
        assert x.bss.live_seen == int(ex["live_seen"])
        assert x.bss.custom_seen == int(ex["custom_seen"])
        assert x.bss.b_initial == int(ex["b_initial"])
    with pytest.raises(TypeError, match="no_such"):
        g.init(rodata={"target_tgid": PID, "no_such": 1})


@case("out-of-range")
def test_out_of_range(g: Any) -> None:
    """out-of-range: integers out of their C type's range and too long strings are refused, naming the global; nothing written"""
    with g.open() as opened:
        r = opened.rodata
        for name, value, err in [("r_u8", 256, OverflowError), ("r_s8", -129, OverflowError),
                                 ("r_u32", -1, OverflowError), ("r_u64", -1, OverflowError),
                                 ("r_s64", 2**63, OverflowError), ("r_name", "x" * 17, ValueError),
                                 ("r_u16", "1", TypeError)]:
            with pytest.raises(err, match=name):
                setattr(r, name, value)
        assert r.r_u8 == E["defaults"]["r_u8"]
        assert r.r_name == E["defaults"]["r_name"]
        assert r.r_u64 == int(E["defaults"]["r_u64"])
