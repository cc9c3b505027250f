// The Go ring buffer consumers (bench/ringbuf.mjs): cmd/coolbpf over the
// package `coolbpf-gen build --lang go` generates into bench/build, and
// cmd/cilium over cilium/ebpf's ringbuf reader from Debian's
// golang-github-cilium-ebpf-dev (its source in /usr/share/gocode). Built with
// GOPROXY=off: nothing is fetched.
module coolbpf.local/bench-ringbuf

go 1.19

require (
	coolbpf.local/ringbuf v0.0.0
	github.com/cilium/ebpf v0.9.1
	golang.org/x/sys v0.0.0
)

replace coolbpf.local/ringbuf => ../../build/ringbuf/obj/go

replace github.com/cilium/ebpf => /usr/share/gocode/src/github.com/cilium/ebpf

replace golang.org/x/sys => /usr/share/gocode/src/golang.org/x/sys
