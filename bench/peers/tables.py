#!/usr/bin/env python3
"""Turns the parley-bench JSON results of bench/run-all.sh into the comparison tables of
docs/benchmarks.md (only between the bench:peers markers) and a gnuplot PNG chart.

usage: tables.py RESULTS_DIR BENCHMARKS_MD CHART_PNG --started S --load L --load-after L2
                 --versions V --command C
"""
import argparse
import json
import os
import subprocess
import tempfile

BEGIN, END = "<!-- bench:peers:begin -->", "<!-- bench:peers:end -->"
SERVERS = ["parley", "ejabberd", "prosody"]


def load(results, server, scenario):
    path = os.path.join(results, f"{server}-{scenario}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.loads(f.readline())


def when(results, server, scenario):
    """The time the result was written and the load average recorded before the server's run."""
    import datetime
    path = os.path.join(results, f"{server}-{scenario}.json")
    t = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc).strftime("%H:%M")
    load_file = os.path.join(results, f"{server}.load")
    load = open(load_file).read().strip() if os.path.exists(load_file) else "?"
    return f"{t} UTC, load {load}"


def num(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def tables(results, args):
    lines = [
        f"Generated {args.started} by `{args.command}` ({args.versions}); a server's rows come from its "
        "latest run (`PEERS=\"ejabberd\" bench/run-all.sh` re-measures one server and regenerates the tables). "
        "Each row says when it was measured and the load average (1/5/15 min) just before that server's run: "
        "other engineers compile on the same two cores, so treat absolute figures as a floor. "
        "`lost` counts messages not delivered by the end of the run (`--timeout`, 120 s), whether or not "
        "the server would have delivered them later.",
        "",
        "Idle connections (`parley-bench idle`; XMPP: anonymous login, resource bind, initial presence):",
        "",
        "| server | connections | failed | connects/s | server RSS before → after | bytes per idle connection | measured |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in SERVERS:
        r = load(results, s, "idle")
        if not r:
            lines.append(f"| {s} | not measured | | | | | |")
            continue
        lines.append(
            f"| {s} | {num(r['connections'])} | {num(r.get('failed', 0))} | {num(r.get('connects_per_sec'))} | "
            f"{num(r.get('server_rss_bytes_before', 0) / 1048576, 1)} → {num(r['server_rss_bytes'] / 1048576, 1)} MiB | "
            f"{num(r.get('bytes_per_connection'))} | {when(results, s, 'idle')} |")
    lines += [
        "",
        "Fan-out (`parley-bench fanout`; XMPP: one MUC room per channel, groupchat messages):",
        "",
        "| server | members | messages (rate) | deliveries | deliveries/s | server CPU | deliveries per server CPU-second | "
        "latency p50 / p90 / p99 / max | lost / dup / reordered | server RSS | measured |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    fan = {}
    for s in SERVERS:
        r = load(results, s, "fanout")
        fan[s] = r
        if not r:
            lines.append(f"| {s} | not measured | | | | | | | | | |")
            continue
        lat = r.get("latency_ms") or {}
        rate = r.get("rate", 0)
        lines.append(
            f"| {s} | {num(r['members_per_channel'])} | {num(r['messages_sent'])} "
            f"({'flat out' if not rate else num(rate) + '/s'}) | {num(r['deliveries'])} | "
            f"{num(r['deliveries_per_sec'])} | {num(r['server_cpu_seconds'], 2)} s | "
            f"{num(r['deliveries_per_cpu_second'])} | {num(lat.get('p50'), 1)} / {num(lat.get('p90'), 1)} / "
            f"{num(lat.get('p99'), 1)} / {num(lat.get('max'), 1)} ms | {r['lost']} / {r['duplicated']} / "
            f"{r['reordered']} | {num(r['server_rss_bytes'] / 1048576, 1)} MiB | {when(results, s, 'fanout')} |")
    p = fan.get("parley")
    ratios = []
    for s in SERVERS[1:]:
        if p and fan.get(s) and fan[s]["deliveries_per_cpu_second"] > 0:
            ratios.append(f"{p['deliveries_per_cpu_second'] / fan[s]['deliveries_per_cpu_second']:.1f}× {s}")
    if ratios:
        lines += ["", "Parley's deliveries per server CPU-second: " + ", ".join(ratios) + " (target: ≥ 5× both)."]
    lines += ["", "![Parley vs ejabberd vs prosody](bench-peers.png)"]
    return "\n".join(lines)


def chart(results, png):
    rows = []
    for i, s in enumerate(SERVERS):
        f, idle = load(results, s, "fanout"), load(results, s, "idle")
        rows.append((i, s, f["deliveries_per_cpu_second"] if f else 0,
                     (idle.get("bytes_per_connection") or 0) if idle else 0))
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.txt")
        with open(data, "w") as f:
            for i, s, dpc, bpc in rows:
                f.write(f"{i} {s} {dpc} {bpc}\n")
        script = f"""
set terminal pngcairo size 1100,450 font 'sans,10'
set output '{png}'
set multiplot layout 1,2
set style fill solid 0.8 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set format y "%'.0f"
set title 'Fan-out: deliveries per server CPU-second (higher is better)'
plot '{data}' using 1:3:xtic(2) with boxes lc rgb '#3b7dd8' notitle, \
     '' using 1:3:(sprintf("%'.0f", $3)) with labels offset 0,0.8 notitle
set title 'Idle: server bytes per connection (lower is better)'
plot '{data}' using 1:4:xtic(2) with boxes lc rgb '#d8843b' notitle, \
     '' using 1:4:(sprintf("%'.0f", $4)) with labels offset 0,0.8 notitle
unset multiplot
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=True, env={**os.environ, "LC_ALL": "C.UTF-8"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("markdown")
    ap.add_argument("png")
    for k in ["started", "load", "load-after", "versions", "command"]:
        ap.add_argument("--" + k, default="?")
    args = ap.parse_args()
    with open(args.markdown) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{args.markdown} has no {BEGIN} … {END} region")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    body = tables(args.results, args)
    with open(args.markdown, "w") as f:
        f.write(head + BEGIN + "\n" + body + "\n" + END + tail)
    chart(args.results, os.path.abspath(args.png))


if __name__ == "__main__":
    main()
