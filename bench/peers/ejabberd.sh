#!/usr/bin/env bash
# Measures ejabberd with parley-bench: installs it from Debian if missing, runs it in the
# foreground from a temporary folder (its own config, spool and logs; loopback only; anonymous
# login, mod_muc, WebSocket at /ws; shapers off and limits raised so nothing is throttled), runs
# the idle and fanout workloads, writes ejabberd-idle.json and ejabberd-fanout.json into OUT_DIR
# and stops the node it started.
#
#   bench/peers/ejabberd.sh [OUT_DIR]    (default build/bench-results/)
#   environment: BENCH, CONNECTIONS, MEMBERS, CHANNELS, MESSAGES, RATE, TEXT_BYTES, TIMEOUT,
#                EJABBERD_HTTP_PORT (15290)
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/peers/common.sh
out=${1:-build/bench-results}
http_port=${EJABBERD_HTTP_PORT:-15290}
node="parleybench$$@localhost"

peer_install ejabberd curl
dir=$(mktemp -d /tmp/parley-ejabberd.XXXXXX)
mkdir -p "$dir/spool" "$dir/logs"
cat >"$dir/ejabberd.yml" <<EOF
hosts:
  - "$XMPP_DOMAIN"
loglevel: warning
log_rotate_count: 0
listen:
  -
    port: $http_port
    ip: "127.0.0.1"
    backlog: 4096
    module: ejabberd_http
    request_handlers:
      "/ws": ejabberd_http_ws
auth_method: anonymous
anonymous_protocol: sasl_anon
allow_multiple_connections: true
max_fsm_queue: 10000000
shaper_rules:
  max_user_sessions: 1000000
  c2s_shaper: none
  s2s_shaper: none
acl:
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  local:
    allow: all
  c2s:
    allow: all
  muc_create:
    allow: all
  register:
    deny: all
modules:
  mod_disco: {}
  mod_ping: {}
  mod_muc:
    host: "rooms.$XMPP_DOMAIN"
    access: all
    access_create: muc_create
    access_persistent: muc_create
    history_size: 0
    max_users: 1000000
    max_user_conferences: 100000
    max_users_presence: 1000000
    min_message_interval: 0
    min_presence_interval: 0
    default_room_options:
      persistent: false
      mam: false
      max_users: 1000000
EOF
echo '{lookup, [file, native]}.' >"$dir/inetrc"
# The node runs as the ejabberd user: give it the folder.
cat >"$dir/ejabberdctl.cfg" <<EOF
ERL_MAX_PORTS=1000000
ERL_PROCESSES=4000000
EJABBERD_BYPASS_WARNINGS=true
EJABBERD_PID_PATH=$dir/ejabberd.pid
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
EOF
chown -R ejabberd: "$dir" 2>/dev/null || true
chmod 755 "$dir"

live_epmd() { { ps -C epmd -o pid=,stat= || true; } | awk '$2 !~ /^Z/ {print $1}'; }
epmd_before=$(live_epmd)
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# Become the ejabberd user ourselves: ejabberdctl run by root switches with su, whose PAM
# session drops the open-files limit back to 1024 (the node then refuses connections at ~2,000).
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
ctl=("${sudo_cmd[@]}" setpriv --reuid=ejabberd --regid=ejabberd --init-groups env HOME="$dir" ejabberdctl --ctl-config "$dir/ejabberdctl.cfg" --config-dir "$dir" --config "$dir/ejabberd.yml"
     --spool "$dir/spool" --logs "$dir/logs" --node "$node")
"${ctl[@]}" foreground >"$dir/stdout.log" 2>&1 &
ctl_pid=$!
vm_pid() { pgrep -f "beam.smp.*-[s]*name $node" | head -n1; }
stop() {
  local vm
  vm=$(vm_pid || true)
  [ -n "$vm" ] && kill "$vm" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$ctl_pid" 2>/dev/null || break; sleep 0.1; done
  kill "$ctl_pid" 2>/dev/null || true
  wait "$ctl_pid" 2>/dev/null || true
  # Erlang started an epmd daemon for the node if none ran before: stop that one.
  if [ -z "$epmd_before" ]; then
    for p in $(live_epmd); do kill "$p" 2>/dev/null || true; done
  fi
  # Keep the node's logs with the results: a crash or a refusal shows there.
  mkdir -p "$out"
  cat "$dir/stdout.log" "$dir/logs/"*.log >"$out/ejabberd.log" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop EXIT
ready=no
for _ in $(seq 1200); do
  if curl -s -o /dev/null "http://127.0.0.1:$http_port/ws"; then ready=yes; break; fi
  grep -q "Failed to start" "$dir/stdout.log" 2>/dev/null && break
  kill -0 "$ctl_pid" 2>/dev/null || break
  sleep 0.1
done
if [ $ready != yes ]; then
  echo "ejabberd did not start:" >&2
  tail -n 20 "$dir/stdout.log" >&2 || true
  exit 1
fi
# The server process is the BEAM VM started (through su) for our node.
pid=$(vm_pid)
[ -n "$pid" ] || { echo "cannot find the ejabberd VM" >&2; exit 1; }
echo "ejabberd $(dpkg-query -W -f='${Version}' ejabberd) running as pid $pid (http 127.0.0.1:$http_port/ws)"
rc=0
peer_run ejabberd "ws://127.0.0.1:$http_port/ws" "$pid" "$out" || rc=$?
if [ -s "$dir/logs/error.log" ]; then
  echo "ejabberd error log (last lines):"
  tail -n 20 "$dir/logs/error.log"
fi
exit $rc
