package coolbpf

import (
	"fmt"
	"math/big"
)

// Codec reads and writes one C type in its exact byte layout (the object's
// byte order, its offsets and padding). Decode reads Size bytes of b into
// *v; Encode writes *v into Size bytes of b, which the caller has zeroed.
// Neither fails: every Go type generated for a C type holds only values the
// C type can hold. Generated code makes one per type it uses.
type Codec[T any] struct {
	Size   int
	Decode func(b []byte, v *T)
	Encode func(b []byte, v *T)
}

// Uint128 is an unsigned __int128: Lo and Hi are its low and high 64 bits.
type Uint128 struct {
	Lo, Hi uint64
}

// Big is the value as a big.Int.
func (x Uint128) Big() *big.Int {
	b := new(big.Int).SetUint64(x.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(x.Lo))
}

func (x Uint128) String() string { return x.Big().String() }

// Int128 is a signed __int128 (two's complement): Lo the low 64 bits, Hi the
// high 64 bits with the sign.
type Int128 struct {
	Lo uint64
	Hi int64
}

// Big is the value as a big.Int.
func (x Int128) Big() *big.Int {
	u := Uint128{Lo: x.Lo, Hi: uint64(x.Hi)}.Big()
	if x.Hi < 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	return u
}

func (x Int128) String() string { return x.Big().String() }

// CStringLen is the length of the C string in b: up to the first NUL, or
// all of b when it has none (a char[n] may be full).
func CStringLen(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

// SetCString copies s into dst, NUL-padded; a string longer than dst is an
// ERANGE error and dst is left as it was (exactly len(dst) bytes leaves no
// NUL, as C's char[n] allows).
func SetCString(dst []byte, s string) error {
	if len(s) > len(dst) {
		return errnoError(34 /* ERANGE */, "a string of %d bytes does not fit in char[%d]", len(s), len(dst))
	}
	n := copy(dst, s)
	for i := n; i < len(dst); i++ {
		dst[i] = 0
	}
	return nil
}

// TypeLayout is the C layout of a generated struct or union: its size and
// alignment and where each field is (anonymous members flattened as C11
// reaches them).
type TypeLayout struct {
	// Name is the Go type's name, Key the model's key ("struct event"), C
	// how C spells it.
	Name, Key, C string
	Union        bool
	Size, Align  int
	Packed       bool
	Fields       []FieldLayout
}

// FieldLayout is one field of a TypeLayout.
type FieldLayout struct {
	// Name is the field's C name (renamed when flattening made two equal);
	// CPath how C reaches it ("" when a collision makes it unreachable by
	// name); Go how Go reaches it: a struct field, or for members that share
	// bytes (unions) a method Go() and a setter SetGo().
	Name, CPath, Go string
	Method          bool
	Offset, Size    int
	// bitfields: the first bit from the start of the type, and the width
	Bitfield            bool
	BitOffset, BitWidth int
}

// EnumLayout is a generated enum type: its C size and signedness and its
// enumerators with their values.
type EnumLayout struct {
	Name, Key, C string
	Size         int
	Signed       bool
	Values       []EnumValue
}

// EnumValue is one enumerator: its C name, the Go constant, and its value
// (Bits: the value's two's complement bits; Signed says how to read them).
type EnumValue struct {
	C, Go  string
	Bits   uint64
	Signed bool
}

// String is the value in decimal.
func (v EnumValue) String() string {
	if v.Signed {
		return fmt.Sprint(int64(v.Bits))
	}
	return fmt.Sprint(v.Bits)
}

// ShortBuffer is the error of decoding what from a buffer of got bytes
// when it needs need (EINVAL).
func ShortBuffer(what string, need, got int) error {
	return errnoError(22 /* EINVAL */, "%s: %d bytes given, %d needed", what, got, need)
}
