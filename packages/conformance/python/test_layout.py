"""layout: the generated types' layouts against the C compiler (a probe program
compiled on the host, from the scenario's source types and from bpftool's dump
of the object's BTF), bitfields through BPF in both directions, and C-initialized
globals decoded in .data and in a map."""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    PKG, built, by_c_name, case, expected, json_ints, kernel_skip_reason, like, load_scenario, spec, trigger,
)

E = expected("layout")
PID = os.getpid()


def py_name(c: str) -> str:
    """The generated name of a C type: PascalCase of the tag; an anonymous member's type from parent__member."""
    tag = re.sub(r"^(struct|union|enum) ", "", c).replace(".", "__")
    return "".join(w[0].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", tag) if w)


def c_type(c: str) -> str:
    """A C expression for the type: `struct P.m` is the type of member m of struct P."""
    parent, dot, member = c.partition(".")
    return f"__typeof__((({parent} *)0)->{member})" if dot else c


@pytest.fixture(scope="module")
def g() -> Any:
    return load_scenario("layout")


def structs(g: Any) -> dict[str, Any]:
    from layout._coolbpf import Struct  # the generated package's runtime
    return {n: getattr(g, n) for n in g.__all__ if isinstance(getattr(g, n), type) and issubclass(getattr(g, n), Struct)}


def zero(cls: Any) -> Any:
    return cls.from_bytes(bytes(cls.SIZE))


def no_cc() -> str | None:
    if shutil.which("cc") is None:
        return "no C compiler (cc)"
    if shutil.which("bpftool") is None:
        return "bpftool is not installed"
    return None


@case("types-complete")
def test_types_complete(g: Any) -> None:
    """types-complete: every generated struct and union is one of expect.json's types (none missed, none extra)"""
    assert sorted(structs(g)) == sorted(py_name(t) for t in E["types"])


def probe(g: Any, variant: str, tmp: Path) -> dict[str, Any]:
    """What the C compiler says of the types, from the source types or bpftool's dump of the BTF."""
    d = tmp / variant
    d.mkdir()
    if variant == "btf":
        dump = subprocess.run(["bpftool", "btf", "dump", "file", str(built("layout").bpf_o), "format", "c"],
                              check=True, capture_output=True, text=True).stdout
        (d / "types.h").write_text("#define BPF_NO_PRESERVE_ACCESS_INDEX\n" + dump)
    else:
        (d / "types.h").write_text(f'#include <linux/types.h>\n#include "{PKG / "scenarios/layout/layout.types.h"}"\n')
    lines = ['#include "types.h"', "#include <stdio.h>", "#include <stddef.h>", "#include <string.h>",
             "static void bits(const char *key, const unsigned char *p, size_t n) {",
             "  int lo = -1, hi = -1, count = 0;",
             "  for (size_t i = 0; i < n * 8; i++) if (p[i / 8] >> (i % 8) & 1) { if (lo < 0) lo = (int)i; hi = (int)i; count++; }",
             '  printf("bits|%s|%d|%d|%d\\n", key, lo, hi - lo + 1, count);', "}", "int main(void) {"]
    for c in E["types"]:
        T = c_type(c)
        cls = getattr(g, py_name(c))
        lines.append(f'  printf("size|{c}|%zu|%zu\\n", sizeof({T}), _Alignof({T}));')
        for f in cls.FIELDS.values():
            if f.bit_width is None:
                lines.append(f'  printf("member|{c}|{f.c_name}|%zu|%zu\\n", offsetof({T}, {f.c_name}), '
                             f"sizeof((({T} *)0)->{f.c_name}));")
            else:
                lines.append(f"  {{ {T} v; memset(&v, 0, sizeof v); v.{f.c_name} = -1; "
                             f'bits("{c}|{f.c_name}", (const unsigned char *)&v, sizeof v); }}')
    for e, vals in E["enums"].items():
        for k in vals:
            lines.append(f'  if (({k}) < 0) printf("enum|{e}|{k}|%lld\\n", (long long)({k})); '
                         f'else printf("enum|{e}|{k}|%llu\\n", (unsigned long long)({k}));')
    lines += ["  return 0;", "}"]
    (d / "probe.c").write_text("\n".join(lines))
    subprocess.run(["cc", "-w", "-O0", "-o", str(d / "probe"), str(d / "probe.c")], cwd=d, check=True, capture_output=True)
    out: dict[str, Any] = {"size": {}, "member": {}, "bits": {}, "enum": {}}
    for line in subprocess.run([str(d / "probe")], check=True, capture_output=True, text=True).stdout.split("\n"):
        if not line:
            continue
        what, c, *r = line.split("|")
        if what == "size":
            out["size"][c] = (int(r[0]), int(r[1]))
        elif what == "member":
            out["member"][(c, r[0])] = (int(r[1]), int(r[2]))
        elif what == "bits":
            out["bits"][(c, r[0])] = (int(r[1]), int(r[2]), int(r[3]))
        else:
            out["enum"][(c, r[0])] = int(r[1])
    return out


@pytest.fixture(scope="module")
def probes(g: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    why = no_cc()
    if why:
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("layout-probe")
    return {v: probe(g, v, tmp) for v in ("source", "btf")}


@pytest.mark.parametrize("variant", ["source", "btf"])
@case("c-layout")
def test_c_layout(g: Any, probes: dict[str, Any], variant: str) -> None:
    """c-layout: sizes, field offsets and sizes, and bitfield positions and widths equal the C compiler's"""
    p = probes[variant]
    fields = bitfields = 0
    for c in E["types"]:
        cls = getattr(g, py_name(c))
        assert (c, "size", cls.SIZE) == (c, "size", p["size"][c][0])
        for f in cls.FIELDS.values():
            if f.bit_width is None:
                fields += 1
                assert (c, f.c_name, f.offset, f.size) == (c, f.c_name, *p["member"][(c, f.c_name)])
            else:
                bitfields += 1
                lo, width, count = p["bits"][(c, f.c_name)]
                assert count == width  # C set a contiguous run of bits
                offset, size = lo // 8, (lo + width + 7) // 8 - lo // 8
                assert (c, f.c_name, f.bit_offset, f.bit_width, f.offset, f.size) == (c, f.c_name, lo, width, offset, size)
    assert fields > 100 and bitfields > 2 * 64 + 16


@pytest.mark.parametrize("variant", ["source", "btf"])
@case("c-layout")
def test_c_layout_enums(g: Any, probes: dict[str, Any], variant: str) -> None:
    """c-layout: enums have the values C gives their enumerators"""
    p = probes[variant]
    for e, values in E["enums"].items():
        cls = getattr(g, py_name(e))
        assert sorted(m.name for m in cls) == sorted(values)
        for k, v in values.items():
            assert (e, k, int(cls[k])) == (e, k, p["enum"][(e, k)])
            assert (e, k, int(cls[k])) == (e, k, int(v))


@case("c-layout")
def test_c_layout_align_btf(g: Any, probes: dict[str, Any]) -> None:
    """c-layout: alignments equal _Alignof of the types as BTF describes them (bpftool's C dump)"""
    for c in E["types"]:
        assert (c, getattr(g, py_name(c)).ALIGN) == (c, probes["btf"]["size"][c][1])


@case("c-layout")
def test_c_layout_align_source(g: Any, probes: dict[str, Any]) -> None:
    """c-layout: alignments equal _Alignof of the source types, but for those whose alignment BTF cannot record"""
    # BTF records no alignment: struct lt_aligned { __u8 a; __u32 b __attribute__((aligned(8)));
    # __u8 c; } has _Alignof 8 in C, and BTF gives only b's offset (8), which `__u8 a; long: 0;
    # __u32 b;` (alignment 4, what bpftool's dump writes) gives too: expect.json lists it.
    not_in_btf = spec("layout", "c-layout").get("alignmentNotInBtf", {})
    for c in E["types"]:
        align = getattr(g, py_name(c)).ALIGN
        if c in not_in_btf:
            assert (c, probes["source"]["size"][c][1]) == (c, not_in_btf[c])
            assert (c, align) == (c, probes["btf"]["size"][c][1])
        else:
            assert (c, align) == (c, probes["source"]["size"][c][1])


def need_kernel() -> None:
    why = kernel_skip_reason()
    if why:
        pytest.skip(why)


@case("data-initialized")
def test_data_initialized(g: Any) -> None:
    """data-initialized: C-initialized globals decode to their initializers: in .data before and after load, and copied by BPF into a map; encoding them gives C's bytes"""
    need_kernel()
    want = spec("layout", "data-initialized")["expect"]
    all_ = like(want["lt_all_data"], zero(g.LtAll))
    lu = like(want["lt_ladder_u_data"], zero(g.LtLadderU))
    ls = like(want["lt_ladder_s_data"], zero(g.LtLadderS))
    with g.open(rodata={"target_tgid": PID}) as opened:
        assert opened.data.lt_all_data == all_
        assert opened.data.lt_ladder_u_data == lu
        assert opened.data.lt_ladder_s_data == ls
        got = by_c_name(opened.data.lt_all_data)
        assert got == json_ints(want["lt_all_data"], got)  # expect.json's own terms
        x = opened.load()
        x.attach()
        assert (x.data.lt_all_data, x.data.lt_ladder_u_data, x.data.lt_ladder_s_data) == (all_, lu, ls)
        trigger(1)
        assert x.maps.lt_all_map[0] == all_
        # encoding the same values gives C's bytes (padding included)
        raw = x.object.map("lt_all_map")
        import ctypes
        key = (ctypes.c_ubyte * 4)()
        c_bytes = (ctypes.c_ubyte * raw.info().value_buffer_size)()
        assert raw.lookup(key, c_bytes)
        assert any(bytes(c_bytes))
        x.maps.lt_all_map[0] = all_
        ours = (ctypes.c_ubyte * len(c_bytes))()
        raw.lookup(key, ours)
        assert bytes(ours).hex() == bytes(c_bytes).hex()
        assert all_.to_bytes().hex() == bytes(c_bytes).hex()


def plain_of(s: dict[str, Any]) -> dict[str, Any]:
    """A set of bitValues as the plain integers of struct lt_plainset (flag as 0 or 1)."""
    return {**s, "bits": {**s["bits"], "flag": 1 if s["bits"]["flag"] else 0}}


@pytest.mark.parametrize("name", sorted(E["bitValues"]))
@case("bits-to-c", "c-to-bits")
def test_bits(g: Any, name: str) -> None:
    """bits-to-c, c-to-bits: bitfields written by the wrapper read right in C, and C's read right by the wrapper"""
    need_kernel()
    s = E["bitValues"][name]
    with g.init(rodata={"target_tgid": PID}) as x:
        bits_in = like(s, zero(g.LtBitset))
        plain = like(plain_of(s), zero(g.LtPlainset))
        # sanity: the values round-trip through the codec alone
        assert g.LtBitset.from_bytes(bits_in.to_bytes()) == bits_in
        x.maps.lt_bits_in[0] = bits_in
        x.maps.lt_plain_in[0] = plain
        trigger(1)
        assert x.maps.lt_plain_out[0] == plain  # the wrapper's bitfields, as C read them
        assert x.maps.lt_bits_out[0] == bits_in  # C's bitfields, as the wrapper reads them
        assert dataclasses.asdict(x.maps.lt_bits_out[0]) == dataclasses.asdict(bits_in)
