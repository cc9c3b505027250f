//! Program handles generated code gives each program: the attach calls its
//! kind has, with the target its SEC() names filled in.

use std::os::fd::RawFd;

use crate::error::{Error, Result};
use crate::object::{Link, Object, TcDirection, UprobeTarget};

/// A loaded program: its name and SEC().
#[derive(Clone, Copy, Debug)]
pub struct Program<'a> {
    object: &'a Object,
    name: &'static str,
    section: &'static str,
}

impl<'a> Program<'a> {
    pub fn new(object: &'a Object, name: &'static str, section: &'static str) -> Program<'a> {
        Program {
            object,
            name,
            section,
        }
    }

    /// The C function name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its SEC() name.
    pub fn section(&self) -> &'static str {
        self.section
    }

    pub fn object(&self) -> &'a Object {
        self.object
    }

    fn no_target(&self, call: &str) -> Error {
        Error::invalid(format!(
            "program '{}': SEC(\"{}\") names no target to attach to; use {call}",
            self.name, self.section
        ))
    }
}

/// Before load: whether a program is loaded at all.
#[derive(Clone, Copy, Debug)]
pub struct ProgramSetup<'a> {
    program: Program<'a>,
    default: bool,
}

impl<'a> ProgramSetup<'a> {
    /// `default`: whether libbpf loads it unless told (false for `SEC("?…")`).
    pub fn new(
        object: &'a Object,
        name: &'static str,
        section: &'static str,
        default: bool,
    ) -> ProgramSetup<'a> {
        ProgramSetup {
            program: Program::new(object, name, section),
            default,
        }
    }

    pub fn name(&self) -> &'static str {
        self.program.name
    }

    pub fn autoload(&self) -> bool {
        self.program
            .object
            .autoload_set(self.program.name)
            .unwrap_or(self.default)
    }

    /// `ESTATE` after load.
    pub fn set_autoload(&self, on: bool) -> Result<()> {
        self.program.object.set_autoload(self.program.name, on)
    }
}

/// `tp/…` and `tracepoint/…` programs.
#[derive(Clone, Copy, Debug)]
pub struct TracepointProgram<'a> {
    pub program: Program<'a>,
    target: Option<(&'static str, &'static str)>,
}

impl<'a> TracepointProgram<'a> {
    pub fn new(program: Program<'a>, target: Option<(&'static str, &'static str)>) -> Self {
        TracepointProgram { program, target }
    }

    /// A program whose SEC() names no tracepoint.
    pub fn of(o: &'a Object, name: &'static str, section: &'static str) -> Self {
        Self::new(Program::new(o, name, section), None)
    }

    /// A program whose SEC() names `category/tracepoint`.
    pub fn with_target(
        o: &'a Object,
        name: &'static str,
        section: &'static str,
        category: &'static str,
        tracepoint: &'static str,
    ) -> Self {
        Self::new(Program::new(o, name, section), Some((category, tracepoint)))
    }

    /// Attaches to the tracepoint SEC() names (`EINVAL` when it names none).
    pub fn attach(&self) -> Result<Link<'a>> {
        match self.target {
            Some((c, n)) => self.attach_tracepoint(c, n),
            None => Err(self.program.no_target("attach_tracepoint(category, name)")),
        }
    }

    pub fn attach_tracepoint(&self, category: &str, name: &str) -> Result<Link<'a>> {
        self.program
            .object
            .attach_tracepoint(self.program.name, category, name)
    }
}

/// `raw_tp/…` and `raw_tracepoint/…` programs.
#[derive(Clone, Copy, Debug)]
pub struct RawTracepointProgram<'a> {
    pub program: Program<'a>,
    target: Option<&'static str>,
}

impl<'a> RawTracepointProgram<'a> {
    pub fn new(program: Program<'a>, target: Option<&'static str>) -> Self {
        RawTracepointProgram { program, target }
    }

    pub fn of(o: &'a Object, name: &'static str, section: &'static str) -> Self {
        Self::new(Program::new(o, name, section), None)
    }

    pub fn with_target(
        o: &'a Object,
        name: &'static str,
        section: &'static str,
        tracepoint: &'static str,
    ) -> Self {
        Self::new(Program::new(o, name, section), Some(tracepoint))
    }

    pub fn attach(&self) -> Result<Link<'a>> {
        match self.target {
            Some(n) => self.attach_raw_tracepoint(n),
            None => Err(self.program.no_target("attach_raw_tracepoint(name)")),
        }
    }

    pub fn attach_raw_tracepoint(&self, name: &str) -> Result<Link<'a>> {
        self.program
            .object
            .attach_raw_tracepoint(self.program.name, name)
    }
}

/// `kprobe/…` and `kretprobe/…` programs (the section decides which).
#[derive(Clone, Copy, Debug)]
pub struct KprobeProgram<'a> {
    pub program: Program<'a>,
    /// a kretprobe: runs when the function returns
    pub retprobe: bool,
    target: Option<(&'static str, u64)>,
}

impl<'a> KprobeProgram<'a> {
    pub fn new(program: Program<'a>, retprobe: bool, target: Option<(&'static str, u64)>) -> Self {
        KprobeProgram {
            program,
            retprobe,
            target,
        }
    }

    pub fn of(o: &'a Object, name: &'static str, section: &'static str, retprobe: bool) -> Self {
        Self::new(Program::new(o, name, section), retprobe, None)
    }

    pub fn with_target(
        o: &'a Object,
        name: &'static str,
        section: &'static str,
        retprobe: bool,
        function: &'static str,
        offset: u64,
    ) -> Self {
        Self::new(
            Program::new(o, name, section),
            retprobe,
            Some((function, offset)),
        )
    }

    pub fn attach(&self) -> Result<Link<'a>> {
        match self.target {
            Some((f, o)) => self.attach_kprobe(f, o),
            None => Err(self.program.no_target("attach_kprobe(function, offset)")),
        }
    }

    pub fn attach_kprobe(&self, function: &str, offset: u64) -> Result<Link<'a>> {
        self.program
            .object
            .attach_kprobe(self.program.name, function, offset, self.retprobe)
    }
}

/// `uprobe/…` and `uretprobe/…` programs (the section decides which).
#[derive(Clone, Copy, Debug)]
pub struct UprobeProgram<'a> {
    pub program: Program<'a>,
    /// a uretprobe: runs when the function returns
    pub retprobe: bool,
    /// binary, function, offset from SEC()
    target: Option<(&'static str, Option<&'static str>, u64)>,
}

impl<'a> UprobeProgram<'a> {
    pub fn new(
        program: Program<'a>,
        retprobe: bool,
        target: Option<(&'static str, Option<&'static str>, u64)>,
    ) -> Self {
        UprobeProgram {
            program,
            retprobe,
            target,
        }
    }

    pub fn of(o: &'a Object, name: &'static str, section: &'static str, retprobe: bool) -> Self {
        Self::new(Program::new(o, name, section), retprobe, None)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn with_target(
        o: &'a Object,
        name: &'static str,
        section: &'static str,
        retprobe: bool,
        binary: &'static str,
        function: Option<&'static str>,
        offset: u64,
    ) -> Self {
        Self::new(
            Program::new(o, name, section),
            retprobe,
            Some((binary, function, offset)),
        )
    }

    /// Attaches to the binary and function SEC() names, in every process.
    pub fn attach(&self) -> Result<Link<'a>> {
        match self.target {
            Some((binary, symbol, offset)) => self.attach_uprobe(&UprobeTarget {
                binary,
                symbol,
                offset,
                pid: None,
                retprobe: self.retprobe,
            }),
            None => Err(self
                .program
                .no_target("attach_uprobe(&UprobeTarget { binary, symbol, .. })")),
        }
    }

    /// `target.retprobe` is replaced by the program's own kind.
    pub fn attach_uprobe(&self, target: &UprobeTarget<'_>) -> Result<Link<'a>> {
        let t = UprobeTarget {
            retprobe: self.retprobe,
            ..*target
        };
        self.program.object.attach_uprobe(self.program.name, &t)
    }
}

/// xdp programs: attached to a network interface.
#[derive(Clone, Copy, Debug)]
pub struct XdpProgram<'a> {
    pub program: Program<'a>,
}

impl<'a> XdpProgram<'a> {
    pub fn new(program: Program<'a>) -> Self {
        XdpProgram { program }
    }

    pub fn of(o: &'a Object, name: &'static str, section: &'static str) -> Self {
        Self::new(Program::new(o, name, section))
    }

    pub fn attach_xdp(&self, ifindex: i32, flags: u32) -> Result<Link<'a>> {
        self.program
            .object
            .attach_xdp(self.program.name, ifindex, flags)
    }
}

/// tc, tcx and classifier programs: attached to an interface, ingress or egress.
#[derive(Clone, Copy, Debug)]
pub struct TcProgram<'a> {
    pub program: Program<'a>,
    /// the direction SEC() names, if any
    pub direction: Option<TcDirection>,
}

impl<'a> TcProgram<'a> {
    pub fn new(program: Program<'a>, direction: Option<TcDirection>) -> Self {
        TcProgram { program, direction }
    }

    pub fn of(
        o: &'a Object,
        name: &'static str,
        section: &'static str,
        direction: Option<TcDirection>,
    ) -> Self {
        Self::new(Program::new(o, name, section), direction)
    }

    /// `direction` None: the one SEC() names (`EINVAL` when it names none).
    pub fn attach_tc(&self, ifindex: i32, direction: Option<TcDirection>) -> Result<Link<'a>> {
        match direction.or(self.direction) {
            Some(d) => self.program.object.attach_tc(self.program.name, ifindex, d),
            None => Err(self
                .program
                .no_target("attach_tc(ifindex, Some(TcDirection::Ingress | Egress))")),
        }
    }
}

/// cgroup programs: attached to a cgroup v2 directory.
#[derive(Clone, Copy, Debug)]
pub struct CgroupProgram<'a> {
    pub program: Program<'a>,
}

impl<'a> CgroupProgram<'a> {
    pub fn new(program: Program<'a>) -> Self {
        CgroupProgram { program }
    }

    pub fn of(o: &'a Object, name: &'static str, section: &'static str) -> Self {
        Self::new(Program::new(o, name, section))
    }

    pub fn attach_cgroup(&self, cgroup_path: &str) -> Result<Link<'a>> {
        self.program
            .object
            .attach_cgroup(self.program.name, cgroup_path)
    }
}

/// perf_event programs: attached to a perf event the caller opened.
#[derive(Clone, Copy, Debug)]
pub struct PerfEventProgram<'a> {
    pub program: Program<'a>,
}

impl<'a> PerfEventProgram<'a> {
    pub fn new(program: Program<'a>) -> Self {
        PerfEventProgram { program }
    }

    pub fn of(o: &'a Object, name: &'static str, section: &'static str) -> Self {
        Self::new(Program::new(o, name, section))
    }

    pub fn attach_perf_event(&self, perf_event_fd: RawFd) -> Result<Link<'a>> {
        self.program
            .object
            .attach_perf_event(self.program.name, perf_event_fd)
    }
}
