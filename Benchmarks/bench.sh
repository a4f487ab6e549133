#!/usr/bin/env bash
# `make bench`: the server on loopback with a ~400 kbit/s broadcast point and an on-demand file,
# driven by `asfcast load` per protocol with a rising number of sessions until fewer than 99 % of
# them hold 95 % of the rate; then VLC's own MMSH broadcast of the same file, ramped the same way
# with the WMSP player. Server CPU (from /proc), RSS and the load tool's figures go to BENCHMARKS.md.
#
# Environment: STEPS (session counts), PROTOCOLS (of wmsp rtsp-tcp rtsp-udp mmst mmsu),
# HOLD (seconds measured after the last session started), RATE (sessions started per second),
# ON_DEMAND (sessions for the on-demand step, 0 to skip), PUSHED (0 to skip the pushed point),
# MULTICAST (multicast points sending at once, 0 to skip), VLC (0 to skip the peer). STEPS=' '
# (a space: empty means the default) and PROTOCOLS=' ' skip the ramps.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-"500 1000 2000 5000 10000 15000 19000"}
PROTOCOLS=${PROTOCOLS:-"wmsp rtsp-tcp rtsp-udp mmst"}
HOLD=${HOLD:-20}
RATE=${RATE:-1000}
ON_DEMAND=${ON_DEMAND:-5000}
PUSHED=${PUSHED:-1}
MULTICAST=${MULTICAST:-200}
VLC=${VLC:-1}
. Benchmarks/common.sh
server=""
pusher=""
trap '[ -n "$pusher" ] && kill "$pusher" 2>/dev/null; [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

# About 400 kbit/s of WMV2 and WMA2, 60 s, looped by the broadcast point.
make_sample bench.wmv
kbps=$("$bin" probe "$work/media/bench.wmv" | awk '/bit rate/ {print $3}')
server_config bench warning <<YAML
points:
  - name: live
    path: /live
    broadcast: bench.wmv
  - name: pushed
    path: /pushed
    push: true
YAML

start_server() {
    "$bin" serve --config "$work/bench.yaml" > "$work/server.log" 2>&1 &
    server=$!
    wait_for_server
}
stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
url_for() {  # protocol, path
    case $1 in
        wmsp) echo "mmsh://127.0.0.1:18080$2" ;;
        rtsp-*) echo "rtsp://127.0.0.1:18554$2" ;;
        mmst | mmsu) echo "mms://127.0.0.1:18755$2" ;;
    esac
}

# One step: $1 label, $2 protocol, $3 URL, $4 sessions, $5 pid to measure. Prints a table row;
# returns 1 when the step did not pass.
step() {
    local label=$1 proto=$2 url=$3 n=$4 pid=$5 duration status=0
    duration=$(( n / RATE + HOLD ))
    local c0 t0 c1 t1 rss load
    "$bin" load "$url" --protocol "$proto" --clients "$n" --connect-rate "$RATE" --duration "$duration" \
        --json "$work/$label-$n.json" > "$work/$label-$n.txt" 2>/dev/null &
    load=$!
    # CPU over the same window as the rate held: from 2 s after the last session started.
    sleep "$(python3 -c "print($n / $RATE + 2)")"
    c0=$(ticks "$pid"); t0=$(date +%s.%N)
    wait "$load" || status=$?
    c1=$(ticks "$pid"); t1=$(date +%s.%N); rss=$(rss_kib "$pid")
    python3 - "$work/$label-$n.json" "$n" "$c0" "$c1" "$t0" "$t1" "$rss" "$(getconf CLK_TCK)" "$RATE" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); n = int(sys.argv[2])
c0, c1, t0, t1, rss, hz = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
cpu = (c1 - c0) / hz / (t1 - t0) * 100
# The aggregate rate once every session has started (the Fast Start bursts of late joiners past).
held = [s["bitsPerSecond"] for s in j["timeline"] if s["seconds"] >= n / float(sys.argv[9]) + 2]
mbps = (sum(held) / len(held) if held else j["peakBitsPerSecond"]) / 1e6
per_gbps = cpu / (mbps / 1000) if mbps > 0 else 0
fp = j["firstPacketMilliseconds"]
print(f"| {n} | {j['sessionsHoldingRate']} | {cpu:.0f} % | {rss / 1024:.0f} MiB ({rss * 1024 / n / 1024:.1f} KiB) | {mbps:.0f} | "
      f"{fp.get('p50', 0):.0f} / {fp.get('p99', 0):.0f} | {j['latePackets']} | {per_gbps:.0f} % | {'pass' if j['passed'] else 'FAIL'} |")
PY
    return "$status"
}

header="| sessions | holding the rate | server CPU | server RSS (per session) | Mbit/s held | first packet p50 / p99 ms | late packets | CPU per Gbit/s | |
|---|---|---|---|---|---|---|---|---|"
report="$work/BENCHMARKS.md"
{
    echo "# Benchmarks"
    echo
    echo "Made by \`make bench\` (Benchmarks/bench.sh) on $(date -u +%Y-%m-%d): $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)),"
    echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r). Server and \`asfcast load\` share the machine, on loopback."
    echo "Content: a ${kbps} kbit/s WMV2 + WMA2 file, 60 s; the broadcast point loops it. Sessions start at $RATE per second; each step"
    echo "lasts until $HOLD s after the last one started. CPU is the server's (user + system, % of one core) and Mbit/s the aggregate"
    echo "received, both from 2 s after the last session started to the end of the step; RSS is the server's resident memory at the end. A step passes when 99 % of the sessions"
    echo "received at least 95 % of the content's rate; the ramp stops at the first that does not. The server runs with its defaults (batch_ms 1000)."
} > "$report"

for proto in $PROTOCOLS; do
    start_server
    { echo; echo "## Broadcast over $proto"; echo; echo "$header"; } >> "$report"
    for n in $STEPS; do
        step "asfcast-$proto" "$proto" "$(url_for "$proto" /live)" "$n" "$server" >> "$report" || break
    done
    stop_server
done

if [ "$PUSHED" = 1 ]; then
    # The same file pushed by one encoder (`asfcast push --loop`), the same ramp over WMSP.
    start_server
    "$bin" push --loop --quiet http://127.0.0.1:18080/pushed "$work/media/bench.wmv" > "$work/push.log" 2>&1 &
    pusher=$!
    # Live once a Describe of the point is answered 200 (404 until the encoder's header came).
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' -A NSPlayer/7.10.0.3059 --max-time 2 http://127.0.0.1:18080/pushed)" = 200 ] && break
        sleep 0.1
    done
    { echo; echo "## Pushed point over wmsp (one encoder, \`asfcast push --loop\` of the same file)"; echo; echo "$header"; } >> "$report"
    for n in $STEPS; do
        step asfcast-pushed wmsp "$(url_for wmsp /pushed)" "$n" "$server" >> "$report" || break
    done
    kill "$pusher"; wait "$pusher" 2>/dev/null || true; pusher=""
    stop_server
fi

if [ "$ON_DEMAND" -gt 0 ]; then
    start_server
    { echo; echo "## On demand over wmsp (every session at its own position in one file)"; echo; echo "$header"; } >> "$report"
    step asfcast-ondemand wmsp "$(url_for wmsp /bench.wmv)" "$ON_DEMAND" "$server" >> "$report" || true
    stop_server
fi

if [ "$MULTICAST" -gt 0 ]; then
    # MULTICAST broadcast points of the same file, each sent to a group of its own on the
    # loopback (MS-MSB, FEC span 10): the sender's CPU per Gbit/s, the bytes counted as lo sent
    # them (only this server runs meanwhile).
    {
        printf 'bind: 127.0.0.1\nmedia_root: %s\nhttp_port: 18080\nrtsp_port: 18554\nmms_port: 18755\nlog_level: warning\npoints:\n' "$work/media"
        for i in $(seq "$MULTICAST"); do
            printf '  - path: /m%d\n    broadcast: bench.wmv\n    multicast: {group: 239.255.%d.%d, port: 17000, interface: 127.0.0.1}\n' \
                "$i" $(( 100 + i / 250 )) $(( i % 250 + 1 ))
        done
    } > "$work/multicast.yaml"
    "$bin" serve --config "$work/multicast.yaml" > "$work/server.log" 2>&1 &
    server=$!
    wait_for_server
    sleep 5
    lo_bytes() { awk '$1 == "lo:" {print $10}' /proc/net/dev; }
    c0=$(ticks "$server"); b0=$(lo_bytes); t0=$(date +%s.%N)
    sleep "$HOLD"
    c1=$(ticks "$server"); b1=$(lo_bytes); t1=$(date +%s.%N)
    python3 - "$MULTICAST" "$c0" "$c1" "$b0" "$b1" "$t0" "$t1" "$(getconf CLK_TCK)" "$(rss_kib "$server")" <<'PY' >> "$report"
import sys
points, c0, c1, b0, b1 = (int(a) for a in sys.argv[1:6])
t0, t1, hz, rss = float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
cpu = (c1 - c0) / hz / (t1 - t0) * 100
mbps = (b1 - b0) * 8 / (t1 - t0) / 1e6
print("\n## Multicast sender (MS-MSB)\n")
print(f"{points} broadcast points of the file, each sent to its own group on the loopback with FEC (span 10), over {t1 - t0:.0f} s:")
print(f"{mbps:.1f} Mbit/s of datagrams sent, server CPU {cpu:.1f} % of a core, so {cpu / (mbps / 1000):.0f} % per Gbit/s; RSS {rss / 1024:.0f} MiB.")
PY
    stop_server
fi

if [ "$VLC" = 1 ]; then
    id asfcast-vlc >/dev/null 2>&1 || useradd -m asfcast-vlc
    { echo; echo "## Peer: VLC $(dpkg-query -W -f='${Version}' vlc-bin 2>/dev/null) MMSH broadcast (\`--sout '#std{access=mmsh,mux=asfh}'\`), WMSP players"; echo; echo "$header"; } >> "$report"
    for n in $STEPS; do
        # A VLC per step: when its --loop restarts the file, VLC closes every client, so each
        # step stays within the file's 60 s. It gets as many open files as the server.
        runuser -u asfcast-vlc -- sh -c "ulimit -n $(ulimit -n); exec cvlc -I dummy --loop '$work/media/bench.wmv' \
            --sout '#std{access=mmsh,mux=asfh,dst=127.0.0.1:18090}'" > "$work/vlc.log" 2>&1 &
        for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/18090) 2>/dev/null && break; sleep 0.1; done
        vlc_pid=$(pgrep -n -u asfcast-vlc vlc)
        passed=0
        step vlc wmsp "mmsh://127.0.0.1:18090/" "$n" "$vlc_pid" >> "$report" || passed=1
        kill "$vlc_pid" 2>/dev/null || true
        while kill -0 "$vlc_pid" 2>/dev/null; do sleep 0.1; done
        [ "$passed" = 0 ] || break
    done
fi

# Side by side: the most sessions each held over WMSP broadcast, and CPU per Gbit/s at the
# session counts both held.
python3 - "$report" >> "$report" <<'PY'
import re, sys
tables, name = {}, None
for line in open(sys.argv[1]):
    if line.startswith("## "): name = line
    m = re.match(r"\| (\d+) \| (\d+) \| (\d+) % \|.*\| (\d+) % \| (pass|FAIL) \|", line)
    if m and name: tables.setdefault(name, []).append((int(m[1]), int(m[2]), int(m[4]), m[5] == "pass"))
ours = next((v for k, v in tables.items() if "Broadcast over wmsp" in k), [])
vlc = next((v for k, v in tables.items() if "Peer: VLC" in k), [])
if ours and vlc:
    held = lambda rows: max([r[0] for r in rows if r[3]], default=0)
    print("\n## Side by side: WMSP broadcast, Asfcast and VLC\n")
    print(f"- Sessions held (largest passing step): Asfcast {held(ours)}, VLC {held(vlc)}: ratio {held(ours) / max(1, held(vlc)):.2f}.")
    for n, _, cpu, ok in ours:
        peer = next((r for r in vlc if r[0] == n and r[3]), None)
        if ok and peer and peer[2] > 0:
            print(f"- At {n} sessions, server CPU per Gbit/s: Asfcast {cpu} %, VLC {peer[2]} %: ratio {cpu / peer[2]:.2f}.")
PY

cp "$report" BENCHMARKS.md
cat BENCHMARKS.md
