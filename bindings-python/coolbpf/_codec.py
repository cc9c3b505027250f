"""Codecs: C values in a buffer (the object's byte order) <-> Python values.

Scalars, strings and arrays have codecs of their own; a struct or union is
described by generated code as a layout (fields with offsets, bitfields with
their bits, overlays for unions) and compiled here, once at import, into
specialized functions over ``struct.Struct``: decoding a struct is one
``unpack_from`` of a flat format (nested structs and arrays included) and
one constructor call; encoding is one ``pack_into`` (padding written as
zeros) plus a call per array, nested struct or union member.

Every codec has ``size``, ``fmt`` (its flat ``struct`` format without the
byte-order character) and ``nitems`` (how many items that format unpacks
to), ``decode(buf, offset)``, ``encode(buf, offset, value, name)`` and
``from_items(items, index)`` (the value from an unpacked tuple): readers of
events use the last to decode a whole batch with ``Struct.iter_unpack``.

Encoding checks what C cannot hold and says where: an integer out of its
type's range is an ``OverflowError``, a string or array too long a
``ValueError``, a value of the wrong type a ``TypeError``, each naming the
field (``Event.pid: 4294967296 does not fit in __u32 (0..4294967295)``).
Arrays and byte strings shorter than their C type are zero-filled.
"""
from __future__ import annotations

import dataclasses
import math
import struct
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    ClassVar,
    Generic,
    Iterable,
    Mapping,
    NamedTuple,
    Sequence,
    TypeVar,
    Union,
    cast,
)

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

T = TypeVar("T")
E = TypeVar("E")
S = TypeVar("S", bound="Struct")

_Items = Sequence[Any]


class _Gen:
    """Names objects for generated source and collects the namespace."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"struct": struct, "_ValueError": ValueError}
        self.n = 0

    def ref(self, obj: object, hint: str = "k") -> str:
        for k, v in self.ns.items():
            if v is obj and k.startswith("_"):
                return k
        self.n += 1
        name = f"_{hint}{self.n}"
        self.ns[name] = obj
        return name

    def tmp(self, hint: str = "v") -> str:
        self.n += 1
        return f"{hint}{self.n}"


def _ix(base: str, j: int) -> str:
    """The expression of item j after index expression `base`."""
    if base == "0":
        return str(j)
    return base if j == 0 else f"{base} + {j}"


def _fmt_count(fmt: str, n: int) -> str:
    """A format repeated n times (`I` * 3 -> `3I`, `16s` * 2 -> `16s16s`)."""
    if n == 1:
        return fmt
    if len(fmt) == 1 and fmt not in "sx":
        return f"{n}{fmt}"
    return fmt * n


def _zero(buf: WriteableBuffer, offset: int, n: int) -> None:
    if n > 0:
        struct.pack_into(f"{n}x", buf, offset)


class Codec(Generic[T]):
    """Reads and writes one C type at an offset of a buffer."""

    size: int
    #: the flat `struct` format, without the byte-order character
    fmt: str
    #: items `fmt` unpacks to
    nitems: int
    #: how C spells the type, for messages
    c: str
    #: the byte order ('<' or '>')
    order: str

    def __init__(self, size: int, fmt: str, nitems: int, c: str, order: str) -> None:
        self.size = size
        self.fmt = fmt
        self.nitems = nitems
        self.c = c
        self.order = order
        self._struct = struct.Struct(order + fmt)
        self._from: Callable[[_Items, int], T] | None = None

    # ---- code generation (used by the struct compiler) ----

    def dec(self, g: _Gen, t: str, base: str) -> str:
        """An expression of the value from the items of tuple `t` from index `base`."""
        raise NotImplementedError

    def enc(self, g: _Gen, v: str, name: str) -> list[str] | None:
        """`pack` arguments for value expression `v` (nitems of them), or None: encoded on its own."""
        return None

    def zero(self) -> object:
        """The value of all-zero bytes, for a member of a union left unset."""
        return self.from_items(self._struct.unpack(bytes(self.size)), 0)

    # ---- the codec ----

    def from_items(self, items: _Items, index: int) -> T:
        f = self._from
        if f is None:
            g = _Gen()
            f = self._from = cast(
                "Callable[[_Items, int], T]", eval(f"lambda t, i: {self.dec(g, 't', 'i')}", g.ns)
            )
        return f(items, index)

    def decode(self, buf: ReadableBuffer, offset: int = 0) -> T:
        return self.from_items(self._struct.unpack_from(buf, offset), 0)

    def from_tuple(self, items: _Items) -> T:
        """The value from the items of a tuple unpacked with `fmt` at its start."""
        return self.from_items(items, 0)

    def tuple_decoder(self) -> Callable[[_Items], T]:
        """from_tuple as the fastest callable there is (for decoding many values)."""
        return self.from_tuple

    def star_decoder(self) -> Callable[..., T] | None:
        """A callable taking the unpacked items as arguments, when there is one that
        is faster than tuple_decoder() (a struct whose items are its fields)."""
        return None

    def encode(self, buf: WriteableBuffer, offset: int, value: T, name: str = "value") -> None:
        raise NotImplementedError

    def check(self, value: object, name: str) -> None:
        """Raises the error encoding `value` gives, naming `name`; returns if it would encode."""
        b = bytearray(self.size)
        self.encode(b, 0, cast(T, value), name)

    def __repr__(self) -> str:
        return f"<codec {self.c} ({self.size} bytes)>"


# ---- scalars ----------------------------------------------------------------


class _Scalar(Codec[T]):
    """A value `struct` packs and unpacks as one item."""

    def dec(self, g: _Gen, t: str, base: str) -> str:
        return f"{t}[{_ix(base, 0)}]"

    def enc(self, g: _Gen, v: str, name: str) -> list[str] | None:
        return [v]

    def from_items(self, items: _Items, index: int) -> T:
        return cast(T, items[index])

    def decode(self, buf: ReadableBuffer, offset: int = 0) -> T:
        return cast(T, self._struct.unpack_from(buf, offset)[0])

    def encode(self, buf: WriteableBuffer, offset: int, value: T, name: str = "value") -> None:
        try:
            self._struct.pack_into(buf, offset, value)
        except (struct.error, OverflowError, TypeError):
            self.check(value, name)
            raise

    def zero(self) -> object:
        return self._struct.unpack(bytes(self.size))[0]


class IntCodec(_Scalar[int]):
    """C integers of 1, 2, 4 and 8 bytes (and pointers, as addresses)."""

    def __init__(self, size: int, signed: bool, c: str, order: str) -> None:
        code = {1: "b", 2: "h", 4: "i", 8: "q"}[size]
        super().__init__(size, code if signed else code.upper(), 1, c, order)
        self.signed = signed
        bits = size * 8
        self.min = -(1 << (bits - 1)) if signed else 0
        self.max = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1

    def check(self, value: object, name: str) -> None:
        _check_int(value, self.min, self.max, self.c, name)


def _check_int(value: object, lo: int, hi: int, c: str, name: str) -> None:
    if not isinstance(value, int):
        raise TypeError(f"{name}: {c} takes an int, not {type(value).__name__} ({value!r})")
    if not lo <= value <= hi:
        raise OverflowError(f"{name}: {value} does not fit in {c} ({lo}..{hi})")


class Int128Codec(Codec[int]):
    """__int128 and unsigned __int128: exact Python ints."""

    def __init__(self, signed: bool, c: str, order: str) -> None:
        super().__init__(16, "16s", 1, c, order)
        self.signed = signed
        self.min = -(1 << 127) if signed else 0
        self.max = (1 << 127) - 1 if signed else (1 << 128) - 1
        self._bo: Any = "little" if order == "<" else "big"

    def dec(self, g: _Gen, t: str, base: str) -> str:
        return f"int.from_bytes({t}[{_ix(base, 0)}], {self._bo!r}, signed={self.signed})"

    def enc(self, g: _Gen, v: str, name: str) -> list[str] | None:
        return [f"{g.ref(self)}.raw({v}, {name})"]

    def raw(self, value: int, name: str) -> bytes:
        self.check(value, name)
        return value.to_bytes(16, self._bo, signed=self.signed)

    def from_items(self, items: _Items, index: int) -> int:
        return int.from_bytes(items[index], self._bo, signed=self.signed)

    def encode(self, buf: WriteableBuffer, offset: int, value: int, name: str = "value") -> None:
        self._struct.pack_into(buf, offset, self.raw(value, name))

    def check(self, value: object, name: str) -> None:
        _check_int(value, self.min, self.max, self.c, name)


class BoolCodec(_Scalar[bool]):
    """_Bool: any non-zero byte reads as True; True is written as 1."""

    def __init__(self, order: str) -> None:
        super().__init__(1, "?", 1, "_Bool", order)

    def check(self, value: object, name: str) -> None:
        if not isinstance(value, (bool, int)):
            raise TypeError(f"{name}: _Bool takes a bool, not {type(value).__name__} ({value!r})")


class FloatCodec(_Scalar[float]):
    """float and double."""

    def __init__(self, size: int, c: str, order: str) -> None:
        super().__init__(size, "f" if size == 4 else "d", 1, c, order)

    def check(self, value: object, name: str) -> None:
        if not isinstance(value, (int, float)):
            raise TypeError(f"{name}: {self.c} takes a float, not {type(value).__name__} ({value!r})")
        if self.size == 4 and math.isfinite(value) and abs(value) > 3.4028234663852886e38:
            raise OverflowError(f"{name}: {value} is out of the range of {self.c}")


def _cstr(b: bytes) -> str:
    i = b.find(0)
    return (b if i < 0 else b[:i]).decode("utf-8", "replace")


def _cstr_in(value: object, n: int, name: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{name}: char[{n}] takes a str, not {type(value).__name__} ({value!r})")
    b = value.encode("utf-8")
    if len(b) > n:
        raise ValueError(f"{name}: a string of {len(b)} bytes does not fit in char[{n}]")
    return b


class StrCodec(Codec[str]):
    """`char[n]`: text up to the first NUL (UTF-8; invalid bytes read as U+FFFD).
    Encoding NUL-pads; more than n bytes is a ValueError (exactly n leaves no NUL,
    as C allows)."""

    def __init__(self, n: int, order: str) -> None:
        super().__init__(n, f"{n}s", 1, f"char[{n}]", order)
        self.n = n

    def dec(self, g: _Gen, t: str, base: str) -> str:
        return f"{g.ref(_cstr, 'cstr')}({t}[{_ix(base, 0)}])"

    def enc(self, g: _Gen, v: str, name: str) -> list[str] | None:
        return [f"{g.ref(_cstr_in, 'cstr_in')}({v}, {self.n}, {name})"]

    def from_items(self, items: _Items, index: int) -> str:
        return _cstr(items[index])

    def decode(self, buf: ReadableBuffer, offset: int = 0) -> str:
        return _cstr(self._struct.unpack_from(buf, offset)[0])

    def encode(self, buf: WriteableBuffer, offset: int, value: str, name: str = "value") -> None:
        self._struct.pack_into(buf, offset, _cstr_in(value, self.n, name))

    def check(self, value: object, name: str) -> None:
        _cstr_in(value, self.n, name)


def _bytes_in(value: object, n: int, name: str) -> bytes:
    if not isinstance(value, bytes):
        if isinstance(value, (bytearray, memoryview)) or (
            isinstance(value, (list, tuple)) and all(isinstance(x, int) for x in value)
        ):
            try:
                value = bytes(value)
            except ValueError:
                raise ValueError(f"{name}: bytes are 0..255, got {value!r}") from None
        else:
            raise TypeError(f"{name}: {n} bytes take bytes, not {type(value).__name__}")
    assert isinstance(value, bytes)
    if len(value) > n:
        raise ValueError(f"{name}: {len(value)} bytes do not fit in {n}")
    return value


class BytesCodec(Codec[bytes]):
    """Raw bytes: unsigned 8-bit arrays, and what has no value type (with the reason
    in the generated code). Shorter values are zero-filled, longer ones a ValueError."""

    def __init__(self, n: int, c: str, order: str) -> None:
        super().__init__(n, f"{n}s", 1, c, order)
        self.n = n

    def dec(self, g: _Gen, t: str, base: str) -> str:
        return f"{t}[{_ix(base, 0)}]"

    def enc(self, g: _Gen, v: str, name: str) -> list[str] | None:
        return [f"{g.ref(_bytes_in, 'bytes_in')}({v}, {self.n}, {name})"]

    def from_items(self, items: _Items, index: int) -> bytes:
        return cast(bytes, items[index])

    def decode(self, buf: ReadableBuffer, offset: int = 0) -> bytes:
        return cast(bytes, self._struct.unpack_from(buf, offset)[0])

    def encode(self, buf: WriteableBuffer, offset: int, value: bytes, name: str = "value") -> None:
        self._struct.pack_into(buf, offset, _bytes_in(value, self.n, name))

    def check(self, value: object, name: str) -> None:
        _bytes_in(value, self.n, name)


class EnumCodec(_Scalar[Union[E, int]], Generic[E]):
    """A C enum: the member of `cls` with the value, or the plain int for a value
    the enum does not name (C lets an enum hold any value of its size)."""

    def __init__(self, cls: type[E], size: int, signed: bool, c: str, order: str) -> None:
        code = {1: "b", 2: "h", 4: "i", 8: "q"}[size]
        super().__init__(size, code if signed else code.upper(), 1, c, order)
        self.cls = cls
        self.members: dict[int, E] = {}
        for m in cast("Iterable[Any]", cls):
            self.members.setdefault(int(m), cast(E, m))
        bits = size * 8
        self.min = -(1 << (bits - 1)) if signed else 0
        self.max = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1

    def dec(self, g: _Gen, t: str, base: str) -> str:
        x = f"{t}[{_ix(base, 0)}]"
        return f"{g.ref(self.members, 'members')}.get({x}, {x})"

    def from_items(self, items: _Items, index: int) -> E | int:
        x = items[index]
        return cast("E | int", self.members.get(x, x))

    def decode(self, buf: ReadableBuffer, offset: int = 0) -> E | int:
        x = self._struct.unpack_from(buf, offset)[0]
        return cast("E | int", self.members.get(x, x))

    def zero(self) -> object:
        return 0

    def check(self, value: object, name: str) -> None:
        _check_int(value, self.min, self.max, self.c, name)


# ---- arrays -------------------------------------------------------------------


def _nest(flat: list[Any], dims: Sequence[int]) -> list[Any]:
    """A flat list as nested lists of the given dimensions (outermost first)."""
    out: list[Any] = flat
    for d in reversed(dims[1:]):
        out = [out[i : i + d] for i in range(0, len(out), d)]
    return out


class ArrayCodec(Codec[list[T]]):
    """A C array (dims outermost first) as nested lists of `element` values.
    Shorter lists are zero-filled; longer ones are a ValueError."""

    def __init__(self, element: Codec[T], dims: Sequence[int], c: str, order: str) -> None:
        count = 1
        for d in dims:
            count *= d
        super().__init__(
            element.size * count, _fmt_count(element.fmt, count), element.nitems * count, c, order
        )
        self.element = element
        self.dims = list(dims)
        self.count = count
        self._zero_value = element.zero()

    def dec(self, g: _Gen, t: str, base: str) -> str:
        e = self.element
        n = self.count
        if isinstance(e, _Scalar) and not isinstance(e, EnumCodec):
            flat = f"list({t}[{base}:{_ix(base, n)}])" if base != "0" else f"list({t}[0:{n}])"
        else:
            j = g.tmp("j")
            k = e.nitems
            idx = f"{j} * {k}" if base == "0" else f"{base} + {j} * {k}"
            flat = f"[{e.dec(g, t, idx)} for {j} in range({n})]"
        if len(self.dims) == 1:
            return flat
        return f"{g.ref(_nest, 'nest')}({flat}, {self.dims!r})"

    def _flatten(self, value: object, name: str) -> list[Any]:
        out: list[Any] = []
        z = self._zero_value

        def walk(v: object, level: int, where: str) -> None:
            d = self.dims[level]
            if isinstance(v, (str, bytes)) or not isinstance(v, Sequence):
                raise TypeError(f"{where}: {self.c} takes a list, not {type(v).__name__}")
            if len(v) > d:
                raise ValueError(f"{where}: {len(v)} elements do not fit in an array of {d}")
            if level == len(self.dims) - 1:
                out.extend(v)
                out.extend([z] * (d - len(v)))
                return
            for i, x in enumerate(v):
                walk(x, level + 1, f"{where}[{i}]")
            for _ in range(d - len(v)):
                walk([], level + 1, where)

        walk(value, 0, name)
        return out

    def _where(self, name: str, j: int) -> str:
        idx = []
        for d in reversed(self.dims):
            idx.append(j % d)
            j //= d
        return name + "".join(f"[{i}]" for i in reversed(idx))

    def encode(self, buf: WriteableBuffer, offset: int, value: list[T], name: str = "value") -> None:
        flat = self._flatten(value, name)
        e = self.element
        if isinstance(e, _Scalar):
            try:
                self._struct.pack_into(buf, offset, *flat)
                return
            except (struct.error, OverflowError, TypeError):
                for j, x in enumerate(flat):
                    e.check(x, self._where(name, j))
                raise
        size = e.size
        for j, x in enumerate(flat):
            e.encode(buf, offset + j * size, x, self._where(name, j))

    def zero(self) -> object:
        return _nest([self._zero_value] * self.count, self.dims)


# ---- structs and unions -----------------------------------------------------


class FieldLayout(NamedTuple):
    """Where a field sits in its struct (anonymous members flattened)."""

    #: the Python attribute
    name: str
    #: the C member name
    c_name: str
    #: bytes from the start of the struct
    offset: int
    #: bytes occupied (a bitfield: the bytes its bits touch)
    size: int
    #: a bitfield's first bit from the start of the struct, else None
    bit_offset: int | None = None
    #: a bitfield's width in bits, else None
    bit_width: int | None = None


class Field(NamedTuple):
    name: str
    c_name: str
    offset: int
    codec: Codec[Any]


class Bits(NamedTuple):
    name: str
    c_name: str
    #: the bytes the bits touch
    offset: int
    size: int
    #: read recipe: `size` bytes at `offset` as an unsigned integer in the object's
    #: byte order, shifted right by `shift`, `width` bits kept
    shift: int
    width: int
    signed: bool
    #: first bit from the start of the struct (as BTF counts), for FIELDS
    bit_offset: int
    #: an IntCodec, BoolCodec or EnumCodec: the declared type
    codec: Codec[Any]


class Overlay(NamedTuple):
    """Members sharing bytes: a union, or an anonymous union in a struct."""

    offset: int
    size: int
    #: how C spells it, for messages
    what: str
    alternatives: Sequence[Sequence[Node]]


Node = Union[Field, Bits, Overlay]


def field(name: str, c_name: str, offset: int, codec: Codec[Any]) -> Field:
    return Field(name, c_name, offset, codec)


def bits(
    name: str,
    c_name: str,
    offset: int,
    size: int,
    shift: int,
    width: int,
    signed: bool,
    bit_offset: int,
    codec: Codec[Any],
) -> Bits:
    return Bits(name, c_name, offset, size, shift, width, signed, bit_offset, codec)


def overlay(offset: int, size: int, what: str, alternatives: Sequence[Sequence[Node]]) -> Overlay:
    return Overlay(offset, size, what, alternatives)


def _fields_of(nodes: Sequence[Node]) -> list[Field | Bits]:
    out: list[Field | Bits] = []
    for n in nodes:
        if isinstance(n, Overlay):
            for a in n.alternatives:
                out.extend(_fields_of(a))
        else:
            out.append(n)
    return out


class Struct:
    """Base of every generated struct and union class (dataclasses with slots).

    Class attributes: ``SIZE``, ``ALIGN`` and ``FIELDS`` (each field's
    FieldLayout by attribute name, anonymous members flattened), as the C
    compiler laid the type out.
    """

    __slots__ = ()
    SIZE: ClassVar[int]
    ALIGN: ClassVar[int]
    FIELDS: ClassVar[Mapping[str, FieldLayout]]
    _cb_codec: ClassVar[StructCodec[Any]]

    @classmethod
    def from_bytes(cls: type[S], data: ReadableBuffer, offset: int = 0) -> S:
        """Decodes the C bytes of this type at `offset` of `data`."""
        return cast(S, cls._cb_codec.decode(data, offset))

    def to_bytes(self) -> bytes:
        """The C bytes of this value (padding zeroed)."""
        codec = type(self)._cb_codec
        b = bytearray(codec.size)
        codec.encode(b, 0, self, type(self).__name__)
        return bytes(b)

    def pack_into(self, buf: WriteableBuffer, offset: int = 0) -> None:
        """Writes the C bytes of this value at `offset` of `buf`."""
        type(self)._cb_codec.encode(buf, offset, self, type(self).__name__)


def _bit_value(value: object, b: Bits, name: str) -> int:
    """A bitfield's value as the unsigned bits to store, checked against its width."""
    w = b.width
    if isinstance(b.codec, BoolCodec):
        if not isinstance(value, (bool, int)):
            raise TypeError(f"{name}: a _Bool bitfield takes a bool, not {type(value).__name__}")
        v = int(value)
        if v not in (0, 1) and w == 1:
            v = 1 if v else 0
    else:
        if not isinstance(value, int):
            raise TypeError(f"{name}: a bitfield takes an int, not {type(value).__name__} ({value!r})")
        v = int(value)
    lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if b.signed else (0, (1 << w) - 1)
    if not lo <= v <= hi:
        raise OverflowError(f"{name}: {v} does not fit in {b.codec.c} : {w} ({lo}..{hi})")
    return v & ((1 << w) - 1)


class _Alt(NamedTuple):
    names: tuple[str, ...]
    encode: Callable[[Any, int, Any, str], None]
    decode: Callable[[Any, int], dict[str, Any]]


def _overlay_encode(
    buf: WriteableBuffer, o: int, at: int, size: int, x: object, what: str, alts: Sequence[_Alt], name: str
) -> None:
    """Writes the members of a union that are set (not None) over its bytes: one is
    written as given; several (a decoded value) in declaration order, and each must
    read back as given, else ValueError."""
    chosen = [a for a in alts if any(getattr(x, n) is not None for n in a.names)]

    def listed(alist: Sequence[_Alt]) -> str:
        return ", ".join("+".join(a.names) for a in alist)

    if not chosen:
        raise ValueError(f"{name}: {what}: no member set (set one of: {listed(alts)})")
    _zero(buf, o + at, size)
    for a in chosen:
        a.encode(buf, o, x, name)
    if len(chosen) == 1:
        return
    for a in chosen:
        back = a.decode(buf, o)
        for n in a.names:
            if back[n] != getattr(x, n):
                raise ValueError(
                    f"{name}: {what}: members {listed(chosen)} are set and disagree ('{n}' does not"
                    " read back as given); set exactly one"
                )


class StructCodec(Codec[S]):
    """A struct or union compiled from its layout (see layout())."""

    def __init__(
        self,
        cls: type[S],
        c: str,
        size: int,
        align: int,
        body: Sequence[Node],
        order: str,
    ) -> None:
        self.cls = cls
        self.align = align
        self.order = order
        self.c = c
        self.body = list(body)
        self._bo = "little" if order == "<" else "big"
        g = _Gen()
        self._g = g
        fmt, nitems, dec_stmts, exprs = self._frame_dec(g, self.body, 0, size, "t", "i")
        super().__init__(size, fmt, nitems, c, order)
        order_fields = [f.name for f in dataclasses.fields(cast(Any, cls))]
        missing = [f for f in order_fields if f not in exprs]
        extra = [f for f in exprs if f not in order_fields]
        if missing or extra:
            raise TypeError(f"layout of {c}: fields {missing} have no layout, {extra} no attribute")
        C = g.ref(cls, "C")
        args = ", ".join(exprs[f] for f in order_fields)
        st = g.ref(self._struct, "S")
        src = ["def _from(t, i):", *[f"    {s}" for s in dec_stmts], f"    return {C}({args})"]
        _, _, dec0, exprs0 = self._frame_dec(g, self.body, 0, size, "t", "0")
        args0 = ", ".join(exprs0[f] for f in order_fields)
        src += ["def _dec(b, o):", f"    t = {st}.unpack_from(b, o)", *[f"    {s}" for s in dec0]]
        src += [f"    return {C}({args0})"]
        src += ["def _from0(t):", *[f"    {s}" for s in dec0], f"    return {C}({args0})"]
        src += self._encoder(g, "_enc", self.body, 0, size)
        src += ["def _check(x, name):"]
        optional = {f.name for n in self.body if isinstance(n, Overlay) for f in _fields_of([n])}
        for f in _fields_of(self.body):
            cond = f"if x.{f.name} is not None: " if f.name in optional else ""
            if isinstance(f, Bits):
                src.append(f"    {cond}{g.ref(_bit_value, 'bitv')}(x.{f.name}, "
                           f"{g.ref(f, 'bits')}, name + '.{f.name}')")
            else:
                src.append(f"    {cond}{g.ref(f.codec)}.check(x.{f.name}, name + '.{f.name}')")
        src.append("    pass")
        self.source = "\n".join(src) + "\n"
        exec(compile(self.source, f"<coolbpf layout of {c}>", "exec"), g.ns)
        self._from = g.ns["_from"]
        self._from0: Callable[[_Items], S] = g.ns["_from0"]
        self._dec_fn: Callable[[Any, int], S] = g.ns["_dec"]
        self._enc_fn: Callable[[Any, int, Any, str], None] = g.ns["_enc"]
        self._check_fn: Callable[[Any, str], None] = g.ns["_check"]
        # the unpacked items are the constructor's arguments as they are: the class
        # itself decodes a tuple (one call a record, for itertools.starmap)
        plain = not dec0 and args0 == ", ".join(f"t[{i}]" for i in range(len(order_fields)))
        self._star: Callable[..., S] | None = cast(Callable[..., S], cls) if plain else None

    # -- decoding: a frame is a list of nodes over bytes [start, start + length) --

    def _frame_dec(
        self, g: _Gen, nodes: Sequence[Node], start: int, length: int, t: str, base: str
    ) -> tuple[str, int, list[str], dict[str, str]]:
        """(format, items, statements, expression by attribute) of a frame's values."""
        slots: list[tuple[int, int, str, int, object]] = []  # offset, size, fmt, nitems, what
        groups: list[list[Bits]] = []
        for n in nodes:
            if isinstance(n, Field):
                slots.append((n.offset, n.codec.size, n.codec.fmt, n.codec.nitems, n))
            elif isinstance(n, Overlay):
                slots.append((n.offset, n.size, f"{n.size}s", 1, n))
            else:
                for grp in groups:
                    lo = min(b.offset for b in grp)
                    hi = max(b.offset + b.size for b in grp)
                    if n.offset < hi and n.offset + n.size > lo:
                        grp.append(n)
                        break
                else:
                    groups.append([n])
        for grp in groups:
            lo = min(b.offset for b in grp)
            hi = max(b.offset + b.size for b in grp)
            slots.append((lo, hi - lo, f"{hi - lo}s", 1, grp))
        slots.sort(key=lambda s: (s[0], s[1]))
        fmt: list[str] = []
        at = start
        idx = 0
        stmts: list[str] = []
        exprs: dict[str, str] = {}
        for off, size, f, k, what in slots:
            if off < at:
                raise TypeError(f"layout of {self.c}: members overlap at byte {off}")
            if off > at:
                fmt.append(f"{off - at}x")
            fmt.append(f)
            item = _ix(base, idx)
            if isinstance(what, Field):
                exprs[what.name] = what.codec.dec(g, t, item)
            elif isinstance(what, Overlay):
                for alt in what.alternatives:
                    u = g.tmp("u")
                    afmt, _, astmts, aexprs = self._frame_dec(g, alt, what.offset, what.size, u, "0")
                    st = g.ref(struct.Struct(self.order + afmt), "S")
                    stmts.append(f"{u} = {st}.unpack({t}[{item}])")
                    stmts.extend(astmts)
                    exprs.update(aexprs)
            else:
                grp = cast("list[Bits]", what)
                v = g.tmp("w")
                stmts.append(f"{v} = int.from_bytes({t}[{item}], {self._bo!r})")
                for b in grp:
                    p = self._bitpos(b, off, off + size)
                    mask = (1 << b.width) - 1
                    x = f"({v} >> {p}) & {mask:#x}" if p else f"{v} & {mask:#x}"
                    if isinstance(b.codec, BoolCodec):
                        e = f"(({x}) != 0)"
                    elif b.signed:
                        h = 1 << (b.width - 1)
                        e = f"((({x}) ^ {h:#x}) - {h:#x})"
                    else:
                        e = f"({x})"
                    if isinstance(b.codec, EnumCodec):
                        tv = g.tmp("e")
                        stmts.append(f"{tv} = {e}")
                        e = f"{g.ref(b.codec.members, 'members')}.get({tv}, {tv})"
                    exprs[b.name] = e
            at = off + size
            idx += k
        if at < start + length:
            fmt.append(f"{start + length - at}x")
        return "".join(fmt), idx, stmts, exprs

    def _bitpos(self, b: Bits, lo: int, hi: int) -> int:
        """Where a bitfield's bits start in the integer of a group's bytes [lo, hi)."""
        if self._bo == "little":
            return (b.offset - lo) * 8 + b.shift
        return (hi - (b.offset + b.size)) * 8 + b.shift

    # -- encoding --

    def _encoder(self, g: _Gen, fname: str, nodes: Sequence[Node], start: int, length: int) -> list[str]:
        """Source of `def fname(b, o, x, name)` writing the frame's members (its bytes first zeroed)."""
        slots: list[tuple[int, int, object]] = []
        groups: list[list[Bits]] = []
        for n in nodes:
            if isinstance(n, Bits):
                for grp in groups:
                    lo = min(b.offset for b in grp)
                    hi = max(b.offset + b.size for b in grp)
                    if n.offset < hi and n.offset + n.size > lo:
                        grp.append(n)
                        break
                else:
                    groups.append([n])
            else:
                slots.append((n.offset, n.codec.size if isinstance(n, Field) else n.size, n))
        for grp in groups:
            lo = min(b.offset for b in grp)
            hi = max(b.offset + b.size for b in grp)
            slots.append((lo, hi - lo, grp))
        slots.sort(key=lambda s: (s[0], s[1]))
        fmt: list[str] = []
        args: list[str] = []
        pre: list[str] = []
        post: list[str] = []
        at = start
        for off, size, what in slots:
            if off > at:
                fmt.append(f"{off - at}x")
            if isinstance(what, Field):
                a = what.codec.enc(g, f"x.{what.name}", f"name + '.{what.name}'")
                if a is None:
                    fmt.append(f"{size}x")
                    post.append(
                        f"{g.ref(what.codec)}.encode(b, o + {off}, x.{what.name}, name + '.{what.name}')"
                    )
                else:
                    fmt.append(what.codec.fmt)
                    args.extend(a)
            elif isinstance(what, Overlay):
                fmt.append(f"{size}x")
                alts = [self._alt(g, alt, what) for alt in what.alternatives]
                post.append(
                    f"{g.ref(_overlay_encode, 'overlay')}(b, o, {off}, {size}, x, {what.what!r}, "
                    f"{g.ref(alts, 'alts')}, name)"
                )
            else:
                grp = cast("list[Bits]", what)
                v = g.tmp("w")
                pre.append(f"{v} = 0")
                for bf in grp:
                    p = self._bitpos(bf, off, off + size)
                    pre.append(
                        f"{v} |= {g.ref(_bit_value, 'bitv')}(x.{bf.name}, {g.ref(bf, 'bits')}, "
                        f"name + '.{bf.name}') << {p}"
                    )
                fmt.append(f"{size}s")
                args.append(f"{v}.to_bytes({size}, {self._bo!r})")
            at = off + size
        if at < start + length:
            fmt.append(f"{start + length - at}x")
        st = g.ref(struct.Struct(self.order + "".join(fmt)), "S")
        src = [f"def {fname}(b, o, x, name):"]
        src += [f"    {s}" for s in pre]
        call = f"{st}.pack_into(b, o + {start}, {', '.join(args)})" if args else f"{st}.pack_into(b, o + {start})"
        src += ["    try:", f"        {call}", "    except (struct.error, OverflowError, TypeError):",
                f"        {g.ref(self, 'self')}.check_fields(x, name)", "        raise"]
        src += [f"    {s}" for s in post]
        return src

    def _alt(self, g: _Gen, nodes: Sequence[Node], ov: Overlay) -> _Alt:
        """One member of a union: its names, a writer of just its bytes, a reader."""
        fields = _fields_of(nodes)
        names = tuple(f.name for f in fields)
        # writing: each field on its own (never the gaps between them, which may be
        # another member's bytes); nested overlays through their own alternatives
        h = _Gen()
        h.ns.update(g.ns)
        src = ["def _enc(b, o, x, name):"]
        for n in nodes:
            if isinstance(n, Field):
                z = h.ref(n.codec.zero(), "z")
                src.append(f"    v = x.{n.name}")
                src.append(f"    {h.ref(n.codec)}.encode(b, o + {n.offset}, {z} if v is None else v, "
                           f"name + '.{n.name}')")
            elif isinstance(n, Overlay):
                sub = [self._alt(h, a, n) for a in n.alternatives]
                src.append(f"    if any(getattr(x, k) is not None for k in {h.ref(_fields_names(n), 'names')}):")
                src.append(f"        {h.ref(_overlay_encode, 'overlay')}(b, o, {n.offset}, {n.size}, x, "
                           f"{n.what!r}, {h.ref(sub, 'alts')}, name)")
        # bitfields: their bytes as one integer, read-modify-write
        groups: list[list[Bits]] = []
        for n in nodes:
            if isinstance(n, Bits):
                for grp in groups:
                    if n.offset < max(b.offset + b.size for b in grp) and n.offset + n.size > min(b.offset for b in grp):
                        grp.append(n)
                        break
                else:
                    groups.append([n])
        for grp in groups:
            lo = min(b.offset for b in grp)
            hi = max(b.offset + b.size for b in grp)
            src.append(f"    w = int.from_bytes(bytes(memoryview(b)[o + {lo}:o + {hi}]), {self._bo!r})")
            for bf in grp:
                p = self._bitpos(bf, lo, hi)
                mask = ((1 << bf.width) - 1) << p
                src.append(f"    v = x.{bf.name}")
                src.append(f"    w = (w & ~{mask:#x}) | ({h.ref(_bit_value, 'bitv')}(0 if v is None else v, "
                           f"{h.ref(bf, 'bits')}, name + '.{bf.name}') << {p})")
            src.append(f"    {h.ref(struct, 'struct')}.pack_into('{hi - lo}s', b, o + {lo}, "
                       f"w.to_bytes({hi - lo}, {self._bo!r}))")
        src.append("    pass")
        # reading: the same frame decoding as the struct's, over the union's bytes
        afmt, _, astmts, aexprs = self._frame_dec(h, nodes, ov.offset, ov.size, "t", "0")
        st = h.ref(struct.Struct(self.order + afmt), "S")
        src += ["def _dec(b, o):", f"    t = {st}.unpack_from(b, o + {ov.offset})"]
        src += [f"    {s}" for s in astmts]
        src.append("    return {" + ", ".join(f"{k!r}: {e}" for k, e in aexprs.items()) + "}")
        exec(compile("\n".join(src) + "\n", f"<coolbpf union member of {self.c}>", "exec"), h.ns)
        return _Alt(names, h.ns["_enc"], h.ns["_dec"])

    # -- the codec --

    def from_items(self, items: _Items, index: int) -> S:
        return cast(S, cast(Any, self._from)(items, index))

    def from_tuple(self, items: _Items) -> S:
        return self._from0(items)

    def tuple_decoder(self) -> Callable[[_Items], S]:
        return self._from0

    def star_decoder(self) -> Callable[..., S] | None:
        return self._star

    def decode(self, buf: ReadableBuffer, offset: int = 0) -> S:
        return self._dec_fn(buf, offset)

    def encode(self, buf: WriteableBuffer, offset: int, value: S, name: str = "value") -> None:
        if not isinstance(value, self.cls):
            raise TypeError(f"{name}: {self.c} takes a {self.cls.__name__}, not {type(value).__name__}")
        self._enc_fn(buf, offset, value, name)

    def dec(self, g: _Gen, t: str, base: str) -> str:
        return f"{g.ref(self._from, 'from')}({t}, {base})"

    def check_fields(self, value: object, name: str) -> None:
        self._check_fn(value, name)

    def check(self, value: object, name: str) -> None:
        if not isinstance(value, self.cls):
            raise TypeError(f"{name}: {self.c} takes a {self.cls.__name__}, not {type(value).__name__}")
        self._check_fn(value, name)

    def zero(self) -> object:
        return self.decode(bytes(self.size))


def _fields_names(o: Overlay) -> tuple[str, ...]:
    return tuple(f.name for f in _fields_of([o]))


def layout(
    cls: type[S],
    codecs: Codecs,
    c: str,
    size: int,
    align: int,
    body: Sequence[Node],
) -> StructCodec[S]:
    """Compiles a generated struct or union class's layout; sets its SIZE, ALIGN and
    FIELDS; returns its codec."""
    codec = StructCodec(cls, c, size, align, body, codecs.order)
    fl: dict[str, FieldLayout] = {}
    for f in _fields_of(body):
        if isinstance(f, Bits):
            fl[f.name] = FieldLayout(f.name, f.c_name, f.offset, f.size, f.bit_offset, f.width)
        else:
            fl[f.name] = FieldLayout(f.name, f.c_name, f.offset, f.codec.size)
    setattr(cls, "SIZE", size)
    setattr(cls, "ALIGN", align)
    setattr(cls, "FIELDS", fl)
    setattr(cls, "_cb_codec", codec)
    return codec


# ---- per byte order ---------------------------------------------------------


class Codecs:
    """The codecs of one byte order ('<' little-endian, '>' big-endian)."""

    def __init__(self, order: str) -> None:
        if order not in ("<", ">"):
            raise ValueError(f"byte order must be '<' or '>', not {order!r}")
        self.order = order
        o = order
        self.u8 = IntCodec(1, False, "__u8", o)
        self.i8 = IntCodec(1, True, "__s8", o)
        self.u16 = IntCodec(2, False, "__u16", o)
        self.i16 = IntCodec(2, True, "__s16", o)
        self.u32 = IntCodec(4, False, "__u32", o)
        self.i32 = IntCodec(4, True, "__s32", o)
        self.u64 = IntCodec(8, False, "__u64", o)
        self.i64 = IntCodec(8, True, "__s64", o)
        self.u128 = Int128Codec(False, "unsigned __int128", o)
        self.i128 = Int128Codec(True, "__int128", o)
        self.boolean = BoolCodec(o)
        self.f32 = FloatCodec(4, "float", o)
        self.f64 = FloatCodec(8, "double", o)
        #: a pointer: an address (never dereferenced)
        self.ptr = IntCodec(8, False, "a pointer", o)
        self._cache: dict[tuple[Any, ...], Codec[Any]] = {}

    def cstr(self, n: int) -> StrCodec:
        key = ("cstr", n)
        if key not in self._cache:
            self._cache[key] = StrCodec(n, self.order)
        return cast(StrCodec, self._cache[key])

    def octets(self, n: int, c: str | None = None) -> BytesCodec:
        key = ("bytes", n, c)
        if key not in self._cache:
            self._cache[key] = BytesCodec(n, c or f"__u8[{n}]", self.order)
        return cast(BytesCodec, self._cache[key])

    def array(self, element: Codec[T], dims: Sequence[int], c: str | None = None) -> ArrayCodec[T]:
        return ArrayCodec(element, dims, c or f"{element.c}{''.join(f'[{d}]' for d in dims)}", self.order)

    def enum(self, cls: type[E], size: int, signed: bool, c: str) -> EnumCodec[E]:
        return EnumCodec(cls, size, signed, c, self.order)


def zeros(*dims: int, fill: object = 0) -> Callable[[], list[Any]]:
    """A default factory of nested lists of `fill` (dims outermost first)."""

    def make() -> list[Any]:
        return _nest([fill] * math.prod(dims), dims)

    return make


def array_of(cls: Callable[[], Any], *dims: int) -> Callable[[], list[Any]]:
    """A default factory of nested lists of new `cls()` values."""

    def make() -> list[Any]:
        return _nest([cls() for _ in range(math.prod(dims))], dims)

    return make

