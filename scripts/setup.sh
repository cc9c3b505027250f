#!/usr/bin/env bash
# Installs what coolbpf needs on a Debian machine and builds the workspace.
# Idempotent and quiet when everything is already there; safe to run often
# (npm test and npm run example call it first).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: the BPF toolchain (clang-16 for ENUM64 and CO-RE type
# matches), libbpf headers, bpftool, and what bpf.so links against; pahole
# (dwarves) turns DWARF into BTF and bwrap sandboxes the build server's clang.
# redis-server and redis-tools are the Redis peer of examples/net-observe's tests
# (the tests start their own instance on a free port); iproute2's `ip` makes the
# network namespaces and veth pair of examples/tcp-jitter's tests.
PACKAGES=(clang clang-16 llvm llvm-16 libbpf-dev bpftool libelf-dev zlib1g-dev make gcc time dwarves bubblewrap redis-server redis-tools iproute2)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Tracepoint attach needs tracefs; pinning needs bpffs.
mountpoint -q /sys/kernel/tracing 2>/dev/null || as_root mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null \
  || say "could not mount tracefs at /sys/kernel/tracing (tracepoint tests will skip)"
mountpoint -q /sys/fs/bpf 2>/dev/null || as_root mount -t bpf bpf /sys/fs/bpf 2>/dev/null \
  || say "could not mount bpffs at /sys/fs/bpf"

# Python: a virtual environment with mypy and pytest (from the configured
# package index) for the Python generator's and wrappers' tests, in
# bindings-python/.venv (gitignored); redone when this list changes.
PY_TOOLS="mypy pytest"
py_venv=bindings-python/.venv
if command -v python3 >/dev/null 2>&1; then
  if [ ! -x "$py_venv/bin/python" ] || [ "$(cat "$py_venv/.coolbpf-tools" 2>/dev/null)" != "$PY_TOOLS" ]; then
    say "installing $PY_TOOLS into $py_venv"
    { python3 -m venv "$py_venv" && "$py_venv/bin/pip" install -q --disable-pip-version-check --retries 1 $PY_TOOLS \
        && echo "$PY_TOOLS" >"$py_venv/.coolbpf-tools"; } >/dev/null 2>&1 \
      || say "could not install $PY_TOOLS into $py_venv (the Python type checks and tests will skip)"
  fi
else
  say "no python3 (the Python tests will skip)"
fi

# Rust: cargo (rustup's, in ~/.cargo/bin, or Debian's rustc/cargo) builds the
# Rust wrappers' tests; std only, so nothing is fetched from crates.io. The
# tests add ~/.cargo/bin to PATH themselves.
if PATH="$PATH:$HOME/.cargo/bin" command -v cargo >/dev/null 2>&1; then
  PATH="$PATH:$HOME/.cargo/bin" command -v rustfmt >/dev/null 2>&1 \
    || say "no rustfmt (the Rust generator's formatting check will fail; rustup component add rustfmt)"
else
  say "no cargo (the Rust tests will skip): install rustup's toolchain, or apt-get install rustc cargo"
fi

# Go: Debian's golang-go (1.19) builds the Go wrappers, the Go runtime's tests
# and the Go conformance column; the standard library only, so no module is
# fetched (the tests run with GOPROXY=off).
# cilium/ebpf (Debian's source package of it) is only the ring buffer
# benchmark's peer for Go.
if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/github.com/cilium/ebpf ]; then
  say "installing golang-go golang-github-cilium-ebpf-dev"
  { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go golang-github-cilium-ebpf-dev; } >/dev/null 2>&1 \
    || say "could not install golang-go (the Go tests will skip)"
fi

# Node dependencies, when package-lock.json changed since the last install.
stamp=node_modules/.coolbpf-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json "$stamp"
fi

# Build every workspace (TypeScript, fixtures); turbo skips what is current.
npx --no-install turbo run build --output-logs=errors-only >/dev/null
