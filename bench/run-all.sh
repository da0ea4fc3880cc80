#!/usr/bin/env bash
# Parley, ejabberd and prosody back to back on the same workloads, measured by parley-bench:
# idle (CONNECTIONS idle connections) and fanout (CHANNELS x MEMBERS online members, MESSAGES
# messages of TEXT_BYTES bytes per channel at RATE msgs/s). Collects the JSON results in OUT_DIR,
# regenerates the tables between <!-- bench:peers:begin --> and <!-- bench:peers:end --> in
# docs/benchmarks.md (nothing else in the file is touched) and draws docs/bench-peers.png with
# gnuplot.
#
#   bench/run-all.sh                       (after scripts/build.sh, which builds build/parley and build/parley-bench)
#   environment: BUILD (build), OUT_DIR ($BUILD/bench-results), CONNECTIONS (10000), MEMBERS (1000),
#                CHANNELS (1), MESSAGES (300), RATE (300), TEXT_BYTES (100), PEERS ("parley ejabberd prosody")
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
: "${OUT_DIR:=$BUILD/bench-results}"
: "${PEERS:=parley ejabberd prosody}"
export BENCH="$BUILD/parley-bench"
. bench/peers/common.sh
export CONNECTIONS MEMBERS CHANNELS MESSAGES RATE TEXT_BYTES TIMEOUT
peer_install gnuplot-nox python3
[ -x "$BENCH" ] && [ -x "$BUILD/parley" ] || { echo "build $BUILD/parley and $BUILD/parley-bench first" >&2; exit 1; }
mkdir -p "$OUT_DIR"

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(uptime | sed 's/.*load average: //')
rc=0
for peer in $PEERS; do
  echo "== $peer"
  uptime | sed 's/.*load average: //' >"$OUT_DIR/$peer.load"  # shown beside the figures
  case $peer in
    parley)
      "$BENCH" idle --spawn "$BUILD/parley" --connections "$CONNECTIONS" --users 100 \
        --json "$OUT_DIR/parley-idle.json" || rc=$?
      "$BENCH" fanout --spawn "$BUILD/parley" --channels "$CHANNELS" --members "$MEMBERS" --messages "$MESSAGES" \
        --rate "$RATE" --text-bytes "$TEXT_BYTES" --timeout "$TIMEOUT" --json "$OUT_DIR/parley-fanout.json" || rc=$?
      ;;
    ejabberd) bench/peers/ejabberd.sh "$OUT_DIR" || rc=$? ;;
    prosody) bench/peers/prosody.sh "$OUT_DIR" || rc=$? ;;
    *) echo "unknown peer $peer" >&2; exit 2 ;;
  esac
done
load_after=$(uptime | sed 's/.*load average: //')

versions="ejabberd $(dpkg-query -W -f='${Version}' ejabberd 2>/dev/null || echo '?'), prosody $(dpkg-query -W -f='${Version}' prosody 2>/dev/null || echo '?'), Parley $(git rev-parse --short HEAD)"
python3 bench/peers/tables.py "$OUT_DIR" docs/benchmarks.md docs/bench-peers.png \
  --started "$started" --load "$load_before" --load-after "$load_after" --versions "$versions" \
  --command "CONNECTIONS=$CONNECTIONS CHANNELS=$CHANNELS MEMBERS=$MEMBERS MESSAGES=$MESSAGES RATE=$RATE TEXT_BYTES=$TEXT_BYTES bench/run-all.sh"
echo "tables: docs/benchmarks.md (bench:peers section); chart: docs/bench-peers.png"
exit $rc
