#!/usr/bin/env bash
# Writes the test corpus: ASF files from every ASF writer on the machine (issue 15), 4 s each.
#   ffmpeg's muxer at three packet sizes; VLC's muxer; GStreamer's asfmux; a WMA and a WMV
#   tagged with cover art by mutagen (a 100 KB picture goes to the Metadata Library Object, a
#   12 KB one to the Extended Content Description); a partial download cut inside a packet;
#   and `asfcast import` of an MP4.
# Usage: make-corpus.sh OUT_DIR ASFCAST_BINARY. Needs ffmpeg, cvlc, gst-launch-1.0 and
# python3-mutagen (make deps-test). VLC refuses root: as root it runs as the user asfcast-vlc.
set -euo pipefail
out=$1
asfcast=$(realpath "$2")
mkdir -p "$out"
chmod 777 "$out"
cd "$out"
src=source.wmv
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=320x240:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" \
    -t 4 -c:v wmv2 -b:v 300k -g 25 -c:a wmav2 -b:a 64k "$src"

for size in 500 3200 8192; do
    ffmpeg -nostdin -v error -y -i "$src" -c copy -packet_size "$size" "ffmpeg-$size.wmv"
done

vlc_user=()
if [ "$(id -u)" = 0 ]; then
    id asfcast-vlc >/dev/null 2>&1 || useradd -m asfcast-vlc
    vlc_user=(runuser -u asfcast-vlc --)
fi
timeout -s KILL 60 "${vlc_user[@]}" cvlc -I dummy -q "$src" --play-and-exit --sout "#std{access=file,mux=asf,dst=$out/vlc.wmv}" vlc://quit >/dev/null 2>&1
chmod 644 vlc.wmv

timeout -s KILL 60 gst-launch-1.0 -q -e videotestsrc num-buffers=100 ! video/x-raw,width=320,height=240,framerate=25/1 \
    ! avenc_wmv2 bitrate=300000 ! queue ! asfmux name=m ! filesink location=gstreamer.wmv \
    audiotestsrc num-buffers=173 ! audio/x-raw,rate=44100,channels=2 ! avenc_wmav2 bitrate=64000 ! queue ! m. >/dev/null

# Cover art as taggers write it: WM/Picture (type, size, MIME, description, JPEG) via mutagen.
ffmpeg -nostdin -v error -y -f lavfi -i "nullsrc=s=400x400,geq=random(1)*255:128:128" -frames:v 1 -q:v 1 big.jpg
ffmpeg -nostdin -v error -y -f lavfi -i "nullsrc=s=120x120,geq=random(1)*255:128:128" -frames:v 1 -q:v 1 small.jpg
ffmpeg -nostdin -v error -y -i "$src" -vn -c:a copy cover-100k.wma
cp ffmpeg-3200.wmv cover-12k.wmv
/usr/bin/python3 - cover-100k.wma big.jpg cover-12k.wmv small.jpg <<'PY'
import struct, sys
from mutagen.asf import ASF, ASFByteArrayAttribute
for path, picture in zip(sys.argv[1::2], sys.argv[2::2]):
    jpeg = open(picture, "rb").read()
    value = struct.pack("<BI", 3, len(jpeg)) + "image/jpeg".encode("utf-16-le") + b"\0\0" + "cover".encode("utf-16-le") + b"\0\0" + jpeg
    f = ASF(path)
    f["WM/Picture"] = [ASFByteArrayAttribute(value)]
    f["Title"] = ["Cover art"]
    f.save()
PY
rm -f big.jpg small.jpg

# A partial download: cut 1,000 bytes into a packet two thirds of the way through.
/usr/bin/python3 - ffmpeg-3200.wmv truncated.wmv <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
header = struct.unpack("<Q", data[16:24])[0]
packets = (len(data) - header - 50) // 3200
open(sys.argv[2], "wb").write(data[:header + 50 + (packets * 2 // 3) * 3200 + 1000])
PY

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=320x240:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" \
    -t 4 -c:v libx264 -pix_fmt yuv420p -g 25 -c:a aac -b:a 96k -movflags +faststart source.mp4
"$asfcast" import source.mp4 imported.wmv >/dev/null
rm -f source.mp4
