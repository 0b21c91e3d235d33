#!/usr/bin/env bash
# Builds mediasoup's worker for the repository's setup (scripts/setup.sh). The build itself ships in
# @telekit/media-nvenc (packages/media-nvenc/scripts/build-mediasoup-worker.sh, run by
# `npx telekit-media build-worker` in an app), so the repository and an app share one build and
# one cache (~/.cache/telekit/mediasoup-worker-<version>/). Prints the binary's path.
# Usage: build-mediasoup-worker.sh <path to the mediasoup package>
set -euo pipefail
exec bash "$(dirname "$0")/../packages/media-nvenc/scripts/build-mediasoup-worker.sh" "$@"
