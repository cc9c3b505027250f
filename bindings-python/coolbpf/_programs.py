"""Programs of a generated package: autoload before load, attach calls after."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, NoReturn

if TYPE_CHECKING:
    from ._object import BpfObject, Link


class ProgramSetup:
    """Before load: whether the program is loaded at all (SEC("?...") ones are not,
    unless set)."""

    def __init__(self, obj: BpfObject, name: str, section: str, autoload: bool) -> None:
        self._obj = obj
        #: the C function name
        self.name = name
        #: its SEC() name
        self.section = section
        self._autoload = autoload

    @property
    def autoload(self) -> bool:
        return self._autoload

    @autoload.setter
    def autoload(self, on: bool) -> None:
        self._obj.set_autoload(self.name, on)
        self._autoload = bool(on)

    def __repr__(self) -> str:
        return f"<program {self.name} SEC({self.section!r}) autoload={self._autoload}>"


class Program:
    """A loaded program. Programs whose kind has no attach call of their own are
    attached by the object's attach()."""

    def __init__(self, obj: BpfObject, name: str, section: str) -> None:
        self._obj = obj
        #: the C function name
        self.name = name
        #: its SEC() name
        self.section = section

    def _no_target(self, call: str) -> NoReturn:
        raise TypeError(
            f"program '{self.name}': SEC(\"{self.section}\") names no target to attach to; use {call}"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} SEC({self.section!r})>"


class TracepointProgram(Program):
    """tp/... and tracepoint/... programs."""

    def __init__(self, obj: BpfObject, name: str, section: str, target: tuple[str, str] | None) -> None:
        super().__init__(obj, name, section)
        self._target = target

    def attach(self) -> Link:
        """Attaches to the tracepoint SEC() names."""
        if self._target is None:
            self._no_target("attach_tracepoint(category, name)")
        return self._obj.attach_tracepoint(self.name, *self._target)

    def attach_tracepoint(self, category: str, name: str) -> Link:
        return self._obj.attach_tracepoint(self.name, category, name)


class RawTracepointProgram(Program):
    """raw_tp/... and raw_tracepoint/... programs."""

    def __init__(self, obj: BpfObject, name: str, section: str, target: str | None) -> None:
        super().__init__(obj, name, section)
        self._target = target

    def attach(self) -> Link:
        """Attaches to the raw tracepoint SEC() names."""
        if self._target is None:
            self._no_target("attach_raw_tracepoint(name)")
        return self._obj.attach_raw_tracepoint(self.name, self._target)

    def attach_raw_tracepoint(self, name: str) -> Link:
        return self._obj.attach_raw_tracepoint(self.name, name)


class KprobeProgram(Program):
    """kprobe/... and kretprobe/... programs (the section says which)."""

    def __init__(self, obj: BpfObject, name: str, section: str, retprobe: bool,
                 target: Mapping[str, str | int] | None) -> None:
        super().__init__(obj, name, section)
        #: a kretprobe: runs when the function returns
        self.retprobe = retprobe
        self._target = target

    def attach(self) -> Link:
        """Attaches to the kernel function SEC() names."""
        t = self._target
        if t is None:
            self._no_target("attach_kprobe(function)")
        return self.attach_kprobe(str(t["function"]), int(t.get("offset", 0)))

    def attach_kprobe(self, function: str, offset: int = 0) -> Link:
        return self._obj.attach_kprobe(self.name, function, offset, self.retprobe)


class UprobeProgram(Program):
    """uprobe/... and uretprobe/... programs (the section says which)."""

    def __init__(self, obj: BpfObject, name: str, section: str, retprobe: bool,
                 target: Mapping[str, str | int | None] | None) -> None:
        super().__init__(obj, name, section)
        #: a uretprobe: runs when the function returns
        self.retprobe = retprobe
        self._target = target

    def attach(self, pid: int = -1) -> Link:
        """Attaches to the binary and function SEC() names (pid -1: every process)."""
        t = self._target
        if t is None:
            self._no_target("attach_uprobe(binary, symbol)")
        fn = t.get("function")
        return self.attach_uprobe(str(t["binary"]), None if fn is None else str(fn),
                                  int(t.get("offset") or 0), pid)

    def attach_uprobe(self, binary: str, symbol: str | None = None, offset: int = 0, pid: int = -1) -> Link:
        """`symbol` in `binary` (None: `offset` alone is the address); pid -1: every process."""
        return self._obj.attach_uprobe(self.name, binary, symbol, offset, pid, self.retprobe)


class XdpProgram(Program):
    """xdp programs: attached to a network interface."""

    def attach_xdp(self, ifindex: int, flags: int = 0) -> Link:
        return self._obj.attach_xdp(self.name, ifindex, flags)


class TcProgram(Program):
    """tc, tcx and classifier programs: ingress or egress of a network interface."""

    def __init__(self, obj: BpfObject, name: str, section: str,
                 direction: Literal["ingress", "egress"] | None) -> None:
        super().__init__(obj, name, section)
        #: the direction SEC() names, or None
        self.direction = direction

    def attach_tc(self, ifindex: int, direction: Literal["ingress", "egress"] | None = None) -> Link:
        d = direction or self.direction
        if d is None:
            self._no_target("attach_tc(ifindex, 'ingress' | 'egress')")
        return self._obj.attach_tc(self.name, ifindex, d)


class CgroupProgram(Program):
    """cgroup_skb/..., cgroup/..., sockops and lsm_cgroup programs: attached to a cgroup."""

    def attach_cgroup(self, cgroup_path: str) -> Link:
        return self._obj.attach_cgroup(self.name, cgroup_path)


class PerfEventProgram(Program):
    """perf_event programs: attached to a perf event the caller opened."""

    def attach_perf_event(self, perf_event_fd: int) -> Link:
        return self._obj.attach_perf_event(self.name, perf_event_fd)


def apply(target: object, values: Mapping[str, object] | None, what: str) -> None:
    """Sets attributes of a generated section (or programs' autoload) from init()'s
    options, refusing names it does not have."""
    if values is None:
        return
    cls = type(target)
    for k, v in values.items():
        if not isinstance(getattr(cls, k, None), property) and not hasattr(target, k):
            raise TypeError(f"{what} has no {k!r}")
        if what.endswith("autoload"):
            getattr(target, k).autoload = v
        else:
            setattr(target, k, v)
