package coolbpf

import "syscall"

// Program is a loaded program. Programs whose kind has no attach call of
// its own are attached by the object's Attach.
type Program struct {
	o *Object
	// Name is the C function name; Section its SEC() name.
	Name, Section string
}

// NewProgram is used by generated code.
func NewProgram(o *Object, name, section string) *Program {
	return &Program{o: o, Name: name, Section: section}
}

// Object is the object the program belongs to.
func (p *Program) Object() *Object { return p.o }

func (p *Program) noTarget(use string) error {
	return errnoError(syscall.EINVAL, "program '%s': SEC(\"%s\") names no target to attach to; use %s", p.Name, p.Section, use)
}

// ProgramSetup is a program before load: whether it is loaded at all
// (SEC("?…") programs are not, unless set).
type ProgramSetup struct {
	o             *Object
	Name, Section string
	autoload      bool
}

// NewProgramSetup is used by generated code.
func NewProgramSetup(o *Object, name, section string, autoload bool) *ProgramSetup {
	return &ProgramSetup{o: o, Name: name, Section: section, autoload: autoload}
}

// Autoload says whether the program will be loaded.
func (p *ProgramSetup) Autoload() bool { return p.autoload }

// SetAutoload decides whether the program is loaded (before load only).
func (p *ProgramSetup) SetAutoload(on bool) error {
	if err := p.o.SetAutoload(p.Name, on); err != nil {
		return err
	}
	p.autoload = on
	return nil
}

// TracepointProgram is a tp/… or tracepoint/… program.
type TracepointProgram struct {
	Program
	category, name string
}

// NewTracepointProgram is used by generated code; category and name are
// what SEC() names ("" when it names none).
func NewTracepointProgram(o *Object, name, section, tpCategory, tpName string) *TracepointProgram {
	return &TracepointProgram{Program: *NewProgram(o, name, section), category: tpCategory, name: tpName}
}

// Attach attaches it to the tracepoint SEC() names (an EINVAL error when it
// names none: use AttachTracepoint).
func (p *TracepointProgram) Attach() (*Link, error) {
	if p.name == "" {
		return nil, p.noTarget("AttachTracepoint(category, name)")
	}
	return p.AttachTracepoint(p.category, p.name)
}

// AttachTracepoint attaches it to category/name.
func (p *TracepointProgram) AttachTracepoint(category, name string) (*Link, error) {
	return p.o.AttachTracepoint(p.Name, category, name)
}

// RawTracepointProgram is a raw_tp/… or raw_tracepoint/… program.
type RawTracepointProgram struct {
	Program
	target string
}

// NewRawTracepointProgram is used by generated code.
func NewRawTracepointProgram(o *Object, name, section, target string) *RawTracepointProgram {
	return &RawTracepointProgram{Program: *NewProgram(o, name, section), target: target}
}

// Attach attaches it to the raw tracepoint SEC() names.
func (p *RawTracepointProgram) Attach() (*Link, error) {
	if p.target == "" {
		return nil, p.noTarget("AttachRawTracepoint(name)")
	}
	return p.AttachRawTracepoint(p.target)
}

// AttachRawTracepoint attaches it to the raw tracepoint name.
func (p *RawTracepointProgram) AttachRawTracepoint(name string) (*Link, error) {
	return p.o.AttachRawTracepoint(p.Name, name)
}

// KprobeProgram is a kprobe/… or kretprobe/… program (the section decides
// which: Retprobe).
type KprobeProgram struct {
	Program
	Retprobe bool
	function string
	offset   uint64
}

// NewKprobeProgram is used by generated code.
func NewKprobeProgram(o *Object, name, section string, retprobe bool, function string, offset uint64) *KprobeProgram {
	return &KprobeProgram{Program: *NewProgram(o, name, section), Retprobe: retprobe, function: function, offset: offset}
}

// Attach attaches it to the kernel function SEC() names.
func (p *KprobeProgram) Attach() (*Link, error) {
	if p.function == "" {
		return nil, p.noTarget("AttachKprobe(function, offset)")
	}
	return p.AttachKprobe(p.function, p.offset)
}

// AttachKprobe attaches it to function+offset.
func (p *KprobeProgram) AttachKprobe(function string, offset uint64) (*Link, error) {
	return p.o.AttachKprobe(p.Name, KprobeTarget{Function: function, Offset: offset, Retprobe: p.Retprobe})
}

// UprobeProgram is a uprobe/… or uretprobe/… program (the section decides
// which: Retprobe).
type UprobeProgram struct {
	Program
	Retprobe bool
	target   *UprobeTarget
}

// NewUprobeProgram is used by generated code; binary "" when SEC() names no target.
func NewUprobeProgram(o *Object, name, section string, retprobe bool, binary, function string, offset uint64) *UprobeProgram {
	p := &UprobeProgram{Program: *NewProgram(o, name, section), Retprobe: retprobe}
	if binary != "" {
		p.target = &UprobeTarget{Binary: binary, Symbol: function, Offset: offset}
	}
	return p
}

// Attach attaches it to the binary and function SEC() names.
func (p *UprobeProgram) Attach() (*Link, error) {
	if p.target == nil {
		return nil, p.noTarget("AttachUprobe(UprobeTarget{Binary, Symbol})")
	}
	return p.AttachUprobe(*p.target)
}

// AttachUprobe attaches it where t says (t.Retprobe is the program's own).
func (p *UprobeProgram) AttachUprobe(t UprobeTarget) (*Link, error) {
	t.Retprobe = p.Retprobe
	return p.o.AttachUprobe(p.Name, t)
}

// XDPProgram is an xdp program: attached to a network interface.
type XDPProgram struct{ Program }

// NewXDPProgram is used by generated code.
func NewXDPProgram(o *Object, name, section string) *XDPProgram {
	return &XDPProgram{*NewProgram(o, name, section)}
}

// AttachXDP attaches it to the interface (XDP_FLAGS_* in flags).
func (p *XDPProgram) AttachXDP(ifindex int, flags uint32) (*Link, error) {
	return p.o.AttachXDP(p.Name, ifindex, flags)
}

// TCDirection is where a tc program runs.
type TCDirection int

const (
	// TCNone: SEC() names no direction.
	TCNone TCDirection = iota
	TCIngress
	TCEgress
)

// TCProgram is a tc, tcx or classifier program: attached to a network
// interface, ingress or egress.
type TCProgram struct {
	Program
	// Direction is what SEC() names (tc/ingress, tcx/egress, …), or TCNone.
	Direction TCDirection
}

// NewTCProgram is used by generated code.
func NewTCProgram(o *Object, name, section string, direction TCDirection) *TCProgram {
	return &TCProgram{Program: *NewProgram(o, name, section), Direction: direction}
}

// AttachTC attaches it to the interface in direction d (TCNone: the one
// SEC() names).
func (p *TCProgram) AttachTC(ifindex int, d TCDirection) (*Link, error) {
	if d == TCNone {
		d = p.Direction
	}
	if d == TCNone {
		return nil, p.noTarget("AttachTC(ifindex, TCIngress or TCEgress)")
	}
	return p.o.AttachTC(p.Name, ifindex, d == TCEgress)
}

// CgroupProgram is a cgroup_skb/…, cgroup/…, sockops or lsm_cgroup program:
// attached to a cgroup.
type CgroupProgram struct{ Program }

// NewCgroupProgram is used by generated code.
func NewCgroupProgram(o *Object, name, section string) *CgroupProgram {
	return &CgroupProgram{*NewProgram(o, name, section)}
}

// AttachCgroup attaches it to the cgroup v2 directory at path.
func (p *CgroupProgram) AttachCgroup(path string) (*Link, error) {
	return p.o.AttachCgroup(p.Name, path)
}

// PerfEventProgram is a perf_event program: attached to a perf event the
// caller opened.
type PerfEventProgram struct{ Program }

// NewPerfEventProgram is used by generated code.
func NewPerfEventProgram(o *Object, name, section string) *PerfEventProgram {
	return &PerfEventProgram{*NewProgram(o, name, section)}
}

// AttachPerfEvent attaches it to the perf event fd.
func (p *PerfEventProgram) AttachPerfEvent(fd int) (*Link, error) {
	return p.o.AttachPerfEvent(p.Name, fd)
}
