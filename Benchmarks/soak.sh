#!/usr/bin/env bash
# `make soak` (outside CI): the release server on loopback under SESSIONS mixed sessions for
# SOAK_SECONDS (default 5,000 for an hour): every protocol, and the play, seek, openclose and
# switch profiles. The server's RSS and open descriptors are sampled every 10 s; faults are
# injected while it serves: the on-demand file truncated, then replaced; the server stopped
# (SIGSTOP) for 5 s and resumed; the encoder of a pushed point (archived to a full disk) and the
# origin of a relayed point killed and back 30 s later. /metrics and the players are read from the
# admin API every 10 s. At the end ffmpeg must still play.
# Writes RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS=${SOAK_SECONDS:-3600}
SESSIONS=${SESSIONS:-5000}
. Benchmarks/common.sh
server=""; origin=""; pusher=""
loads=()
# The logs outlive the run (in SOAK_LOGS), for what RELIABILITY.md does not say.
logs=${SOAK_LOGS:-/tmp/asfcast-soak-logs}
trap 'for p in "${loads[@]}" $pusher $origin $server; do kill "$p" 2>/dev/null || true; done
      rm -rf "$logs"; mkdir -p "$logs"; cp "$work"/*.log "$work"/load-*.txt "$logs"/ 2>/dev/null || true; rm -rf "$work"' EXIT

make_sample soak.wmv
cp Media/multibitrate.wmv "$work/media/"
cp "$work/media/soak.wmv" "$work/media/ondemand.wmv"
server_config soak notice <<YAML
admin_port: 18090
points:
  - name: live
    path: /live
    broadcast: soak.wmv
  - name: mbr
    path: /mbr
    broadcast: multibitrate.wmv
  - name: push
    path: /push
    push: true
    archive: /dev/full
  - name: edge
    path: /edge
    broadcast: http://127.0.0.1:28080/live
YAML
# The origin the edge relays, on ports of its own.
printf 'bind: 127.0.0.1\nmedia_root: %s\nhttp_port: 28080\nrtsp_port: 28554\nmms_port: 28755\nlog_level: notice\npoints:\n  - name: live\n    path: /live\n    broadcast: soak.wmv\n' \
    "$work/media" > "$work/origin.yaml"
start_origin() { "$bin" serve --config "$work/origin.yaml" >> "$work/origin.log" 2>&1 & origin=$!; }
start_pusher() { "$bin" push --loop --quiet http://127.0.0.1:18080/push "$work/media/soak.wmv" >> "$work/pusher.log" 2>&1 & pusher=$!; }
start_origin
"$bin" serve --config "$work/soak.yaml" > "$work/server.log" 2>&1 &
server=$!
wait_for_server
start_pusher
# The pushed point plays once the encoder's header is in.
for _ in $(seq 50); do timeout -s KILL 10 ffprobe -v quiet mmsh://127.0.0.1:18080/push && break; sleep 0.2; done

# The mix, in tenths of SESSIONS: protocol, profile, URL.
mix=(
  "1 wmsp play mmsh://127.0.0.1:18080/live"
  "1 wmsp play mmsh://127.0.0.1:18080/push"
  "1 rtsp-tcp play rtsp://127.0.0.1:18554/edge"
  "1 rtsp-udp play rtsp://127.0.0.1:18554/live"
  "1 mmst play mms://127.0.0.1:18755/live"
  "1 mmsu play mms://127.0.0.1:18755/live"
  "1 wmsp seek mmsh://127.0.0.1:18080/ondemand.wmv"
  "1 rtsp-tcp openclose rtsp://127.0.0.1:18554/ondemand.wmv"
  "1 mmst switch mms://127.0.0.1:18755/mbr"
  "1 wmsp-pipelined switch mmsh://127.0.0.1:18080/mbr"
)
i=0
for entry in "${mix[@]}"; do
  read -r tenths proto profile url <<<"$entry"
  echo "$(( SESSIONS * tenths / 10 )) × $proto $profile $url" > "$work/load-$i.label"
  "$bin" load "$url" --protocol "$proto" --profile "$profile" --interval 10 --clients $(( SESSIONS * tenths / 10 )) \
      --connect-rate 100 --duration "$SOAK_SECONDS" --error-limit 1000000 --reconnect > "$work/load-$i.txt" 2>&1 &
  loads+=($!)
  i=$((i + 1))
done

samples="$work/samples.csv"
echo "seconds,rss_kib,open_files,log_lines" > "$samples"
start=$(date +%s)
faults=()
truncated=0; replaced=0; stopped=0; encoder_killed=0; origin_killed=0
while true; do
  now=$(( $(date +%s) - start ))
  [ "$now" -ge "$SOAK_SECONDS" ] && break
  echo "$now,$(awk '/VmRSS/ {print $2}' /proc/$server/status),$(ls /proc/$server/fd | wc -l),$(wc -l < "$work/server.log")" >> "$samples"
  # Scraped as Prometheus would, and the players listed as the dashboard does.
  curl -s -o /dev/null http://127.0.0.1:18090/metrics || true
  curl -s -o /dev/null http://127.0.0.1:18090/api/v1/sessions || true
  if [ $truncated = 0 ] && [ "$now" -ge $(( SOAK_SECONDS / 4 )) ]; then
    truncate -s 200000 "$work/media/ondemand.wmv"; truncated=1; faults+=("$now s: ondemand.wmv truncated to 200,000 bytes while served")
  fi
  if [ $replaced = 0 ] && [ "$now" -ge $(( SOAK_SECONDS / 3 )) ]; then
    cp "$work/media/soak.wmv" "$work/media/ondemand.new" && mv "$work/media/ondemand.new" "$work/media/ondemand.wmv"
    replaced=1; faults+=("$now s: ondemand.wmv replaced by a whole copy")
  fi
  if [ $stopped = 0 ] && [ "$now" -ge $(( SOAK_SECONDS / 2 )) ]; then
    kill -STOP "$server"; sleep 5; kill -CONT "$server"; stopped=1; faults+=("$now s: the server stopped (SIGSTOP) for 5 s, then resumed")
  fi
  if [ $encoder_killed = 0 ] && [ "$now" -ge $(( SOAK_SECONDS * 3 / 5 )) ]; then
    if kill -KILL "$pusher" 2>/dev/null; then
      faults+=("$now s: the encoder pushing /push killed (SIGKILL), another started 30 s later")
    else
      faults+=("$now s: the encoder pushing /push had already exited ($(tail -1 "$work/pusher.log")); another started 30 s later")
    fi
    encoder_killed=$now
  elif [ $encoder_killed -gt 0 ] && [ "$now" -ge $(( encoder_killed + 30 )) ]; then
    start_pusher; encoder_killed=-1
  fi
  if [ $origin_killed = 0 ] && [ "$now" -ge $(( SOAK_SECONDS * 7 / 10 )) ]; then
    if kill -KILL "$origin" 2>/dev/null; then
      faults+=("$now s: the origin of /edge killed (SIGKILL), started again 30 s later")
    else
      faults+=("$now s: the origin of /edge had already exited ($(tail -1 "$work/origin.log")); started again 30 s later")
    fi
    origin_killed=$now
  elif [ $origin_killed -gt 0 ] && [ "$now" -ge $(( origin_killed + 30 )) ]; then
    start_origin; origin_killed=-1
  fi
  sleep 10
done
i=0
for p in "${loads[@]}"; do status=0; wait "$p" || status=$?; echo "$status" > "$work/load-$i.status"; i=$((i + 1)); done
loads=()
alive=no; kill -0 "$server" 2>/dev/null && alive=yes
played=$(ffmpeg -nostdin -v error -t 5 -i mmsh://127.0.0.1:18080/live -f null - 2>&1 && echo ok || echo failed)

python3 - "$samples" "$SOAK_SECONDS" "$SESSIONS" "$alive" "$played" "$work" "${faults[@]}" <<'PY' > RELIABILITY.md
import csv, glob, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
seconds, sessions, alive, played, work = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
faults = sys.argv[7:]
# Flatness: the last tenth of the run against the tenth after the ramp (sessions start at 100 a second per load process).
ramp = 120
steady = [r for r in rows if int(r["seconds"]) >= ramp]
tenth = max(1, len(steady) // 10)
def med(rs, k): return statistics.median(int(r[k]) for r in rs)
early_rss, late_rss = med(steady[:tenth], "rss_kib"), med(steady[-tenth:], "rss_kib")
early_fd, late_fd = med(steady[:tenth], "open_files"), med(steady[-tenth:], "open_files")
def change(a, b): return (b - a) / a * 100 if a else 0
log = open(f"{work}/server.log").read().splitlines()
print("# Reliability\n")
print(f"From `make soak` (Benchmarks/soak.sh): the release server on loopback under {sessions:,} mixed sessions for {seconds // 60} minutes,")
print("with the load tool beside it on the same 2-core machine. RSS and open descriptors sampled every 10 s.\n")
print("## Mix\n")
# Each load tool's summary: sessions run (with --reconnect, every ended session comes back), the
# peak playing, and the causes of the sessions that failed.
for f in sorted(glob.glob(f"{work}/load-*.txt")):
    lines = [l.strip() for l in open(f).read().splitlines() if l.strip()]
    label = open(f.replace(".txt", ".label")).read().strip()
    status = open(f.replace(".txt", ".status")).read().strip()
    head = next((l for l in lines if " sessions in " in l), None)
    if head is None:
        print(f"- {label}: no summary (the load tool ended with status {status}; its last line: `{lines[-1] if lines else ''}`)")
        continue
    peak = next((l for l in lines if l.startswith("peak:")), "peak: ?")
    failed = [l.removeprefix("failed: ") for l in lines if l.startswith("failed: ")]
    print(f"- {label}: {head.rsplit(': ', 1)[-1]}, {peak}; failed: {', '.join(failed) if failed else 'none'}")
print("\n## Memory and descriptors\n")
print("| | after the ramp (median of the first tenth) | at the end (median of the last tenth) | change |")
print("|---|---|---|---|")
print(f"| server RSS | {early_rss/1024:.0f} MiB | {late_rss/1024:.0f} MiB | {change(early_rss, late_rss):+.1f} % |")
print(f"| open descriptors | {early_fd:.0f} | {late_fd:.0f} | {change(early_fd, late_fd):+.1f} % |")
print(f"\nFlat within 10 %: {'yes' if abs(change(early_rss, late_rss)) <= 10 and abs(change(early_fd, late_fd)) <= 10 else 'NO'}.")
print("\n## Faults injected\n")
for f in faults: print(f"- {f}")
print(f"\nThe server was {'running' if alive == 'yes' else 'NOT running'} at the end; ffmpeg played 5 s of /live afterwards: {played}.")
print(f"The server wrote {len(log)} log lines in all; those at notice or above, by kind:\n")
kinds = {}
for l in log:
    if " notice " in l or " warning " in l or " error " in l or " critical " in l:
        key = l.split("] ", 1)[-1][:70]
        kinds[key] = kinds.get(key, 0) + 1
for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:15]: print(f"- {n} × `{k}`")
print("\nThe samples, every 10 s:\n\n```")
for r in rows[::30]: print(f"{r['seconds']:>5} s  RSS {int(r['rss_kib'])/1024:6.0f} MiB  fds {r['open_files']:>6}")
print("```")
PY
echo "RELIABILITY.md written"
