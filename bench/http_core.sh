#!/usr/bin/env bash
# HTTP core benchmark: requests/s and latency of an unauthenticated route (/health) and an
# authenticated one (/v1/users/me: JWT verify + user lookup on SQLite), measured with wrk
# (Debian package) against the real binary on loopback. Prints wrk's summary and one JSON line
# per route. Never fails on speed. Usage: bench/http_core.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
conns=${2:-64}
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
[ -x build/parley ] || scripts/build.sh
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
big=1000000000
build/parley serve --data-dir "$dir" --port "$port" --access-log false --log-level warn \
  --rate-limit-ip-per-sec $big --rate-limit-ip-burst $big --rate-limit-user-per-sec $big \
  --rate-limit-user-burst $big >"$dir/out.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do grep -q "listening" "$dir/out.log" && break; sleep 0.1; done
token=$(awk '/alice:/ {print $2}' "$dir/out.log")

run() {
  local name=$1
  shift
  local out
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$@")
  echo "== $name"
  echo "$out" | sed -n '/Thread Stats/,/Transfer/p'
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  printf '{"benchmark":"http_core","route":"%s","connections":%s,"seconds":%s,"requests_per_sec":%s,"latency_p50":"%s","latency_p99":"%s"}\n' \
    "$name" "$conns" "$secs" "$rps" "$p50" "$p99"
}
run health "http://127.0.0.1:$port/health"
run users_me -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/users/me"
