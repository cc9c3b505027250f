module coolbpf.local/coolbpf

go 1.19
