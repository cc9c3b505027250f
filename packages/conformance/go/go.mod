module coolbpf.local/conformance

go 1.19

require (
	coolbpf.local/errors v0.0.0
	coolbpf.local/globals v0.0.0
	coolbpf.local/layout v0.0.0
	coolbpf.local/lifecycle v0.0.0
	coolbpf.local/maps v0.0.0
	coolbpf.local/perfbuf v0.0.0
	coolbpf.local/ringbuf v0.0.0
)

replace (
	coolbpf.local/errors => ../build/errors/go
	coolbpf.local/globals => ../build/globals/go
	coolbpf.local/layout => ../build/layout/go
	coolbpf.local/lifecycle => ../build/lifecycle/go
	coolbpf.local/maps => ../build/maps/go
	coolbpf.local/perfbuf => ../build/perfbuf/go
	coolbpf.local/ringbuf => ../build/ringbuf/go
)
