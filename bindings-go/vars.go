package coolbpf

// Var is a global variable of a data section, read and written with its C
// layout: before load in the section's initial image, after load in the
// kernel's memory-mapped map (BPF sees writes at once, and every Get reads
// what BPF wrote last). After Close, Get and Set return EDESTROYED errors.
type Var[T any] struct {
	s   *Section
	off int
	c   Codec[T]
}

// NewVar is used by generated code: the variable at offset in s.
func NewVar[T any](s *Section, offset int, c Codec[T]) Var[T] {
	return Var[T]{s: s, off: offset, c: c}
}

// Offset is where the variable is in its section.
func (v Var[T]) Offset() int { return v.off }

// Section is the section the variable is in.
func (v Var[T]) Section() *Section { return v.s }

// Get reads the variable.
func (v Var[T]) Get() (T, error) {
	var x T
	err := v.s.View(v.off, v.c.Size, false, func(b []byte) { v.c.Decode(b, &x) })
	return x, err
}

// Set writes the variable: before load its initial value, after load live
// (an ESTATE error for .rodata after load).
func (v Var[T]) Set(x T) error {
	buf := make([]byte, v.c.Size)
	v.c.Encode(buf, &x)
	return v.s.Write(v.off, buf)
}

// ReadOnlyVar is a variable of a section that is read-only in this state
// (.rodata after load): Get only.
type ReadOnlyVar[T any] struct {
	v Var[T]
}

// NewReadOnlyVar is used by generated code.
func NewReadOnlyVar[T any](s *Section, offset int, c Codec[T]) ReadOnlyVar[T] {
	return ReadOnlyVar[T]{v: NewVar(s, offset, c)}
}

// Offset is where the variable is in its section.
func (v ReadOnlyVar[T]) Offset() int { return v.v.off }

// Get reads the variable.
func (v ReadOnlyVar[T]) Get() (T, error) { return v.v.Get() }
