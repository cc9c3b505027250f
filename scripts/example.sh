#!/usr/bin/env bash
# The main job on the bundled example: build examples/hello/hello.bpf.c for
# this kernel into bpf.o, bpf.so and the Node, Python, Go and Rust packages
# with coolbpf-gen, then describe the object it compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
out=examples/hello/build/out
npx --no-install coolbpf-gen build examples/hello/hello.bpf.c --out "$out" --lang node,python,go,rust
npx --no-install coolbpf-gen inspect "$out/bpf.o"
