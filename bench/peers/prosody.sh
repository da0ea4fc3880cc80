#!/usr/bin/env bash
# Measures prosody with parley-bench: installs it from Debian if missing, runs it from a
# temporary folder on loopback only (anonymous login, MUC component, WebSocket endpoint, no
# traffic limits), runs the idle and fanout workloads, writes prosody-idle.json and
# prosody-fanout.json into OUT_DIR and stops the server it started.
#
#   bench/peers/prosody.sh [OUT_DIR]     (default build/bench-results/)
#   environment: BENCH, CONNECTIONS, MEMBERS, CHANNELS, MESSAGES, RATE, TEXT_BYTES, TIMEOUT,
#                PROSODY_HTTP_PORT (15280), PROSODY_C2S_PORT (15222)
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/peers/common.sh
out=${1:-build/bench-results}
http_port=${PROSODY_HTTP_PORT:-15280}
c2s_port=${PROSODY_C2S_PORT:-15222}

peer_install prosody lua-bitop lua-event curl
dir=$(mktemp -d /tmp/parley-prosody.XXXXXX)
mkdir -p "$dir/data" "$dir/certs"
# Notes: "c2s" must come before "websocket" (mod_websocket needs it loaded); no mod_limits, so
# nothing throttles a connection; rooms are unlocked at creation.
cat >"$dir/prosody.cfg.lua" <<EOF
run_as_root = true
certificates = "$dir/certs"
pidfile = "$dir/prosody.pid"
data_path = "$dir/data"
log = { warn = "$dir/prosody.log", error = "$dir/prosody.log" }
network_backend = "epoll"
network_settings = { tcp_backlog = 4096 }  -- the default 128 refuses some of parley-bench's 256 handshakes in flight
interfaces = { "127.0.0.1" }
c2s_ports = { $c2s_port }
c2s_interfaces = { "127.0.0.1" }
http_ports = { $http_port }
http_interfaces = { "127.0.0.1" }
https_ports = { }
s2s_ports = { }
modules_enabled = { "c2s", "saslauth", "websocket", "disco", "ping" }
modules_disabled = { "s2s", "offline", "register" }
consider_websocket_secure = true
cross_domain_websocket = true
c2s_require_encryption = false
storage = "memory"

VirtualHost "$XMPP_DOMAIN"
  authentication = "anonymous"

Component "rooms.$XMPP_DOMAIN" "muc"
  muc_room_locking = false
  restrict_room_creation = false
  max_history_messages = 0
  muc_room_default_history_length = 0
EOF

ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
prosody --config "$dir/prosody.cfg.lua" -F >"$dir/stdout.log" 2>&1 &
pid=$!
stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  mkdir -p "$out"
  cat "$dir/stdout.log" "$dir/prosody.log" >"$out/prosody.log" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop EXIT
if ! peer_wait_http "http://127.0.0.1:$http_port/xmpp-websocket" 60; then
  cat "$dir/stdout.log" "$dir/prosody.log" >&2 || true
  exit 1
fi
echo "prosody $(dpkg-query -W -f='${Version}' prosody) running as pid $pid (http 127.0.0.1:$http_port)"
rc=0
peer_run prosody "ws://127.0.0.1:$http_port/xmpp-websocket" "$pid" "$out" || rc=$?
if [ -s "$dir/prosody.log" ]; then
  echo "prosody log (warnings and errors, last lines):"
  tail -n 20 "$dir/prosody.log"
fi
exit $rc
