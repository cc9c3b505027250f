"""The bpf.so C ABI (coolbpf.h) through ctypes: loading, identity checks, prototypes."""
from __future__ import annotations

import ctypes
import os
import threading
from ctypes import (
    POINTER,
    Structure,
    c_char_p,
    c_int,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import Any

from ._errors import CoolbpfError

#: COOLBPF_ABI_VERSION of the coolbpf.h this runtime speaks
ABI_VERSION = 1


class OpenOpts(Structure):
    """struct coolbpf_open_opts"""

    _fields_ = [
        ("sz", c_size_t),
        ("btf_path", c_char_p),
        ("log_level", c_int),
        ("log_fd", c_int),
    ]


class MapInfoC(Structure):
    """struct coolbpf_map_info"""

    _fields_ = [
        ("type", c_uint32),
        ("key_size", c_uint32),
        ("value_size", c_uint32),
        ("max_entries", c_uint32),
        ("flags", c_uint32),
        ("fd", ctypes.c_int32),
        ("per_cpu", c_uint32),
        ("value_buffer_size", c_uint32),
    ]


# name -> (restype, argtypes)
_PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    "abi_version": (c_uint32, []),
    "object_sha256": (c_char_p, []),
    "object_data": (c_void_p, [POINTER(c_size_t)]),
    "last_error": (c_char_p, []),
    "last_errno": (c_int, []),
    "open": (c_void_p, [POINTER(OpenOpts)]),
    "set_initial": (c_int, [c_void_p, c_char_p, c_size_t, c_void_p, c_size_t]),
    "set_autoload": (c_int, [c_void_p, c_char_p, c_int]),
    "load": (c_int, [c_void_p]),
    "attach": (c_int, [c_void_p]),
    "init": (c_void_p, [POINTER(OpenOpts)]),
    "destroy": (None, [c_void_p]),
    "attach_uprobe": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_uint64, c_int, c_int]),
    "attach_kprobe": (c_int, [c_void_p, c_char_p, c_char_p, c_uint64, c_int]),
    "attach_tracepoint": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p]),
    "attach_raw_tracepoint": (c_int, [c_void_p, c_char_p, c_char_p]),
    "attach_xdp": (c_int, [c_void_p, c_char_p, c_int, c_uint32]),
    "attach_tc": (c_int, [c_void_p, c_char_p, c_int, c_int]),
    "attach_cgroup": (c_int, [c_void_p, c_char_p, c_char_p]),
    "attach_perf_event": (c_int, [c_void_p, c_char_p, c_int]),
    "detach": (c_int, [c_void_p, c_int]),
    "num_possible_cpus": (c_int, []),
    "map_info": (c_int, [c_void_p, c_char_p, POINTER(MapInfoC)]),
    "map_fd": (c_int, [c_void_p, c_char_p]),
    "map_lookup": (c_int, [c_void_p, c_char_p, c_void_p, c_void_p, c_size_t, c_uint64]),
    "map_update": (c_int, [c_void_p, c_char_p, c_void_p, c_void_p, c_size_t, c_uint64]),
    "map_delete": (c_int, [c_void_p, c_char_p, c_void_p]),
    "map_next_key": (c_int, [c_void_p, c_char_p, c_void_p, c_void_p]),
    "map_lookup_batch": (
        c_int,
        [c_void_p, c_char_p, c_void_p, c_void_p, c_void_p, c_void_p, POINTER(c_uint32)],
    ),
    "data": (c_void_p, [c_void_p, c_char_p, POINTER(c_size_t)]),
    "events_open": (c_void_p, [c_void_p, c_char_p, c_size_t]),
    "events_fd": (c_int, [c_void_p]),
    "events_read": (c_int64, [c_void_p, c_void_p, c_size_t, c_int]),
    "events_stats": (None, [c_void_p, POINTER(c_uint64), POINTER(c_uint64)]),
    "events_close": (None, [c_void_p]),
}


class Library:
    """A loaded bpf.so (one per file, never unloaded). Made by load_library()."""

    path: str
    abi_version: int
    object_sha256: str

    def __init__(self, path: str) -> None:
        try:
            dll = ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_LOCAL)
        except OSError as e:
            raise CoolbpfError(f"load_library: cannot load '{path}': {e}", "ELIBBAD", 80) from None
        self.path = path
        self._dll = dll
        self.fn: dict[str, Any] = {}
        for name, (restype, argtypes) in _PROTOTYPES.items():
            try:
                f = getattr(dll, f"coolbpf_{name}")
            except AttributeError:
                raise CoolbpfError(
                    f"load_library: '{path}' is not a coolbpf bpf.so: it has no coolbpf_{name}",
                    "EMISMATCH",
                ) from None
            f.restype = restype
            f.argtypes = argtypes
            self.fn[name] = f
        self.abi_version = int(self.fn["abi_version"]())
        raw = self.fn["object_sha256"]()
        self.object_sha256 = raw.decode("ascii") if raw else ""
        self._cpus = 0

    def possible_cpus(self) -> int:
        """The number of possible CPUs: the length of every per-CPU value."""
        if self._cpus == 0:
            n = int(self.fn["num_possible_cpus"]())
            if n < 0:
                raise self.error(n)
            self._cpus = n
        return self._cpus

    def error(self, ret: int = -1) -> CoolbpfError:
        """The failure the ABI just reported on this thread, as a CoolbpfError."""
        err = int(self.fn["last_errno"]())
        if err == 0 and ret < 0:
            err = -ret
        raw = self.fn["last_error"]()
        msg = raw.decode("utf-8", "replace") if raw else ""
        if not msg:
            msg = f"coolbpf call failed: {os.strerror(err)} (errno {err})"
        return CoolbpfError(msg, None, err)


_libraries: dict[str, Library] = {}
_lock = threading.Lock()


def load_library(
    path: str | os.PathLike[str],
    abi_version: int | None = ABI_VERSION,
    sha256: str | None = None,
) -> Library:
    """Loads a bpf.so and checks that it is the one the code was generated for.

    One Library per file (paths are resolved through symlinks). A missing file
    is 'ENOENT', a file the dynamic loader refuses 'ELIBBAD'; another ABI
    version or object SHA-256 than expected is 'EMISMATCH', naming expected,
    found and the path. ``sha256=None`` skips the object check.
    """
    abs_path = os.path.abspath(os.fspath(path))
    try:
        real = os.path.realpath(abs_path, strict=True)
    except OSError as e:
        err = e.errno or 2
        reason = "no such file" if err == 2 else (e.strerror or str(e))
        raise CoolbpfError(f"load_library: '{abs_path}': {reason}", None, err) from None
    with _lock:
        lib = _libraries.get(real)
        if lib is None:
            lib = Library(real)
            _libraries[real] = lib
    if abi_version is not None and lib.abi_version != abi_version:
        raise CoolbpfError(
            f"load_library: '{real}' has coolbpf ABI version {lib.abi_version}, expected {abi_version}"
            " (regenerate the code, or rebuild the bpf.so with the matching coolbpf-gen)",
            "EMISMATCH",
        )
    if lib.abi_version != ABI_VERSION:
        raise CoolbpfError(
            f"load_library: '{real}' has coolbpf ABI version {lib.abi_version}, this runtime speaks"
            f" {ABI_VERSION} (rebuild it with the matching coolbpf-gen)",
            "EMISMATCH",
        )
    if sha256 is not None and lib.object_sha256 != sha256.lower():
        raise CoolbpfError(
            f"load_library: '{real}' embeds the object with SHA-256 {lib.object_sha256}, expected"
            f" {sha256.lower()} (the bpf.so was built from another object than the code was"
            " generated for)",
            "EMISMATCH",
        )
    return lib
