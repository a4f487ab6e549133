import ASF
import Foundation
import Multicast
import NIOCore
import Streaming
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Interop {
    /// Issue 17: a broadcast point sent to a multicast group (MS-MSB) on loopback, announced by
    /// its `.nsc` and `.asx`; VLC reads the `.nsc`, and `asfcast tune` gives ffmpeg and VLC what
    /// they play. No player here plays MSB by itself (MULTICAST.md §3).
    @Suite
    struct MulticastInteropTests {
        /// A server with a looped broadcast `/mc` (served over MSBD too, with `msbdPort`) and a
        /// pushed `/mcpush`, each on a group and port of its own, sent from 127.0.0.1
        /// (MULTICAST.md §6 A), beacons every second.
        static func server(msbdPort: Int = 0, pushMSBDPort: Int = 0, accessLog: String = "") throws -> (ServerProcess, port: Int, pushPort: Int) {
            let port = try ServerProcess.freePort(), pushPort = try ServerProcess.freePort()
            let server = try ServerProcess(config: """
                access_log: "\(accessLog)"
                points:
                  - name: mc
                    path: /mc
                    broadcast: demo.wmv
                    multicast: { group: 239.255.43.1, port: \(port), interface: 127.0.0.1, beacon_seconds: 1 }
                \(msbdPort > 0 ? "    msbd_port: \(msbdPort)" : "")
                  - name: mcpush
                    path: /mcpush
                    push: true
                    multicast: { group: 239.255.43.2, port: \(pushPort), interface: 127.0.0.1, beacon_seconds: 1 }
                \(pushMSBDPort > 0 ? "    msbd_port: \(pushMSBDPort)" : "")
                """)
            return (server, port, pushPort)
        }

        static func get(_ server: ServerProcess, _ path: String) throws -> (status: Int, body: String) {
            let answer = try server.raw("GET \(path) HTTP/1.0\r\nHost: \(server.url)\r\n\r\n")
            let status = Int(answer.split(separator: " ").dropFirst().first ?? "") ?? 0
            return (status, answer.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n"))
        }

        /// `asfcast tune` of `nsc` on 127.0.0.1: its exit status, and its counts line.
        static func tune(_ nsc: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
            try run(ServerProcess.asfcast, ["tune", nsc, "--interface", "127.0.0.1"] + arguments, limit: 90)
        }

        /// A count from tune's summary ("… 3 rebuilt, …").
        static func count(_ name: String, in output: String) -> Int? {
            guard let range = output.range(of: "[0-9]+ \(name)", options: .regularExpression) else { return nil }
            return Int(output[range].split(separator: " ")[0])
        }

        /// What tune wrote plays: its packets decode cleanly, and recorded from it as a user
        /// records the pipe (`ffmpeg -i - -c copy`), both streams, `seconds` long, from a key
        /// frame, decoding cleanly.
        static func expectTunedPlayable(_ raw: String, seconds: Double, _ what: String) throws {
            let errors = try BroadcastInteropTests.decodeErrors(raw)
            #expect(errors.isEmpty, "\(what): \(errors.prefix(600))")
            let recording = temporaryFile("tuned-recording.asf")
            defer { try? FileManager.default.removeItem(atPath: recording) }
            let remux = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", raw, "-c", "copy", "-f", "asf", recording])
            #expect(remux.status == 0, "\(what): \(remux.output)")
            try PushInteropTests.expectPlayable(recording, seconds: seconds, what)
        }

        /// What `path` holds is what the point sent: after its first packet (cut at a key
        /// frame), each packet's payloads are those of the next packet of the looped source file,
        /// stream by stream and byte for byte (send and presentation times move at each loop).
        static func expectSentPackets(_ path: String, source: String, missing: Int = 0, _ what: String) throws {
            // Packets from after the Data Object's header to the end of the file: a tuned stream's
            // Data Object states no size.
            func payloads(_ path: String, packetSize: Int) throws -> [[UInt8]] {
                let bytes = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path)))
                guard let headerSize = bytes.getInteger(at: 16, endianness: .little, as: UInt64.self) else { return [] }
                return try stride(from: Int(headerSize) + 50, to: bytes.readableBytes - packetSize + 1, by: packetSize).map { at in
                    try DataPacket(parsing: bytes.getSlice(at: at, length: packetSize)!).payloads.flatMap { [$0.streamNumber] + Array($0.data.readableBytesView) }
                }
            }
            let packetSize = try ASFFile(path: source).packetSize
            let sent = try payloads(source, packetSize: packetSize), received = try payloads(path, packetSize: packetSize)
            guard received.count > 2, let start = sent.firstIndex(of: received[1]) else {
                Issue.record("\(what): \(received.count) packets, the second not one of the source's")
                return
            }
            // Up to `missing` packets lost on the way may be passed over.
            var next = start, skipped = 0
            for (i, packet) in received.enumerated().dropFirst() {
                while packet != sent[next % sent.count], skipped < missing {
                    next += 1
                    skipped += 1
                }
                guard packet == sent[next % sent.count] else {
                    Issue.record("\(what): packet \(i) of \(received.count) is not the one sent")
                    return
                }
                next += 1
            }
        }

        @Test func theNSCAndASXAnnounceThePointAndVLCReadsTheNSC() throws {
            let accessLog = temporaryFile("access.log")
            defer { try? FileManager.default.removeItem(atPath: accessLog) }
            let (server, port, _) = try Self.server(accessLog: accessLog)
            let nsc = try Self.get(server, "/mc.nsc")
            #expect(nsc.status == 200)
            // Our reader, and VLC's nsc demux (the only player that reads one: MULTICAST.md §3).
            let file = try NSCFile(parsing: nsc.body)
            #expect(file.ipAddress == "239.255.43.1" && Int(file.ipPort) == port && file.timeToLive == 1 && file.defaultECC == 10)
            #expect(file.unicastURL == "mmsh://\(server.url)/mc" && file.logURL == "http://\(server.url)/mc.log")
            let demo = try ASFFile(path: ServerProcess.root.appendingPathComponent("Media/demo.wmv").path)
            #expect(file.formats.map(\.header) == [Array(BroadcastPoint.streamingHeader(of: demo.header).readableBytesView)])
            _ = try run("/usr/sbin/useradd", ["-m", "asfcast-vlc"])
            let path = temporaryFile("mc.nsc")
            try nsc.body.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let vlc = try run("/usr/bin/cvlc", ["-vv", "-I", "dummy", "--play-and-exit", "file://\(path)", "vlc://quit"], user: "asfcast-vlc")
            for line in ["IP Address = 239.255.43.1", "IP Port = \(port)", "Time To Live = 1", "Unicast URL = mmsh://\(server.url)/mc",
                         "NSC Format Version = 3.0", "Format1 = asf header"] {
                #expect(vlc.output.contains("nsc demux debug: \(line)"), "VLC did not print \(line): \(vlc.output.suffix(1500))")
            }
            // The .asx: the .nsc first, then the point over mmsh and RTSP (the rollover).
            let asx = try Self.get(server, "/mc.asx")
            #expect(asx.status == 200)
            let refs = asx.body.components(separatedBy: "href=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
            #expect(refs == ["http://\(server.url)/mc.nsc", "mmsh://\(server.url)/mc", "rtsp://127.0.0.1:\(server.rtspPort)/mc"])
            // The Log URL validates as MS-WMLOG 2.3 asks, and takes a player's log (its example
            // of 3.6, a multicast player's) into the access log.
            #expect(try Self.get(server, "/mc.log").body.contains("<h1>WMS ISAPI Log Dll/"))
            let fields = ["0.0.0.0", "2026-12-02", "10:00:00", "-", "asfm://239.255.43.1:\(port)", "0", "39", "1", "200",
                          "{3300AD50-2C39-46c0-AE0A-0572F2EA5330}", "10.0.0.4054", "en-US", "WMFSDK/10.0.0.4054_WMPlayer/10.0.0.4036", "-",
                          "wmplayer.exe", "10.0.0.3802", "Windows_XP", "5.1.0.2600"] + Array(repeating: "-", count: 26)
            let body = "MX_STATS_LogLine: \t" + fields.joined(separator: " ")
            let posted = try server.raw("POST /mc.log HTTP/1.0\r\nContent-Type: text/plain;charset=UTF-8\r\nUser-Agent: NSPlayer\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(posted.hasPrefix("HTTP/1.0 200"), "\(posted)")
            let logged = (try? String(contentsOfFile: accessLog, encoding: .utf8)) ?? ""
            #expect(logged.contains("127.0.0.1 2026-12-02 10:00:00 - asfm://239.255.43.1:\(port) 0 39 1 200"), "\(logged)")
        }

        @Test func aTunedStreamPlaysInFFmpegAndVLCAsTheFileDoes() throws {
            let (server, _, _) = try Self.server()
            let out = temporaryFile("tuned.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let tuned = try Self.tune("http://\(server.url)/mc.nsc", ["--duration", "8", "-o", out])
            #expect(tuned.status == 0, "\(tuned.output)")
            #expect(Self.count("lost", in: tuned.output) == 0, "\(tuned.output)")
            #expect((Self.count("parity", in: tuned.output) ?? 0) > 0, "\(tuned.output)")
            try Self.expectTunedPlayable(out, seconds: 6, "asfcast tune")
            try Self.expectSentPackets(out, source: PushInteropTests.demo, "asfcast tune")
            // The same streams as ffprobe finds in the file.
            let local = try probe(ServerProcess.root.appendingPathComponent("Media/demo.wmv").path)
            let received = try probe(out)
            for key in ["codec_name", "width", "height", "sample_rate", "channels"] {
                #expect(received.streams.map { "\($0[key] ?? "-")" } == local.streams.map { "\($0[key] ?? "-")" }, "\(key)")
            }
            // ffmpeg from a pipe decodes it without a word.
            let piped = try run("/bin/sh", ["-c", """
                \(ServerProcess.asfcast) tune http://\(server.url)/mc.nsc --interface 127.0.0.1 --duration 6 2>/dev/null | \
                ffmpeg -nostdin -v error -i - -f null -
                """])
            #expect(piped.status == 0 && piped.output.isEmpty, "\(piped.output)")
            // VLC from a pipe (fd://0): its asf demux finds both streams and both decoders start.
            let vlc = try run("/bin/sh", ["-c", """
                \(ServerProcess.asfcast) tune http://\(server.url)/mc.nsc --interface 127.0.0.1 --duration 6 2>/dev/null | \
                runuser -u asfcast-vlc -- cvlc -vv -I dummy --play-and-exit --vout dummy --aout dummy fd://0 vlc://quit
                """])
            #expect(vlc.output.contains("asf demux debug: found 2 streams"), "\(vlc.output.suffix(2000))")
            #expect(vlc.output.contains("codec (wmv2) started") && vlc.output.contains("codec (wmav2) started"), "\(vlc.output.suffix(2000))")
            let warnings = vlc.output.split(separator: "\n").filter { $0.contains("asf demux warning") && !$0.contains("unexpected end of file") }
            #expect(warnings.isEmpty, "\(warnings)")
        }

        @Test func nothingOnTheGroupRollsOverToTheUnicastURL() throws {
            let (server, _, _) = try Self.server()
            var nsc = try NSCFile(parsing: try Self.get(server, "/mc.nsc").body)
            nsc.ipPort = UInt16(try ServerProcess.freePort())
            let path = temporaryFile("silent.nsc"), out = temporaryFile("rollover.asf")
            try nsc.text.write(toFile: path, atomically: true, encoding: .utf8)
            defer { for p in [path, out] { try? FileManager.default.removeItem(atPath: p) } }
            let tuned = try Self.tune(path, ["--open-timeout", "2", "--duration", "8", "-o", out])
            #expect(tuned.status == 0, "\(tuned.output)")
            #expect(tuned.output.contains("rolling over to mmsh://\(server.url)/mc"), "\(tuned.output)")
            try Self.expectTunedPlayable(out, seconds: 6, "the rollover")
        }

        @Test func aPushedPointBeaconsUntilItsEncoderComesThenSendsItsHeader() throws {
            let (server, _, pushPort) = try Self.server()
            #expect(try Self.get(server, "/mcpush.nsc").status == 503)
            // Before the encoder: beacons only, once a second (MS-MSB 3.1.5.1).
            let demo = try ASFFile(path: PushInteropTests.demo)
            var silent = NSCFile(ipAddress: "239.255.43.2", ipPort: UInt16(pushPort),
                                 formats: [NSCFile.Format(streamingHeader: BroadcastPoint.streamingHeader(of: demo.header))])
            silent.unicastURL = nil
            let path = temporaryFile("push.nsc"), out = temporaryFile("push.asf")
            try silent.text.write(toFile: path, atomically: true, encoding: .utf8)
            defer { for p in [path, out] { try? FileManager.default.removeItem(atPath: p) } }
            let waiting = try Self.tune(path, ["--duration", "3.5", "-o", "/dev/null"])
            #expect((Self.count("beacons", in: waiting.output) ?? 0) >= 3, "\(waiting.output)")
            #expect(Self.count("packets", in: waiting.output) == 0, "\(waiting.output)")
            // The encoder's header is announced and its stream sent.
            let pusher = try ClientRun(ServerProcess.asfcast, ["push", "--loop", "--quiet", "http://\(server.url)/mcpush", PushInteropTests.demo])
            defer { try? PushInteropTests.stop(pusher) }
            try PushInteropTests.waitForLog(server, "point mcpush: 2 streams")
            let nsc = try Self.get(server, "/mcpush.nsc")
            #expect(nsc.status == 200)
            let first = try NSCFile(parsing: nsc.body)
            #expect(first.formats.count == 1)
            // A tuner of that .nsc, through a new encoder's header of other streams.
            let before = try ClientRun(ServerProcess.asfcast, ["tune", "http://\(server.url)/mcpush.nsc", "--interface", "127.0.0.1",
                                                               "--duration", "16", "-o", out])
            usleep(8_000_000)
            try PushInteropTests.stop(pusher)
            let audio = ServerProcess.root.appendingPathComponent("Media/audio.wma").path
            let second = try ClientRun(ServerProcess.asfcast, ["push", "--loop", "--quiet", "http://\(server.url)/mcpush", audio])
            defer { try? PushInteropTests.stop(second) }
            try PushInteropTests.waitForLog(server, "other streams: a new broadcast")
            let tuned = try before.finish()
            // What came before the change plays; the packets after it, under a Format its .nsc
            // did not list, were ignored and counted (MS-MSB 3.2.5.2), and the tuner says so.
            #expect(tuned.status == 1 && tuned.output.contains("does not list (a new header): fetch the .nsc again"), "\(tuned.output)")
            try Self.expectTunedPlayable(out, seconds: 6, "a tuned push point")
            #expect((Self.count("of unknown formats", in: tuned.output) ?? 0) > 0, "\(tuned.output)")
            // The .nsc now lists both headers, each under its own Format ID, and a tuner of it
            // records the new stream.
            let changed = try NSCFile(parsing: try Self.get(server, "/mcpush.nsc").body)
            #expect(changed.formats.count == 2 && Set(changed.formats.map(\.id)).count == 2 && changed.formats[0] == first.formats[0])
            let after = temporaryFile("push-after.asf")
            defer { try? FileManager.default.removeItem(atPath: after) }
            let retuned = try Self.tune("http://\(server.url)/mcpush.nsc", ["--duration", "6", "-o", after])
            #expect(retuned.status == 0, "\(retuned.output)")
            #expect((Self.count("packets", in: retuned.output) ?? 0) > 0, "\(retuned.output)")
            let received = try probe(after)
            #expect(received.streams.map { $0["codec_type"] as? String } == ["audio"], "\(received.streams)")
        }

        /// A relay that joins `from` on 127.0.0.1 and sends what arrives on to `to`, all but every
        /// 13th datagram (a span and its parity are 11: at most one lost per span), for `seconds`.
        /// It is also a receiver of the test's own, checking each datagram as MS-MSB has it: a
        /// 4-byte beacon, or an MSB packet whose wPacketSize is its length (2.2.3, 2.2.4), IDs
        /// rising by one and a parity repeating the last (2.2.2), each parity the XOR of its
        /// span (bytes 3 on, zero-padded), and the TTL it left with (IP_RECVTTL, MULTICAST.md §6 C).
        static let lossyRelay = """
            import socket, struct, sys, time
            group, port, to_group, to_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
            end = time.monotonic() + float(sys.argv[5])
            r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            r.bind((group, port))
            r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton("127.0.0.1"))
            r.setsockopt(socket.IPPROTO_IP, 12, 1)  # IP_RECVTTL
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
            n, last, ttls, problems, span, cycle, parities = 0, None, set(), [], [], None, 0
            r.settimeout(1)
            while time.monotonic() < end:
                try:
                    data, ancillary, _, _ = r.recvmsg(65536, 64)
                except socket.timeout:
                    continue
                ttls.update(struct.unpack("i", d)[0] for level, kind, d in ancillary if kind == 2)
                n += 1
                if n % 13 != 5:
                    s.sendto(data, (to_group, to_port))
                if len(data) == 4:
                    if data != b"MSB ": problems.append("a 4-byte datagram that is not a beacon")
                    continue
                pid, sid, size = struct.unpack("<IHH", data[:8])
                if size != len(data): problems.append(f"wPacketSize {size} in {len(data)} bytes")
                packet = data[8:]
                parity = packet[0] & 0x10 != 0 and packet[1] & 0x0F == 2
                if packet[2] != cycle: span, cycle = [], packet[2]
                if parity:
                    if pid != last: problems.append(f"a parity with ID {pid} after {last}")
                    if len(span) == (packet[1] >> 4) - 1:
                        xor = bytearray(len(packet) - 3)
                        for p in span:
                            for i, b in enumerate(p[3:]): xor[i] ^= b
                        if bytes(xor) != packet[3:]: problems.append(f"parity {pid} is not the XOR of its span")
                        parities += 1
                else:
                    if last is not None and pid != (last + 1) % 2**32: problems.append(f"ID {pid} after {last}")
                    last = pid
                    span.append(packet)
            print("ttl", sorted(ttls), "datagrams", n, "parities checked", parities, "problems", problems[:5], flush=True)
            """

        /// Datagrams lost on the way (here dropped by a relay: this kernel has no netem) are
        /// rebuilt from the parity (MS-MSB 3.2.5.3), and the stream decodes as if none was lost.
        /// The datagrams leave with the configured TTL.
        @Test func packetsLostOnTheWayAreRebuiltFromParity() throws {
            let (server, port, _) = try Self.server()
            let relayPort = try ServerProcess.freePort()
            let relay = try ClientRun("/usr/bin/python3", ["-c", Self.lossyRelay, "239.255.43.1", "\(port)", "239.255.43.4", "\(relayPort)", "35"])
            var nsc = try NSCFile(parsing: try Self.get(server, "/mc.nsc").body)
            (nsc.ipAddress, nsc.ipPort) = ("239.255.43.4", UInt16(relayPort))
            let path = temporaryFile("lossy.nsc"), out = temporaryFile("lossy.asf")
            try nsc.text.write(toFile: path, atomically: true, encoding: .utf8)
            defer { for p in [path, out] { try? FileManager.default.removeItem(atPath: p) } }
            let tuned = try Self.tune(path, ["--duration", "25", "-o", out])
            let relayed = try relay.finish()
            #expect(relayed.output.hasPrefix("ttl [1] "), "\(relayed.output)")
            #expect(relayed.output.contains("problems []"), "\(relayed.output)")
            #expect(!relayed.output.contains("parities checked 0 "), "\(relayed.output)")
            #expect(tuned.status == 0, "\(tuned.output)")
            // About 300 datagrams in 25 s: some 20 data packets dropped, each alone in its span;
            // only those of the first span (the tuner joins inside it, so has not all the rest)
            // and of the last (its parity not sent yet) can stay lost.
            let rebuilt = Self.count("rebuilt", in: tuned.output) ?? 0, lost = Self.count("lost", in: tuned.output) ?? -1
            #expect(rebuilt >= 10, "\(tuned.output)")
            #expect((0...2).contains(lost), "\(tuned.output)")
            try Self.expectTunedPlayable(out, seconds: 20, "a stream with lost datagrams")
            try Self.expectSentPackets(out, source: PushInteropTests.demo, missing: max(0, lost), "a stream with lost datagrams")
        }

        /// One sender reaches two receivers on other hosts of its network, over IPv4 and IPv6:
        /// network namespaces joined by a bridge (MULTICAST.md §6 E), the server in one, a tuner
        /// in each of two others, each joined on its own interface.
        @Test func receiversOnOtherHostsOfTheNetworkGetTheStreamOverIPv4AndIPv6() throws {
            let tag = "am\(getpid() % 100_000)"
            let hosts = ["s", "b", "c"]
            func ip(_ arguments: [String]) throws {
                let result = try run("/usr/sbin/ip", arguments)
                #expect(result.status == 0, "ip \(arguments.joined(separator: " ")): \(result.output)")
            }
            defer { for name in hosts + ["hub"] { _ = try? run("/usr/sbin/ip", ["netns", "delete", "\(tag)\(name)"]) } }
            for name in hosts + ["hub"] { try ip(["netns", "add", "\(tag)\(name)"]) }
            try ip(["-n", "\(tag)hub", "link", "add", "br0", "type", "bridge"])
            try ip(["-n", "\(tag)hub", "link", "set", "br0", "up"])
            for (i, name) in hosts.enumerated() {
                let host = "\(tag)\(name)", port = "\(tag)\(name)p"
                try ip(["link", "add", host, "type", "veth", "peer", "name", port])
                try ip(["link", "set", host, "netns", host])
                try ip(["link", "set", port, "netns", "\(tag)hub"])
                try ip(["-n", "\(tag)hub", "link", "set", port, "master", "br0", "up"])
                try ip(["-n", host, "addr", "add", "10.201.0.\(i + 1)/24", "dev", host])
                try ip(["-n", host, "addr", "add", "fd42::\(i + 1)/64", "dev", host, "nodad"])
                try ip(["-n", host, "link", "set", host, "up"])
                try ip(["-n", host, "link", "set", "lo", "up"])
            }
            let config = temporaryFile("bridge.yaml")
            try """
                bind: 10.201.0.1
                http_port: 18191
                rtsp_port: 18192
                mms_port: 18193
                media_root: \(ServerProcess.root.appendingPathComponent("Media").path)
                points:
                  - name: v4
                    path: /v4
                    broadcast: demo.wmv
                    multicast: { group: 239.255.44.1, port: 18194, interface: 10.201.0.1 }
                  - name: v6
                    path: /v6
                    broadcast: demo.wmv
                    multicast: { group: "ff15::4242", port: 18195, interface: "fd42::1" }
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let server = try ClientRun("/usr/sbin/ip", ["netns", "exec", "\(tag)s", ServerProcess.asfcast, "serve", "--config", config])
            defer {
                _ = try? run("/usr/sbin/ip", ["netns", "pids", "\(tag)s"]).output.split(separator: "\n").compactMap { Int32($0) }.map { kill($0, SIGKILL) }
                _ = try? server.finish()
            }
            var files = [config]
            defer { for f in files { try? FileManager.default.removeItem(atPath: f) } }
            var tuners: [(what: String, run: ClientRun, out: String)] = []
            for point in ["v4", "v6"] {
                let nsc = temporaryFile("\(point).nsc")
                let written = try run(ServerProcess.asfcast, ["nsc", "--config", config, point, "-o", nsc])
                #expect(written.status == 0, "\(written.output)")
                files.append(nsc)
                for (i, name) in hosts.enumerated().dropFirst() {
                    let out = temporaryFile("\(point)-\(name).asf")
                    files.append(out)
                    let interface = point == "v4" ? "10.201.0.\(i + 1)" : "fd42::\(i + 1)"
                    tuners.append(("\(point) on \(interface)", try ClientRun("/usr/sbin/ip", [
                        "netns", "exec", "\(tag)\(name)", ServerProcess.asfcast, "tune", nsc, "--interface", interface, "--duration", "15", "-o", out,
                    ]), out))
                }
            }
            for tuner in tuners {
                let result = try tuner.run.finish()
                #expect(result.status == 0, "\(tuner.what): \(result.output)")
                #expect(Self.count("lost", in: result.output) == 0, "\(tuner.what): \(result.output)")
                try Self.expectTunedPlayable(tuner.out, seconds: 13, "tune \(tuner.what)")
                try Self.expectSentPackets(tuner.out, source: PushInteropTests.demo, "tune \(tuner.what)")
            }
        }

        /// An MSBD client's connection, message by message, as the test reads it.
        final class MSBDConnection {
            private let fd: Int32
            private var pending = [UInt8]()

            /// Connects and sends `request`.
            init(port: Int, _ request: MSBDMessage) throws {
                guard let fd = ServerProcess.connectedSocket(port: port) else { throw Failure("cannot connect to MSBD port \(port)") }
                self.fd = fd
                var timeout = timeval(tv_sec: 30, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var bytes = ByteBuffer()
                request.write(to: &bytes)
                _ = Array(bytes.readableBytesView).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            }

            deinit { close(fd) }

            /// The next whole message (cbMessage at bytes 8-11).
            func next() throws -> MSBDMessage {
                var chunk = [UInt8](repeating: 0, count: 65536)
                while pending.count < 16 || pending.count < Int(pending[8]) | Int(pending[9]) << 8 {
                    let n = recv(fd, &chunk, chunk.count, 0)
                    guard n > 0 else { throw Failure("the MSBD connection ended after \(pending.count) bytes of a message") }
                    pending += chunk[0..<n]
                }
                let size = Int(pending[8]) | Int(pending[9]) << 8
                defer { pending.removeFirst(size) }
                return try MSBDMessage(parsing: ByteBuffer(bytes: pending.prefix(size)))
            }
        }

        /// The first MSBD message the server answers `request` with, on a connection of its own.
        static func msbdAnswer(port: Int, _ request: MSBDMessage) throws -> MSBDMessage {
            try MSBDConnection(port: port, request).next()
        }

        /// MS-MSBD: a point served as Windows Media Encoder served WMS 4.1 plays to its end as
        /// the group's does, and a client asking for multicast is given the point's group.
        @Test func aPointServedOverMSBDPlaysAndGivesItsGroup() throws {
            let msbdPort = try ServerProcess.freePort()
            let (server, port, _) = try Self.server(msbdPort: msbdPort)
            let out = temporaryFile("msbd.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let tuned = try Self.tune("msbd://127.0.0.1:\(msbdPort)", ["--duration", "8", "-o", out])
            #expect(tuned.status == 0, "\(tuned.output)")
            try Self.expectTunedPlayable(out, seconds: 6, "asfcast tune msbd://")
            try Self.expectSentPackets(out, source: PushInteropTests.demo, "asfcast tune msbd://")
            let multicast = try Self.msbdAnswer(port: msbdPort, .requestConnect(flags: 2, channel: "NetShow"))
            #expect(multicast == .responseConnect(hr: 0, headerInNSC: true, group: (0xEFFF_2B01, UInt16(port))))
            let odd = try Self.msbdAnswer(port: msbdPort, .requestConnect(flags: 5, channel: "NetShow"))
            #expect(odd == .responseConnect(hr: MSBDSession.invalidArgument, headerInNSC: false, group: nil))
            #expect(try Self.get(server, "/mc.nsc").status == 200)
        }

        /// A multicast setting that cannot work stops the start, saying which and why.
        @Test func aSettingThatCannotWorkStopsTheStart() throws {
            let config = temporaryFile("bad-multicast.yaml")
            defer { try? FileManager.default.removeItem(atPath: config) }
            try """
                bind: 127.0.0.1
                http_port: \(try ServerProcess.freePort())
                rtsp_port: \(try ServerProcess.freePort())
                mms_port: \(try ServerProcess.freePort())
                media_root: \(ServerProcess.root.appendingPathComponent("Media").path)
                points:
                  - name: mc
                    path: /mc
                    broadcast: demo.wmv
                    multicast: { group: 239.255.43.5, port: 5004, interface: 192.0.2.77 }
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let started = try run(ServerProcess.asfcast, ["serve", "--config", config], limit: 30)
            #expect(started.status == 1, "\(started.output)")
            #expect(started.output.contains("point mc: cannot multicast to 239.255.43.5 port 5004: interface 192.0.2.77 is not an address of this machine"),
                    "\(started.output)")
        }

        /// MSBD through an encoder's new header of other streams (MS-MSBD 4.2): a new
        /// IND_STREAMINFO under another wStreamId, then that stream's packets under it.
        @Test func anMSBDClientGetsTheNextStreamOfAPushedPoint() throws {
            let msbdPort = try ServerProcess.freePort()
            let (server, _, _) = try Self.server(pushMSBDPort: msbdPort)
            let pusher = try ClientRun(ServerProcess.asfcast, ["push", "--loop", "--quiet", "http://\(server.url)/mcpush", PushInteropTests.demo])
            try PushInteropTests.waitForLog(server, "point mcpush: 2 streams")
            let connection = try MSBDConnection(port: msbdPort, .requestConnect(flags: 1, channel: "NetShow"))
            let next = connection.next
            guard case .responseConnect(0, _, nil) = try next(), case let .streamInfo(first, false, 0) = try next() else {
                throw Failure("no RES_CONNECT and IND_STREAMINFO")
            }
            guard case let .packet(_, id, _) = try next() else { throw Failure("no IND_PACKET") }
            #expect(id == first.streamID)
            try PushInteropTests.stop(pusher)
            let audio = ServerProcess.root.appendingPathComponent("Media/audio.wma").path
            let second = try ClientRun(ServerProcess.asfcast, ["push", "--loop", "--quiet", "http://\(server.url)/mcpush", audio])
            defer { try? PushInteropTests.stop(second) }
            var message = try next()
            while case .packet = message { message = try next() }
            guard case let .streamInfo(info, false, 0) = message else { throw Failure("after the packets: \(message), not an IND_STREAMINFO") }
            #expect(info.streamID != first.streamID)
            #expect(try ASFHeader(parsing: ByteBuffer(bytes: info.header)).streams.map(\.kind) == [.audio])
            guard case let .packet(_, nextID, _) = try next() else { throw Failure("no IND_PACKET of the new stream") }
            #expect(nextID == info.streamID)
        }
    }
}
