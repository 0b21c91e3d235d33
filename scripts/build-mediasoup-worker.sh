#!/usr/bin/env bash
# Builds mediasoup's C++ worker from the installed npm package against Debian 12's own libraries,
# offline, and caches the binary outside the clone, keyed by mediasoup's version:
#   ${XDG_CACHE_HOME:-~/.cache}/telekit/mediasoup-worker-<version>/mediasoup-worker
# Prints that path. Safe to run again: a cached binary is reused.
#
# Why: mediasoup's postinstall downloads a prebuilt worker (unreachable here) or builds one with
# meson fetching its dependencies (also unreachable). Each meson subproject is replaced by a tiny
# project that declares the system library instead (plus an empty static library where mediasoup's
# build wants one to link whole), and meson runs with --wrap-mode=nodownload.
# Needs: libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev libssl-dev meson
# ninja-build pkg-config g++ (scripts/apt-packages.txt).
set -euo pipefail
pkg=${1:?usage: build-mediasoup-worker.sh <path to the mediasoup package>}
version=$(node -p "require('$pkg/package.json').version")
cache="${XDG_CACHE_HOME:-$HOME/.cache}/telekit/mediasoup-worker-$version"
bin="$cache/mediasoup-worker"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$pkg/worker" "$work/worker"
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
mkdir -p "$cache"
cp build/mediasoup-worker "$bin.tmp" && mv "$bin.tmp" "$bin"
echo "$bin"
