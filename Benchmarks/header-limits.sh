#!/usr/bin/env bash
# Measures how large an ASF header each client takes over each protocol (HEADERS.md): WMA files
# whose headers grow with a WM/Picture (mutagen) are served with `fit_headers: false`, so every
# header goes out whole, and each client records each file; a cell is the audio packets it
# received of those in the file. Writes HEADERS-measured.md. Needs `make deps-test`, a release
# build, and ~10 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
out=$PWD/HEADERS-measured.md
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/media"
chmod 777 "$work" "$work/media"
ffmpeg -nostdin -v error -y -f lavfi -i "sine=frequency=440:sample_rate=44100" -t 3 -c:a wmav2 -b:a 64k "$work/media/base.wma"
sizes=(0 4 8 11 12 16 32 60 63 100 200)
for k in "${sizes[@]:1}"; do
    cp "$work/media/base.wma" "$work/media/p$k.wma"
    /usr/bin/python3 - "$work/media/p$k.wma" $((k * 1024)) <<'PY'
import os, struct, sys
from mutagen.asf import ASF, ASFByteArrayAttribute
path, n = sys.argv[1], int(sys.argv[2])
jpeg = b"\xff\xd8\xff\xe0" + os.urandom(n - 6) + b"\xff\xd9"
f = ASF(path)
f["WM/Picture"] = [ASFByteArrayAttribute(struct.pack("<BI", 3, len(jpeg)) + "image/jpeg".encode("utf-16-le") + b"\0\0"
                                         + "cover".encode("utf-16-le") + b"\0\0" + jpeg)]
f.save()
PY
done
server_config limits notice <<YAML
fit_headers: false
YAML
"$bin" serve --config "$work/limits.yaml" > "$work/server.log" 2>&1 &
server=$!
wait_for_server
id asfcast-vlc >/dev/null 2>&1 || useradd -m asfcast-vlc
H=127.0.0.1

count() { ffprobe -v error -select_streams a -show_entries stream=nb_read_packets -count_packets -of csv=p=0 "$1" 2>/dev/null || echo 0; }
ff() { local o=$work/o.asf; rm -f "$o"; timeout -s KILL 20 ffmpeg -nostdin -v error "${@:2}" -i "$1" -map 0:a -c copy -f asf -y "$o" >/dev/null 2>&1; count "$o"; }
vlc() { local o=$work/v.asf; rm -f "$o"; timeout -s KILL 30 runuser -u asfcast-vlc -- cvlc -I dummy -q "$1" --play-and-exit --sout "#std{access=file,mux=asf,dst=$o}" vlc://quit >/dev/null 2>&1; count "$o"; }
gst() { timeout -s KILL 30 gst-launch-1.0 -v rtspsrc location="$1" protocols="$2" ! rtpasfdepay ! asfdemux ! fakesink silent=false 2>&1 | grep -c "last-message = chain"; }

{
echo "| header bytes | in the file | ffmpeg mmsh | ffmpeg http | ffmpeg RTSP/TCP | ffmpeg mmst | VLC mmsh | VLC mmst | VLC mmsu | GStreamer RTSP/TCP | GStreamer RTSP/UDP |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for k in "${sizes[@]}"; do
    f=$([ "$k" = 0 ] && echo base || echo "p$k").wma
    size=$(/usr/bin/python3 -c "import struct,sys; print(struct.unpack('<Q', open(sys.argv[1],'rb').read(24)[16:24])[0] + 50)" "$work/media/$f")
    echo "| $size | $(count "$work/media/$f") | $(ff mmsh://$H:18080/$f) | $(ff http://$H:18080/$f) | $(ff rtsp://$H:18554/$f -rtsp_transport tcp) | $(ff mmst://$H:18755/$f) | $(vlc mmsh://$H:18080/$f) | $(vlc mmst://$H:18755/$f) | $(vlc mmsu://$H:18755/$f) | $(gst rtsp://$H:18554/$f tcp) | $(gst rtsp://$H:18554/$f udp) |"
done
} > "$out"
cat "$out"
