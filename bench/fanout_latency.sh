#!/usr/bin/env bash
# End-to-end latency at half the maximum rate: for each channel size, a flat-out fan-out finds
# the maximum rate (messages per second the server fans out to every member), then a paced run
# at half that rate measures p50/p90/p99/max. Each run spawns its own server. Prints one table
# row per size and writes the JSON results to OUT_DIR.
#
#   bench/fanout_latency.sh [build-dir]          (default: build)
#   environment: MEMBERS ("1000 100"), FLAT_MESSAGES (messages in the flat-out probe, 4000),
#                FLAT_SECONDS (a probe shorter than this is followed by a flat-out run this long, 3),
#                PACED_SECONDS (length of the paced run, 10), OUT_DIR ($BUILD/bench-results),
#                EXTRA (more parley-bench arguments for both runs)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${OUT_DIR:-$build/bench-results}
EXTRA=${EXTRA:-}
members_list=${MEMBERS:-1000 100}
flat_messages=${FLAT_MESSAGES:-4000}
flat_seconds=${FLAT_SECONDS:-3}
paced_seconds=${PACED_SECONDS:-10}
bench=$build/parley-bench
[ -x "$bench" ] && [ -x "$build/parley" ] || { echo "build $build/parley and $bench first" >&2; exit 1; }
mkdir -p "$out"

field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }

echo "== $(nproc) cores, load $(uptime | sed 's/.*load average: //'), commit $(git rev-parse --short HEAD)"
printf '| members | max rate (msgs/s, flat out) | half rate | p50 ms | p90 ms | p99 ms | max ms | lost/dup/reordered |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for m in $members_list; do
  flat=$out/latency-flat-$m.json paced=$out/latency-half-$m.json
  # shellcheck disable=SC2086
  "$bench" fanout --spawn "$build/parley" --channels 1 --members "$m" --messages "$flat_messages" \
    --json "$flat" $EXTRA >/dev/null
  max=$(field "$flat" "deliveries_per_sec / members_per_channel")
  # A short burst overstates what the server sustains (no checkpoint, no queue built up yet):
  # when the probe lasted less than FLAT_SECONDS, the maximum comes from a run that long.
  longer=$(python3 -c "print(round($max * $flat_seconds) if $flat_messages < $max * $flat_seconds else 0)")
  if [ "$longer" -gt 0 ]; then
    # shellcheck disable=SC2086
    "$bench" fanout --spawn "$build/parley" --channels 1 --members "$m" --messages "$longer" \
      --json "$flat" $EXTRA >/dev/null
    max=$(field "$flat" "deliveries_per_sec / members_per_channel")
  fi
  half=$(python3 -c "print(max(1, round($max / 2)))")
  msgs=$(python3 -c "print(max(50, round($half * $paced_seconds)))")
  # shellcheck disable=SC2086
  "$bench" fanout --spawn "$build/parley" --channels 1 --members "$m" --messages "$msgs" --rate "$half" \
    --json "$paced" $EXTRA >/dev/null
  row=$(field "$paced" "'| %d | %.0f | %d | %.2f | %.2f | %.2f | %.2f | %d/%d/%d |' % (members_per_channel, $max, $half, latency_ms['p50'], latency_ms['p90'], latency_ms['p99'], latency_ms['max'], lost, duplicated, reordered)")
  echo "$row"
done
