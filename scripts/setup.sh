#!/usr/bin/env bash
# Installs everything Telekit needs on a fresh Debian 12 machine with Node 20, idempotently:
# pnpm itself, the Debian packages listed in scripts/apt-packages.txt, and the workspace's npm
# packages. Safe to run again: it only installs what is missing.
#
# Flags: --genesis also installs the Genesis backend (genesis-world, which pulls PyTorch: large).
set -euo pipefail
cd "$(dirname "$0")/.."
GENESIS=0
for arg in "$@"; do
  case "$arg" in
    --genesis) GENESIS=1 ;;
    *) echo "unknown flag $arg (known: --genesis)" >&2; exit 2 ;;
  esac
done

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Debian packages (one per line; '#' comments).
mapfile -t wanted < <(grep -v '^\s*#' scripts/apt-packages.txt | awk 'NF { print $1 }')
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# pnpm, at the version package.json pins. (corepack's signature check fails on this image unless
# COREPACK_INTEGRITY_KEYS=0; npm's global install works.)
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  step "npm install -g pnpm@$PNPM_VERSION"
  npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null
fi

# The simulator sidecar, in a project-local virtualenv (.venv), reinstalled when its pyproject changes.
extras="mujoco"
[ "$GENESIS" = 1 ] && extras="mujoco,genesis"
stamp="$(sha256sum packages/sim-genesis/python/pyproject.toml | cut -c1-16)-$extras"
if [ ! -x .venv/bin/python ]; then
  step "python3 -m venv .venv"
  python3 -m venv .venv
fi
if [ "$(cat .venv/.telekit-stamp 2>/dev/null || true)" != "$stamp" ]; then
  step "pip install the simulator sidecar [$extras] into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check -e "packages/sim-genesis/python[$extras]"
  echo "$stamp" > .venv/.telekit-stamp
fi

step "pnpm install"
pnpm install --frozen-lockfile --prefer-offline --reporter=append-only | grep -vE '^(Progress|Packages):' || true
test -d node_modules/.pnpm || { echo "pnpm install failed" >&2; exit 1; }

# mediasoup's worker: its postinstall would download a prebuilt binary (unreachable here), so pnpm
# does not run it; the worker is built from the package's sources instead and cached outside the
# clone, keyed by version (about 3 minutes on 2 cores, once).
if [ -d packages/media-nvenc ]; then
  mediasoup=$(node -p "require('path').dirname(require.resolve('mediasoup/package.json', { paths: ['packages/media-nvenc'] }))")
  step "mediasoup worker ($(node -p "require('$mediasoup/package.json').version"))"
  bash scripts/build-mediasoup-worker.sh "$mediasoup"
fi
