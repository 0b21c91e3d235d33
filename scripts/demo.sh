#!/usr/bin/env bash
# Runs Telekit's demo on a fresh machine, installing what it needs first. With `--backend genesis`
# (or TELEKIT_BACKEND=genesis) set-up installs Genesis too; once installed, set-up keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
setup=()
[ "${TELEKIT_BACKEND:-}" = genesis ] && setup=(--genesis)
previous=""
for arg in "$@"; do
  { [ "$arg" = --backend=genesis ] || { [ "$previous" = --backend ] && [ "$arg" = genesis ]; }; } && setup=(--genesis)
  previous="$arg"
done
bash scripts/setup.sh "${setup[@]}"
# Genesis's kernel cache: where set-up compiled it (the demo runs from its own directory).
export TELEKIT_GENESIS_CACHE="${TELEKIT_GENESIS_CACHE:-$PWD/.cache/telekit/genesis}"
exec pnpm --silent demo "$@"
