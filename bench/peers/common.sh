# Shared by bench/peers/*.sh (sourced, not run): the workload, package installation and the
# parley-bench runs against an XMPP server. The workload matches bench/run-all.sh's Parley runs.

: "${BENCH:=build/parley-bench}"  # the parley-bench binary
: "${CONNECTIONS:=10000}"               # idle connections
: "${MEMBERS:=1000}"                    # fanout: members of the one room
: "${CHANNELS:=1}"                      # fanout: rooms
: "${MESSAGES:=300}"                    # fanout: messages per room
: "${RATE:=300}"                        # fanout: messages per second (0: flat out)
: "${TEXT_BYTES:=100}"                  # fanout: message size
: "${TIMEOUT:=120}"                     # fanout: seconds before undelivered messages count as lost
: "${XMPP_DOMAIN:=bench.local}"

# Installs Debian packages that are missing (through sudo when not root).
peer_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  echo "Installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Waits until an HTTP endpoint answers (any status), up to $2 seconds.
peer_wait_http() {
  local url=$1 seconds=${2:-60}
  for _ in $(seq $((seconds * 10))); do
    if curl -s -o /dev/null "$url"; then return 0; fi
    sleep 0.1
  done
  echo "no answer from $url after ${seconds}s" >&2
  return 1
}

# Runs idle and fanout against the server: peer_run NAME WS_URL PID OUT_DIR
peer_run() {
  local name=$1 url=$2 pid=$3 out=$4 rc=0
  mkdir -p "$out"
  sleep "${SETTLE:-5}"  # let the server finish starting before its RSS is taken as the baseline
  "$BENCH" idle --target xmpp --xmpp-url "$url" --xmpp-domain "$XMPP_DOMAIN" --muc-domain "rooms.$XMPP_DOMAIN" \
    --pid "$pid" --connections "$CONNECTIONS" --json "$out/$name-idle.json" || rc=$?
  "$BENCH" fanout --target xmpp --xmpp-url "$url" --xmpp-domain "$XMPP_DOMAIN" --muc-domain "rooms.$XMPP_DOMAIN" \
    --pid "$pid" --channels "$CHANNELS" --members "$MEMBERS" --messages "$MESSAGES" --rate "$RATE" \
    --text-bytes "$TEXT_BYTES" --timeout "$TIMEOUT" --json "$out/$name-fanout.json" || rc=$?
  return $rc
}
