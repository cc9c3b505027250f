"""Maps: RawMap (bytes in, bytes out) and the typed views generated code makes."""
from __future__ import annotations

import ctypes
from collections.abc import ItemsView, Iterator, KeysView, MutableMapping, ValuesView
from ctypes import byref, c_uint32
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, overload

from ._codec import Codec
from ._errors import CoolbpfError

if TYPE_CHECKING:
    from ._object import BpfObject

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

#: update() flags
BPF_ANY = 0
BPF_NOEXIST = 1
BPF_EXIST = 2
BPF_F_LOCK = 4

_ENOENT = 2

class MapInfo(NamedTuple):
    #: BPF_MAP_TYPE_*
    type: int
    key_size: int
    #: one value (one CPU's, for per-CPU maps)
    value_size: int
    max_entries: int
    flags: int
    #: -1 before load
    fd: int
    per_cpu: bool
    #: bytes of the value buffer lookup/update take: value_size, or for per-CPU maps
    #: value_size rounded up to 8, times the possible CPUs
    value_buffer_size: int


def _buf(n: int) -> ctypes.Array[ctypes.c_ubyte]:
    return (ctypes.c_ubyte * max(n, 1))()


class RawMap:
    """A map with raw bytes. Operations need the object loaded ('ESTATE' before,
    'EDESTROYED' after destroy); failures name the map."""

    def __init__(self, obj: BpfObject, name: str) -> None:
        self._obj = obj
        self.name = name
        self._bname = name.encode("utf-8")
        self._info: MapInfo | None = None

    def info(self) -> MapInfo:
        if self._info is None or self._info.fd < 0:
            i = self._obj.map_info(self.name)
            self._info = MapInfo(i.type, i.key_size, i.value_size, i.max_entries, i.flags, i.fd,
                                 bool(i.per_cpu), i.value_buffer_size)
        return self._info

    def fd(self) -> int:
        """The map's fd (after load); it stays owned by the object."""
        with self._obj._native.lock:
            c = self._obj._require("loaded", f"map '{self.name}'")
            return self._obj._call(self._obj.library.fn["map_fd"](c, self._bname))

    def lookup(self, key: Any, out: Any, flags: int = 0) -> bool:
        """Copies the value of `key` into `out` (value_buffer_size bytes); False: no such key."""
        obj = self._obj
        with obj._native.lock:
            c = obj._require("loaded", f"map '{self.name}': lookup")
            r = obj.library.fn["map_lookup"](c, self._bname, key, out, ctypes.sizeof(out), flags)
            if r == -_ENOENT:
                return False
            if r < 0:
                raise obj.library.error(r)
            return True

    def update(self, key: Any, value: Any, flags: int = 0) -> None:
        """flags: BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2, BPF_F_LOCK 4"""
        obj = self._obj
        with obj._native.lock:
            c = obj._require("loaded", f"map '{self.name}': update")
            r = obj.library.fn["map_update"](c, self._bname, key, value, ctypes.sizeof(value), flags)
            if r < 0:
                raise obj.library.error(r)

    def delete(self, key: Any) -> bool:
        """False: no such key (array maps cannot delete: 'EINVAL')."""
        obj = self._obj
        with obj._native.lock:
            c = obj._require("loaded", f"map '{self.name}': delete")
            r = obj.library.fn["map_delete"](c, self._bname, key)
            if r == -_ENOENT:
                return False
            if r < 0:
                raise obj.library.error(r)
            return True

    def next_key(self, key: Any | None, out: Any) -> bool:
        """The key after `key` (None: the first) into `out`; False: no more."""
        obj = self._obj
        with obj._native.lock:
            c = obj._require("loaded", f"map '{self.name}': next_key")
            r = obj.library.fn["map_next_key"](c, self._bname, key, out)
            if r == -_ENOENT:
                return False
            if r < 0:
                raise obj.library.error(r)
            return True

    def lookup_batch(self, cursor: Any | None, next_cursor: Any, keys: Any, values: Any,
                     count: int) -> tuple[int, bool] | None:
        """BPF_MAP_LOOKUP_BATCH: up to `count` entries after `cursor` (None: from the
        start) into keys and values; next_cursor (max(key_size, 8) bytes) receives the
        cursor for the next call. Returns (entries, this was the last batch), or None
        where the kernel or map type has no batch operations. A hash bucket larger than
        `count` raises 'ENOSPC' (call again with more room)."""
        obj = self._obj
        with obj._native.lock:
            c = obj._require("loaded", f"map '{self.name}': lookup_batch")
            n = c_uint32(count)
            r = obj.library.fn["map_lookup_batch"](c, self._bname, cursor, next_cursor, keys, values, byref(n))
            if r == -95 or r == -524:  # EOPNOTSUPP, ENOTSUPP
                return None
            if r < 0:
                raise obj.library.error(r)
            return n.value, r == 1

    def __repr__(self) -> str:
        return f"<RawMap {self.name!r}>"


class _Cursor:
    """Walks a map's entries: batch lookup where the kernel has it for the map type,
    next_key (plus a lookup for the value) otherwise.

    While the map changes (by BPF or by the loop itself): the walk always ends and
    yields no key twice; an entry present throughout is yielded once, entries added
    or deleted meanwhile may or may not be; batch values are a snapshot per batch
    (256 entries), next_key values are read when their key is reached; deleting the
    entry just yielded is safe (next_key reads the following key first).
    """

    def __init__(self, raw: RawMap, info: MapInfo, values: bool) -> None:
        self.raw = raw
        self.info = info
        self.values = values
        self.count = max(1, min(info.max_entries or 1, 256))
        self._alloc(self.count)
        cs = max(info.key_size, 8)
        self.cursor_in = _buf(cs)
        self.cursor_out = _buf(cs)

    def _alloc(self, count: int) -> None:
        self.count = count
        self.keys = _buf(count * self.info.key_size)
        self.vals = _buf(count * self.info.value_buffer_size)

    def batches(self) -> Iterator[tuple[Any, Any, int]]:
        """(keys buffer, values buffer, entries) per batch; in next_key mode one entry each."""
        started = False
        while True:
            try:
                r = self.raw.lookup_batch(self.cursor_in if started else None, self.cursor_out, self.keys,
                                          self.vals, self.count)
            except CoolbpfError as e:
                # a hash bucket larger than the batch: retry with room for it
                if e.code == "ENOSPC" and self.count < max(self.info.max_entries, 1) * 2:
                    self._alloc(self.count * 2)
                    continue
                raise
            if r is None:
                if started:
                    raise CoolbpfError(f"map '{self.raw.name}': batch lookup stopped working mid-walk",
                                       "EOPNOTSUPP", 95)
                yield from self._next_keys()
                return
            started = True
            self.cursor_in, self.cursor_out = self.cursor_out, self.cursor_in
            n, last = r
            if n > 0:
                yield self.keys, self.vals, n
            if last or n == 0:
                return

    def _next_keys(self) -> Iterator[tuple[Any, Any, int]]:
        ks = self.info.key_size
        k = [_buf(ks), _buf(ks)]
        val = _buf(self.info.value_buffer_size)
        cur = 0
        pending = self.raw.next_key(None, k[0])
        seen: set[bytes] = set()
        limit = 4 * max(self.info.max_entries, 1) + 64
        steps = 0
        while pending:
            steps += 1
            if steps > limit:
                break
            key = k[cur]
            other = 1 - cur
            pending = self.raw.next_key(key, k[other])
            cur = other
            ident = bytes(key)
            if ident in seen:
                continue
            if self.values and not self.raw.lookup(key, val):
                continue  # deleted meanwhile
            seen.add(ident)
            yield key, val, 1


class _KeyedMap(MutableMapping[K, T]):
    """Shared by TypedMap and PerCpuMap: keys through a codec, values through `T`."""

    _kind = "TypedMap"
    _per_cpu = False

    def __init__(self, raw: RawMap, key: Codec[K], value_size: int) -> None:
        info = raw.info()
        kind = self._kind
        if info.per_cpu != self._per_cpu:
            raise CoolbpfError(
                f"{kind} '{raw.name}': it is "
                + ("a per-CPU map: use PerCpuMap" if info.per_cpu else "not a per-CPU map: use TypedMap"),
                "EMISMATCH",
            )
        if key.size != info.key_size:
            raise CoolbpfError(f"{kind} '{raw.name}': the key type is {key.size} bytes, the map's keys"
                               f" are {info.key_size}", "EMISMATCH")
        if value_size != info.value_size:
            raise CoolbpfError(f"{kind} '{raw.name}': the value type is {value_size} bytes, the map's"
                               f" values are {info.value_size}", "EMISMATCH")
        self.raw = raw
        self.info = info
        self.name = raw.name
        self.key_codec = key
        self._kb = _buf(info.key_size)
        self._vb = _buf(info.value_buffer_size)
        self._lock = raw._obj._native.lock

    # values: implemented by the subclasses
    def _decode(self, buf: Any, offset: int) -> T:
        raise NotImplementedError

    def _encode(self, value: T) -> None:
        raise NotImplementedError

    def _key(self, key: K) -> Any:
        kb = self._kb
        ctypes.memset(kb, 0, len(kb))  # hash maps compare whole keys, padding included
        self.key_codec.encode(kb, 0, key, f"{self.name} key")
        return kb

    def lookup(self, key: K, flags: int = 0) -> T | None:
        """The value of `key`, or None when there is no such key."""
        with self._lock:
            if self.raw.lookup(self._key(key), self._vb, flags):
                return self._decode(self._vb, 0)
            return None

    @overload
    def get(self, key: K, /) -> T | None: ...

    @overload
    def get(self, key: K, /, default: T | V) -> T | V: ...

    def get(self, key: K, /, default: Any = None) -> Any:
        v = self.lookup(key)
        return default if v is None else v

    def __getitem__(self, key: K) -> T:
        v = self.lookup(key)
        if v is None:
            raise KeyError(key)
        return v

    def set(self, key: K, value: T, flags: int = BPF_ANY) -> None:
        """Creates or updates an entry. flags: BPF_ANY (default), BPF_NOEXIST (only a new
        key: 'EEXIST' otherwise), BPF_EXIST (only an existing key: 'ENOENT'), BPF_F_LOCK."""
        with self._lock:
            kb = self._key(key)
            self._encode(value)
            self.raw.update(kb, self._vb, flags)

    def __setitem__(self, key: K, value: T) -> None:
        self.set(key, value)

    def delete(self, key: K) -> bool:
        """Deletes an entry; False when there was none (array maps: 'EINVAL')."""
        with self._lock:
            return self.raw.delete(self._key(key))

    def __delitem__(self, key: K) -> None:
        if not self.delete(key):
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            try:
                kb = self._key(key)  # type: ignore[arg-type]
            except (TypeError, ValueError, OverflowError):
                return False
            return self.raw.lookup(kb, self._vb)

    def _entries(self, keys: bool, values: bool) -> Iterator[tuple[Any, Any]]:
        c = _Cursor(self.raw, self.info, values)
        ks = self.info.key_size
        vs = self.info.value_buffer_size
        kd = self.key_codec.decode
        for kbuf, vbuf, n in c.batches():
            for i in range(n):
                yield (kd(kbuf, i * ks) if keys else None), (self._decode(vbuf, i * vs) if values else None)

    def __iter__(self) -> Iterator[K]:
        """Every key: batch lookup (256 entries a system call) where the kernel has it for
        this map type, next_key otherwise (see items() for what happens while the map
        changes)."""
        for k, _ in self._entries(True, False):
            yield k

    def __len__(self) -> int:
        """The number of entries (a walk over the map)."""
        n = 0
        for _ in self._entries(False, False):
            n += 1
        return n

    def keys(self) -> KeysView[K]:
        return KeysView(self)

    def values(self) -> ValuesView[T]:
        return _Values(self)

    def items(self) -> ItemsView[K, T]:
        """Every entry, by batch lookup where the kernel has it, next_key + lookup
        otherwise. While the map changes: no key is yielded twice and the walk always
        ends; entries present throughout are yielded once, entries added or deleted
        meanwhile may or may not be; deleting the entry just yielded is safe."""
        return _Items(self)

    def clear(self) -> None:
        """Deletes every entry (array maps cannot: 'EINVAL')."""
        for k in list(self):
            self.delete(k)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class _Items(ItemsView[K, T]):
    _mapping: _KeyedMap[K, T]

    def __iter__(self) -> Iterator[tuple[K, T]]:
        for k, v in self._mapping._entries(True, True):
            yield k, v


class _Values(ValuesView[T]):
    _mapping: _KeyedMap[Any, T]

    def __iter__(self) -> Iterator[T]:
        for _, v in self._mapping._entries(False, True):
            yield v


class TypedMap(_KeyedMap[K, V]):
    """A map with typed keys and values (generated code makes one per map): a
    MutableMapping (``m[k]``, ``m.get(k)``, ``m[k] = v``, ``del m[k]``, ``k in m``,
    ``keys()``/``values()``/``items()``), plus ``set(k, v, flags)`` and ``delete(k)``."""

    def __init__(self, raw: RawMap, key: Codec[K], value: Codec[V]) -> None:
        super().__init__(raw, key, value.size)
        self.value_codec = value

    def _decode(self, buf: Any, offset: int) -> V:
        return self.value_codec.decode(buf, offset)

    def _encode(self, value: V) -> None:
        vb = self._vb
        ctypes.memset(vb, 0, len(vb))
        self.value_codec.encode(vb, 0, value, f"{self.name} value")


class PerCpuMap(_KeyedMap[K, list[V]]):
    """A per-CPU map: every value is a list with one element per possible CPU
    (index = CPU number); setting needs exactly that many (ValueError otherwise)."""

    _kind = "PerCpuMap"
    _per_cpu = True

    def __init__(self, raw: RawMap, key: Codec[K], value: Codec[V]) -> None:
        super().__init__(raw, key, value.size)
        self.value_codec = value
        self._slot = (value.size + 7) & ~7
        #: possible CPUs: the length of every value
        self.cpus = self.info.value_buffer_size // self._slot

    def _decode(self, buf: Any, offset: int) -> list[V]:
        d = self.value_codec.decode
        s = self._slot
        return [d(buf, offset + i * s) for i in range(self.cpus)]

    def _encode(self, value: list[V]) -> None:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != self.cpus:
            got = len(value) if hasattr(value, "__len__") else type(value).__name__
            raise ValueError(f"PerCpuMap '{self.name}': expected a list of {self.cpus} values (one per"
                             f" possible CPU), got {got}")
        vb = self._vb
        ctypes.memset(vb, 0, len(vb))
        e = self.value_codec.encode
        for i, v in enumerate(value):
            e(vb, i * self._slot, v, f"{self.name} value[{i}]")

