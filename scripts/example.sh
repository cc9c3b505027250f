#!/usr/bin/env bash
# The main job on the bundled example: compile examples/hello/hello.bpf.c
# for this kernel and describe the object with coolbpf-gen.
set -euo pipefail
cd "$(dirname "$0")/.."
out=examples/hello/build
mkdir -p "$out"
make -s -C examples/hello
npx --no-install coolbpf-gen inspect "$out/hello.bpf.o" --event events='struct event'
