module coolbpf.local/net-observe

go 1.19

require coolbpf.local/net_observe v0.0.0

replace coolbpf.local/net_observe => ../build/go
