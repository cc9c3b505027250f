#!/usr/bin/env bash
# Builds net-observe: the BPF program and its Node/Python/Go/Rust packages
# into build/ (coolbpf-gen), then the Go and Rust apps into build/bin where
# their toolchains are installed (the Node and Python apps run from source).
set -euo pipefail
cd "$(dirname "$0")"
say() { printf 'net-observe: %s\n' "$*" >&2; }

node ../../packages/cli/bin/coolbpf-gen.js build net_observe.bpf.c --out build --lang node,python,go,rust
mkdir -p build/bin

if [ ! -f go/go.mod ]; then
  :
elif command -v go >/dev/null 2>&1; then
  (cd go && GOPROXY=off GOFLAGS=-mod=mod go build -o ../build/bin/net-observe-go ./cmd/net-observe)
else
  say "no go: the Go app is not built (its tests will skip)"
fi

export PATH="$PATH:$HOME/.cargo/bin"
if [ ! -f rust/Cargo.toml ]; then
  :
elif command -v cargo >/dev/null 2>&1; then
  (cd rust && CARGO_TARGET_DIR=../build/rust-target cargo build --offline --release --quiet)
  cp build/rust-target/release/net-observe build/bin/net-observe-rust
else
  say "no cargo: the Rust app is not built (its tests will skip)"
fi
