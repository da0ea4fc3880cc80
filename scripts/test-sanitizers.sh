#!/usr/bin/env bash
# Builds Parley with clang under ThreadSanitizer and under AddressSanitizer+UBSan (build-tsan/,
# build-asan/), then runs the unit tests and the chat, realtime and WebSocket protocol
# integration tests (the real parley binary, sanitized too) in each. A sanitizer report makes
# the process exit with code 66 (the integration harness stops the server with SIGTERM and fails
# the test on that code) or, in a test binary, fails its ctest. On SQLite only.
#   usage: scripts/test-sanitizers.sh [thread|address]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(thread address)

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1  # as in scripts/build.sh
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp"
export ASAN_OPTIONS="halt_on_error=1 exitcode=66 detect_leaks=1 strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1 exitcode=66 print_stacktrace=1"
integration='^integration\.(Chat|ChatRules|ChatInput|ChatCrossTenant|ChatRulesCrossTenant|Realtime[A-Za-z]*|WsProtocol|BeforeSend|Previews)Test\.'

for kind in "${kinds[@]}"; do
  case "$kind" in
    thread) dir=build-tsan ;;
    address) dir=build-asan ;;
    *) echo "test-sanitizers: unknown sanitizer '$kind' (thread or address)" >&2; exit 2 ;;
  esac
  export PARLEY_TEST_SANITIZER=$kind  # the harness's exit-code check; RSS bounds skip under address
  echo "== $kind sanitizer: build ($dir)"
  if [ ! -f "$dir/build.ninja" ]; then
    CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DPARLEY_SANITIZE="$kind" >/dev/null
  fi
  mapfile -t targets < <(ninja -C "$dir" -t targets all | sed -n 's/^\([a-z_]*_unit_test\): .*/\1/p' | sort -u)
  ninja -C "$dir" -j "$(nproc)" parley "${targets[@]}" chat_test chat_rules_test realtime_test ws_protocol_test before_send_test previews_test
  echo "== $kind sanitizer: tests"
  # Under TSan the libvips tests (Images.*) are left out: libvips decodes on its own worker
  # threads, which synchronise through GLib's futex-based locks in uninstrumented libraries, and
  # TSan reports the codecs' copies (libjpeg, libpng, zlib, libwebp, orc, GObject) as races; the
  # suppressions (scripts/tsan.supp) did not cover them all. They run under ASan+UBSan and in
  # the ordinary build. Parley calls libvips from one files worker per image.
  exclude=()
  [ "$kind" = thread ] && exclude=(-E '^Images\.')
  ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" -L unit "${exclude[@]}"
  ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" -R "$integration"
done
