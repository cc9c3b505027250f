#!/usr/bin/env bash
# Installs what coolbpf needs on a Debian machine and builds the workspace.
# Idempotent and quiet when everything is already there; safe to run often
# (npm test and npm run example call it first).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: the BPF toolchain (clang-16 for ENUM64 and CO-RE type
# matches), libbpf headers, bpftool, and what bpf.so links against.
PACKAGES=(clang clang-16 llvm llvm-16 libbpf-dev bpftool libelf-dev zlib1g-dev make gcc time)
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

# Node dependencies, when package-lock.json changed since the last install.
stamp=node_modules/.coolbpf-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json "$stamp"
fi

# Build every workspace (TypeScript, fixtures); turbo skips what is current.
npx --no-install turbo run build --output-logs=errors-only >/dev/null
