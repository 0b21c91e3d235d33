#!/usr/bin/env bash
# Builds mediasoup's C++ worker from an installed mediasoup npm package against the system's own
# libraries (Debian 12's), offline, and caches the binary outside any project, keyed by version:
#   ${XDG_CACHE_HOME:-~/.cache}/telekit/mediasoup-worker-<version>/mediasoup-worker
# Prints that path on stdout; the build's own output goes to stderr. Safe to run again and from two
# processes at once: a cached binary is reused, and a second build waits for the first (flock).
#
# Usually run for you: `npx telekit-media build-worker`, or on the first `createWorker()` when no
# worker exists (see the package README). Usage: build-mediasoup-worker.sh <mediasoup package dir>
#
# Why: mediasoup's postinstall downloads a prebuilt worker or builds one with meson fetching its
# dependencies from the network. Here each meson subproject is replaced by a tiny project that
# declares the system library instead (plus an empty static library where mediasoup's build wants
# one to link whole), and meson runs with --wrap-mode=nodownload.
# Needs (Debian names): g++ meson ninja-build pkg-config libuv1-dev libsrtp2-dev libusrsctp-dev
# libabsl-dev nlohmann-json3-dev libssl-dev.
set -euo pipefail
pkg=${1:?usage: build-mediasoup-worker.sh <path to the mediasoup package>}
[ -f "$pkg/package.json" ] && [ -d "$pkg/worker" ] || {
  echo "build-mediasoup-worker: $pkg is not a mediasoup package with its worker sources" >&2
  exit 2
}
version=$(node -p "require('$(cd "$pkg" && pwd)/package.json').version")
cache="${XDG_CACHE_HOME:-$HOME/.cache}/telekit/mediasoup-worker-$version"
bin="$cache/mediasoup-worker"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

# What the build needs, checked up front so a missing piece is named with its Debian package.
missing=()
for tool in "c++:g++" "meson:meson" "ninja:ninja-build" "pkg-config:pkg-config"; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if command -v pkg-config >/dev/null 2>&1; then
  for lib in "libuv:libuv1-dev" "libsrtp2:libsrtp2-dev" "usrsctp:libusrsctp-dev" \
    "absl_flat_hash_map:libabsl-dev" "nlohmann_json:nlohmann-json3-dev" "libssl:libssl-dev"; do
    pkg-config --exists "${lib%%:*}" 2>/dev/null || missing+=("${lib#*:}")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-mediasoup-worker: missing what the build needs; on Debian/Ubuntu:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 3
fi

mkdir -p "$cache"
# One build at a time per version; whoever waited finds the binary the other one built.
exec 9>"$cache/.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$pkg/worker" "$work/worker"
chmod -R u+w "$work/worker"
cd "$work/worker"
# Debian 12's meson is 1.0.1; mediasoup asks for 1.1.0 but builds with 1.0.1.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.1'/" meson.build
rm -f subprojects/*.wrap
stub() { # name, meson body, meson_options (the options mediasoup passes it)
  mkdir -p "subprojects/$1"
  echo 'void telekit_stub(void) {}' > "subprojects/$1/stub.c"
  printf "project('%s', 'c')\n%s\n" "$1" "$2" > "subprojects/$1/meson.build"
  printf "%s\n" "${3:-}" > "subprojects/$1/meson_options.txt"
}
stub openssl "openssl_dep = declare_dependency(dependencies: [dependency('libssl'), dependency('libcrypto')])
libcrypto_lib = static_library('stub_crypto', 'stub.c')
libssl_lib = static_library('stub_ssl', 'stub.c')"
stub nlohmann_json "nlohmann_json_dep = dependency('nlohmann_json')"
stub libuv "libuv_dep = dependency('libuv')
libuv = static_library('stub_uv', 'stub.c')" "option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)"
stub libsrtp2 "libsrtp2_dep = declare_dependency(dependencies: dependency('libsrtp2'), compile_args: ['-I/usr/include/srtp2'])
libsrtp2 = static_library('stub_srtp2', 'stub.c')" "option('crypto-library', type: 'string', value: 'openssl')
option('crypto-library-kdf', type: 'feature', value: 'disabled')
option('tests', type: 'feature', value: 'disabled')"
stub usrsctp "usrsctp_dep = dependency('usrsctp')
usrsctp = static_library('stub_usrsctp', 'stub.c')" "option('sctp_build_programs', type: 'boolean', value: false)"
stub abseil-cpp "absl_container_dep = declare_dependency(dependencies: [dependency('absl_flat_hash_map'), dependency('absl_flat_hash_set')])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = declare_dependency(dependencies: [dependency('absl_optional'), dependency('absl_variant')])
absl_container_lib = static_library('stub_absl', 'stub.c')"
stub catch2 "catch2_dep = declare_dependency()"

echo "building mediasoup-worker $version (a few minutes on 2 cores)…" >&2
meson setup build --buildtype=release --wrap-mode=nodownload -Db_lto=false >&2
ninja -C build mediasoup-worker >&2
cp build/mediasoup-worker "$bin.tmp" && mv "$bin.tmp" "$bin"
echo "$bin"
