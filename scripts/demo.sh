#!/usr/bin/env bash
# Runs Telekit's demo on a fresh machine, installing what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec pnpm --silent demo "$@"
