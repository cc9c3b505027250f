module coolbpf.local/tcpjitter-app

go 1.19

require coolbpf.local/tcp_jitter v0.0.0

// the package coolbpf-gen generates into ../build/go (npm run build)
replace coolbpf.local/tcp_jitter => ../build/go
