#!/usr/bin/env bash
# Regenerates the sample content in Media/ with ffmpeg and asfcast.
# Usage: Media/make-media.sh [path/to/asfcast]   (default: .build/debug/asfcast)
# demo.wmv and multibitrate.wmv pass through `asfcast import`, which adds what ffmpeg's muxer
# leaves out (Stream Bitrate Properties, the Bitrate Mutual Exclusion); audio.wma and noindex.wmv
# stay exactly as ffmpeg wrote them, so the tests also read files of a writer other than ours.
set -euo pipefail
cd "$(dirname "$0")"
asfcast=$(realpath "${1:-../.build/debug/asfcast}")
ff=(ffmpeg -nostdin -v error -y -bitexact)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# demo.wmv: WMV2 320x240 15 fps + WMA2 stereo, 20 s, a key frame every second.
"${ff[@]}" -f lavfi -i "testsrc=size=320x240:rate=15" -f lavfi -i "sine=frequency=440:sample_rate=44100" -t 20 \
    -c:v wmv2 -b:v 250k -g 15 -c:a wmav2 -b:a 64k -ac 2 "$tmp/demo.wmv"
"$asfcast" import "$tmp/demo.wmv" demo.wmv

# audio.wma: WMA2 only, 20 s.
"${ff[@]}" -f lavfi -i "sine=frequency=660:sample_rate=44100" -t 20 -c:a wmav2 -b:a 64k -ac 2 audio.wma

# multibitrate.wmv: one picture at three sizes and bit rates, plus mono audio, 10 s.
"${ff[@]}" -f lavfi -i "testsrc=size=320x240:rate=15" -f lavfi -i "sine=frequency=440:sample_rate=44100" -t 10 \
    -filter_complex "[0:v]split=3[a][b][c];[b]scale=240:180[b2];[c]scale=160:120[c2]" \
    -map "[a]" -map "[b2]" -map "[c2]" -map 1:a \
    -c:v wmv2 -q:v:0 4 -q:v:1 10 -q:v:2 24 -g 30 -c:a wmav2 -b:a 32k -ac 1 "$tmp/multibitrate.wmv"
"$asfcast" import "$tmp/multibitrate.wmv" multibitrate.wmv

# noindex.wmv: the same streams as demo.wmv (a playlist can follow one with the other), 8 s,
# cut after the Data Object so that it has no index.
"${ff[@]}" -f lavfi -i "testsrc2=size=320x240:rate=15" -f lavfi -i "sine=frequency=880:sample_rate=44100" -t 8 \
    -c:v wmv2 -b:v 250k -g 15 -c:a wmav2 -b:a 64k -ac 2 "$tmp/noindex.wmv"
python3 - "$tmp/noindex.wmv" noindex.wmv <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
header_size = struct.unpack_from('<Q', data, 16)[0]
data_size = struct.unpack_from('<Q', data, header_size + 16)[0]
open(sys.argv[2], 'wb').write(data[:header_size + data_size])
PY
ls -l demo.wmv audio.wma multibitrate.wmv noindex.wmv

# Test fixtures that are not ASF: an MPEG-4 + MP3 Matroska clip that imports, and an Opus tone
# whose codec ASF cannot carry.
fixtures=../Tests/Fixtures
mkdir -p "$fixtures"
"${ff[@]}" -f lavfi -i "testsrc=size=160x120:rate=15" -f lavfi -i "sine=frequency=550:sample_rate=22050" -t 3 \
    -c:v mpeg4 -b:v 100k -c:a mp3 -b:a 32k -ac 1 "$fixtures/clip.mkv"
"${ff[@]}" -f lavfi -i "sine=frequency=330:sample_rate=48000" -t 1 -c:a libopus -b:a 16k "$fixtures/tone.opus"
