#!/usr/bin/env bash
# Configures (once) and builds Parley and its tests into ./build with CMake + Ninja + ccache.
set -euo pipefail
cd "$(dirname "$0")/.."
build_type=${PARLEY_BUILD_TYPE:-RelWithDebInfo}
# Paths relative to the checkout in ccache's keys: a second clone (CI's fresh one) reuses the
# objects this one compiled.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type"
fi
# Two cores and heavy translation units: keep the job count at the core count.
ninja -C build -j "$(nproc)"
