"""The object a bpf.so embeds: its lifecycle, explicit attachment, sections."""
from __future__ import annotations

import ctypes
import os
import threading
import weakref
from ctypes import byref, c_size_t
from typing import TYPE_CHECKING, Any, Literal, Mapping, Sequence, TypeVar

from ._abi import Library, MapInfoC, OpenOpts, load_library
from ._codec import Codec
from ._errors import CoolbpfError

if TYPE_CHECKING:
    from types import TracebackType

    from ._events import RawEvents
    from ._maps import RawMap

T = TypeVar("T")

State = Literal["opened", "loaded", "attached", "destroyed"]

#: BPF_F_RDONLY_PROG: a map BPF programs may only read (.rodata after load)
_BPF_F_RDONLY_PROG = 1 << 7


class _Native:
    """What the object owns in C; destroyed explicitly or when the object is collected."""

    def __init__(self, lib: Library, c: int) -> None:
        self.lib = lib
        self.c: int | None = c
        self.lock = threading.RLock()
        self.state: State = "opened"
        self.load_failed = False
        self.readers: list[RawEvents] = []

    def destroy(self) -> None:
        with self.lock:
            if self.state == "destroyed":
                return
            for r in list(self.readers):
                r._close_native()
            self.readers.clear()
            c, self.c = self.c, None
            self.state = "destroyed"
            if c is not None:
                self.lib.fn["destroy"](c)


def _b(s: str) -> bytes:
    return s.encode("utf-8")


class BpfObject:
    """The object embedded in a bpf.so: opened -> (set_initial, set_autoload) ->
    load() -> attach() / attach_*() -> destroy().

    Calls out of order raise CoolbpfError 'ESTATE' saying what to do instead;
    any call after destroy() raises 'EDESTROYED' (destroy() itself is
    idempotent, and so is Link.detach()). A context manager: leaving the block
    destroys it. An object nobody destroyed is destroyed when it is garbage
    (maps, readers and sections made from it keep it alive).

    Thread safety: every call into the bpf.so holds the object's lock, so
    destroy() from one thread never frees what another thread is using.
    """

    library: Library

    def __init__(self, library: Library, btf_path: str | None = None, log_level: int = 0,
                 log_fd: int | None = None) -> None:
        if log_level not in (0, 1, 2):
            raise ValueError(f"open: log_level must be 0, 1 or 2, got {log_level!r}")
        opts = OpenOpts()
        opts.sz = ctypes.sizeof(OpenOpts)
        opts.btf_path = _b(os.fspath(btf_path)) if btf_path is not None else None
        opts.log_level = log_level
        opts.log_fd = -1 if log_fd is None else log_fd
        c = library.fn["open"](byref(opts))
        if not c:
            raise library.error()
        self.library = library
        self._native = _Native(library, c)
        self._finalizer = weakref.finalize(self, self._native.destroy)
        self._maps: dict[str, RawMap] = {}
        self._sections: dict[str, Section] = {}
        #: pages per CPU of perf event arrays' readers, by map (set_perf_pages)
        self.perf_pages: dict[str, int] = {}

    # ---- state ----

    @property
    def state(self) -> State:
        """'opened', 'loaded', 'attached' or 'destroyed'."""
        return self._native.state

    def _require(self, need: Literal["opened", "loaded", "alive"], what: str) -> int:
        """The C handle, once the object is in a state that allows `what`."""
        n = self._native
        if n.state == "destroyed" or n.c is None:
            raise CoolbpfError(f"{what}: the object was destroyed", "EDESTROYED")
        if need == "opened":
            if n.state != "opened":
                raise CoolbpfError(
                    f"{what}: the object is already {n.state}; this is possible only between open()"
                    " and load()",
                    "ESTATE",
                )
            if n.load_failed:
                raise CoolbpfError(f"{what}: load() failed on this object; destroy() it and open a new one",
                                   "ESTATE")
        elif need == "loaded" and n.state == "opened":
            if n.load_failed:
                raise CoolbpfError(f"{what}: load() failed on this object; destroy() it and open a new one",
                                   "ESTATE")
            raise CoolbpfError(f"{what}: the object is not loaded yet; call load() first", "ESTATE")
        return n.c

    def _call(self, ret: int) -> int:
        if ret < 0:
            raise self.library.error(ret)
        return ret

    # ---- before load ----

    def set_initial(self, section: str, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Before load: writes bytes at `offset` of a data section's initial contents."""
        with self._native.lock:
            c = self._require("opened", f"set_initial('{section}')")
            if offset < 0:
                raise ValueError("set_initial: offset must be >= 0")
            b = bytes(data)
            self._call(self.library.fn["set_initial"](c, _b(section), offset, b, len(b)))

    def set_autoload(self, program: str, on: bool) -> None:
        """Before load: whether a program is loaded at all (SEC("?...") ones default to no)."""
        with self._native.lock:
            c = self._require("opened", f"set_autoload('{program}')")
            self._call(self.library.fn["set_autoload"](c, _b(program), 1 if on else 0))

    def set_perf_pages(self, pages: Mapping[str, int] | None, maps: Sequence[str]) -> None:
        """Pages per CPU for the readers of perf event arrays (a power of two; default
        64), by map name; `maps` are the perf event arrays there are."""
        for k, v in (pages or {}).items():
            if k not in maps:
                raise TypeError(f"perf_pages: {k!r} is not a perf event array of this object"
                                f" (there are: {', '.join(maps) or 'none'})")
            _check_pages(k, v)
            self.perf_pages[k] = v

    # ---- load, attach ----

    def load(self) -> None:
        """Loads every program and creates every map (the verifier runs here). A
        verifier rejection raises 'EACCES' with the log's tail in the message. A failed
        load cannot be retried: destroy() and open again."""
        with self._native.lock:
            c = self._require("opened", "load()")
            r = self.library.fn["load"](c)
            if r < 0:
                self._native.load_failed = True
                raise self.library.error(r)
            self._native.state = "loaded"
            for s in self._sections.values():
                s._refresh()

    def attach(self) -> None:
        """Attaches every auto-attachable program (those whose SEC() names a target)."""
        with self._native.lock:
            c = self._require("loaded", "attach()")
            if self._native.state == "attached":
                raise CoolbpfError("attach(): the object's programs are already attached", "ESTATE")
            self._call(self.library.fn["attach"](c))
            self._native.state = "attached"

    def _link(self, what: str, attach: Any, *args: Any) -> Link:
        with self._native.lock:
            c = self._require("loaded", what)
            return Link(self, self._call(attach(c, *args)), what)

    def attach_uprobe(self, program: str, binary: str, symbol: str | None = None, offset: int = 0,
                      pid: int = -1, retprobe: bool = False) -> Link:
        """`symbol` in `binary` (None: `offset` alone is the address) plus `offset`;
        pid -1: every process."""
        return self._link(f"attach_uprobe('{program}')", self.library.fn["attach_uprobe"], _b(program),
                          _b(binary), _b(symbol) if symbol is not None else None, offset, pid,
                          1 if retprobe else 0)

    def attach_kprobe(self, program: str, function: str, offset: int = 0, retprobe: bool = False) -> Link:
        return self._link(f"attach_kprobe('{program}')", self.library.fn["attach_kprobe"], _b(program),
                          _b(function), offset, 1 if retprobe else 0)

    def attach_tracepoint(self, program: str, category: str, name: str) -> Link:
        return self._link(f"attach_tracepoint('{program}')", self.library.fn["attach_tracepoint"],
                          _b(program), _b(category), _b(name))

    def attach_raw_tracepoint(self, program: str, name: str) -> Link:
        return self._link(f"attach_raw_tracepoint('{program}')", self.library.fn["attach_raw_tracepoint"],
                          _b(program), _b(name))

    def attach_xdp(self, program: str, ifindex: int, flags: int = 0) -> Link:
        return self._link(f"attach_xdp('{program}')", self.library.fn["attach_xdp"], _b(program), ifindex,
                          flags)

    def attach_tc(self, program: str, ifindex: int, direction: Literal["ingress", "egress"]) -> Link:
        if direction not in ("ingress", "egress"):
            raise ValueError(f"attach_tc: direction must be 'ingress' or 'egress', not {direction!r}")
        return self._link(f"attach_tc('{program}')", self.library.fn["attach_tc"], _b(program), ifindex,
                          1 if direction == "egress" else 0)

    def attach_cgroup(self, program: str, cgroup_path: str) -> Link:
        return self._link(f"attach_cgroup('{program}')", self.library.fn["attach_cgroup"], _b(program),
                          _b(os.fspath(cgroup_path)))

    def attach_perf_event(self, program: str, perf_event_fd: int) -> Link:
        return self._link(f"attach_perf_event('{program}')", self.library.fn["attach_perf_event"],
                          _b(program), perf_event_fd)

    # ---- maps, sections, events ----

    def map(self, name: str) -> RawMap:
        """A map by name (the same RawMap for the same name); its operations need the
        object loaded."""
        from ._maps import RawMap

        m = self._maps.get(name)
        if m is None:
            m = self._maps[name] = RawMap(self, name)
        return m

    def section(self, name: str) -> Section:
        """A data section ('.rodata', '.data', '.bss', '.data.foo', ...): before load its
        initial image, after load the memory-mapped map (.rodata read-only)."""
        s = self._sections.get(name)
        if s is None:
            with self._native.lock:
                self._require("alive", f"section('{name}')")
                s = self._sections[name] = Section(self, name)
        return s

    def events(self, map: str, perf_pages: int = 0) -> RawEvents:
        """A new reader of a ring buffer or perf event array (after load); perf_pages:
        per-CPU buffer pages of a perf event array, a power of two (0: 64)."""
        from ._events import RawEvents

        if perf_pages:
            _check_pages(map, perf_pages)
        with self._native.lock:
            c = self._require("loaded", f"events('{map}')")
            e = self.library.fn["events_open"](c, _b(map), perf_pages)
            if not e:
                raise self.library.error()
            r = RawEvents(self, map, e)
            self._native.readers.append(r)
            return r

    def map_info(self, name: str) -> MapInfoC:
        with self._native.lock:
            c = self._require("alive", f"map '{name}'")
            info = MapInfoC()
            self._call(self.library.fn["map_info"](c, _b(name), byref(info)))
            return info

    # ---- the end ----

    def destroy(self) -> None:
        """Detaches every program, closes every reader (waiting iterations end),
        unloads. Idempotent."""
        self._native.destroy()
        for s in self._sections.values():
            s._forget()

    close = destroy

    def __enter__(self: _O) -> _O:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.destroy()

    def __repr__(self) -> str:
        return f"<BpfObject of {self.library.path} ({self.state})>"


_O = TypeVar("_O", bound=BpfObject)


def _check_pages(map: str, pages: object) -> None:
    if not isinstance(pages, int) or pages < 1 or pages & (pages - 1):
        raise ValueError(f"events '{map}': perf_pages must be a power of two, not {pages!r}")


def open_object(path: str, abi_version: int | None = None, sha256: str | None = None,
                btf_path: str | None = None, log_level: int = 0, log_fd: int | None = None) -> BpfObject:
    """Loads the bpf.so at `path` (checked like load_library) and opens its object."""
    return BpfObject(load_library(path, abi_version, sha256), btf_path, log_level, log_fd)


class Link:
    """An explicit attachment: detach() (or the object's destroy()) removes it. A
    context manager: leaving the block detaches it."""

    def __init__(self, owner: BpfObject, link_id: int, description: str) -> None:
        self._owner = owner
        self._id = link_id
        self.description = description
        self._attached = True

    @property
    def attached(self) -> bool:
        return self._attached and self._owner.state != "destroyed"

    def detach(self) -> None:
        """Detaches the program. Idempotent; a no-op after the object's destroy()."""
        n = self._owner._native
        with n.lock:
            if not self._attached:
                return
            self._attached = False
            if n.state == "destroyed" or n.c is None:
                return
            r = self._owner.library.fn["detach"](n.c, self._id)
            if r < 0:
                raise self._owner.library.error(r)

    def __enter__(self) -> Link:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.detach()

    def __repr__(self) -> str:
        return f"<Link {self.description}{'' if self.attached else ' (detached)'}>"


class Section:
    """One data section's bytes, read and written through codecs.

    Before load: its initial image (writes go through set_initial). After load:
    the memory-mapped map itself for .data, .bss and custom sections (reads and
    writes are live); .rodata is frozen by load (writes raise AttributeError).
    After destroy every access raises CoolbpfError 'EDESTROYED': nothing touches
    memory that is no longer mapped.
    """

    def __init__(self, obj: BpfObject, name: str) -> None:
        self._obj = obj
        self.name = name
        self._mem: ctypes.Array[ctypes.c_ubyte] | None = None
        self._read_only = False
        self._refresh()

    def _refresh(self) -> None:
        obj = self._obj
        n = obj._native
        if n.c is None:
            self._mem = None
            return
        size = c_size_t(0)
        p = obj.library.fn["data"](n.c, _b(self.name), byref(size))
        if not p:
            raise obj.library.error()
        self._mem = (ctypes.c_ubyte * size.value).from_address(p)
        self.size = size.value
        self._read_only = False
        if n.state != "opened":
            info = MapInfoC()
            if obj.library.fn["map_info"](n.c, _b(self.name), byref(info)) == 0:
                self._read_only = bool(info.flags & _BPF_F_RDONLY_PROG)

    def _forget(self) -> None:
        self._mem = None

    @property
    def read_only(self) -> bool:
        """Loaded and frozen (.rodata)."""
        return self._read_only

    def _memory(self, what: str) -> ctypes.Array[ctypes.c_ubyte]:
        mem = self._mem
        if mem is None or self._obj._native.state == "destroyed":
            raise CoolbpfError(f"{self.name}: {what}: the object was destroyed", "EDESTROYED")
        return mem

    def get(self, codec: Codec[T], offset: int) -> T:
        """The value at `offset` (a fresh copy)."""
        with self._obj._native.lock:
            return codec.decode(self._memory("read"), offset)

    def set(self, codec: Codec[T], offset: int, value: T, name: str = "value", loaded: bool = True) -> None:
        """Writes `value` at `offset`: before load into the initial image, after load
        live. `loaded` says which one the caller means: a write meant for the initial
        image after load is 'ESTATE'."""
        b = bytearray(codec.size)
        codec.encode(b, 0, value, name)
        obj = self._obj
        with obj._native.lock:
            if not loaded or obj._native.state == "opened":
                obj.set_initial(self.name, offset, b)
                return
            mem = self._memory(f"write {name}")
            if self._read_only:
                raise AttributeError(
                    f"{name}: {self.name} is read-only after load (the kernel froze it); set it before"
                    " load, through open() or init()"
                )
            ctypes.memmove(ctypes.addressof(mem) + offset, bytes(b), len(b))

    def read(self) -> bytes:
        """A copy of the section's bytes."""
        with self._obj._native.lock:
            return bytes(self._memory("read"))
