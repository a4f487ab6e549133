# Shared by bench.sh and soak.sh: a work directory removed at exit, the open-file limit, and the
# ~400 kbit/s sample (WMV2 + WMA2, 60 s) both serve, remuxed by `asfcast import` as $1.
bin=${ASFCAST:-$PWD/.build/release/asfcast}
work=$(mktemp -d)
chmod 755 "$work"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

make_sample() {
    mkdir -p "$work/media"
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=640x360:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" -t 60 \
        -c:v wmv2 -b:v 330k -g 25 -c:a wmav2 -b:a 64k -ac 2 "$work/raw.wmv"
    "$bin" import "$work/raw.wmv" "$work/media/$1" >/dev/null
}

# Writes $work/$1.yaml: the server on loopback at the ports wait_for_server knows, serving
# $work/media and logging at level $2, then the lines on standard input.
server_config() {
    {
        printf 'bind: 127.0.0.1\nmedia_root: %s\nhttp_port: 18080\nrtsp_port: 18554\nmms_port: 18755\nlog_level: %s\n' "$work/media" "$2"
        cat
    } > "$work/$1.yaml"
}

# Waits for the server's last listener (MMS on 18755).
wait_for_server() {
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/18755) 2>/dev/null && return; sleep 0.1; done
    echo "server did not start: $(cat "$work/server.log")" >&2; exit 1
}
