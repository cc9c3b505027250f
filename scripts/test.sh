#!/usr/bin/env bash
# Runs every workspace's tests through turbo, then prints one summary line
# over all of them (vitest writes a JSON report per workspace).
set -uo pipefail
cd "$(dirname "$0")/.."
find packages generators examples -maxdepth 2 -name .vitest-report.json -delete
npx --no-install turbo run test --concurrency=1 --continue
status=$?
node scripts/test-summary.mjs || status=1
exit $status
