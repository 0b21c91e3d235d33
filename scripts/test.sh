#!/usr/bin/env bash
# Runs every check Telekit has on a fresh machine, installing what it needs first:
# lint, type check, the whole test suite, the build, publint on every package, and the API docs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "lint (biome)"
pnpm --silent lint
step "type check (tsc)"
pnpm --silent typecheck
step "tests (vitest)"
mkdir -p test-results
status=0
pnpm --silent test --reporter=default --reporter=json --outputFile.json=test-results/vitest.json || status=$?
step "build (tsdown) and package checks (publint)"
pnpm --silent build
pnpm --silent check:exports
step "API reference (typedoc)"
pnpm --silent run docs
node -e '
  const r = require("./test-results/vitest.json");
  console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
'
exit "$status"
