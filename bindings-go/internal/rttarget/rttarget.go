// Package rttarget is the runtime tests' uprobe target: a C function in the
// test binary (so its symbol and calling convention are C's), called from Go.
// It is not part of the runtime generated packages carry.
package rttarget

/*
__attribute__((noinline, used)) int coolbpf_rt_uprobe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}
*/
import "C"

// Symbol is the function's name in the test binary.
const Symbol = "coolbpf_rt_uprobe_target"

// Call calls the function with x.
func Call(x int) int { return int(C.coolbpf_rt_uprobe_target(C.int(x))) }
