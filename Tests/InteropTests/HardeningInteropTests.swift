import Foundation
import Streaming
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection to the server for a conversation of several requests (RTSP).
final class RawConnection {
    let fd: Int32
    private var pending = [UInt8]()

    init(port: Int, from source: String? = nil) throws {
        guard let fd = RawConnection.socket(port: port, from: source, blocking: true) else { throw Failure("cannot connect to \(port)") }
        self.fd = fd
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// A socket to the loopback `port`, bound first to `source` (another loopback address).
    static func socket(port: Int, from source: String?, blocking: Bool) -> Int32? {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        func address(_ ip: String, _ port: Int) -> sockaddr_in {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(UInt16(port).bigEndian)
            a.sin_addr.s_addr = inet_addr(ip)
            return a
        }
        if let source {
            var local = address(source, 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard bound else { close(fd); return nil }
        }
        var remote = address("127.0.0.1", port)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { close(fd); return nil }
        if !blocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return fd
    }

    func send(_ text: String) {
        _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// One RTSP response: its head and its body, by Content-Length; nil when the server closed.
    func response() -> (head: String, body: String)? {
        while true {
            if let end = pending.indices.dropLast(3).first(where: { pending[$0] == 13 && pending[$0 + 1] == 10 && pending[$0 + 2] == 13 && pending[$0 + 3] == 10 }) {
                let head = String(decoding: pending[..<end], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if pending.count >= end + 4 + length {
                    let body = String(decoding: pending[(end + 4)..<(end + 4 + length)], as: UTF8.self)
                    pending.removeFirst(end + 4 + length)
                    return (head, body)
                }
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            pending += chunk[0..<n]
        }
    }
}

extension Interop {
    /// Issue 14: hostile input, slow and flooding clients, Digest and address lists, against
    /// `asfcast serve` as a process; after each, ffmpeg still plays.
    @Suite
    struct HardeningInteropTests {
        static let player = "User-Agent: NSPlayer/7.10.0.3059\r\n"

        /// ffmpeg plays the first 3 s of demo.wmv over mmsh: the server still serves.
        static func ffmpegStillPlays(_ server: ServerProcess) throws {
            let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-t", "3", "-i", "mmsh://\(server.url)/demo.wmv", "-f", "null", "-"])
            #expect(result.status == 0, "ffmpeg after the attack: \(result.output)")
        }

        /// The four inputs that stopped the server (SIGILL) before: each gets an error answer.
        @Test func inputsThatTrappedAreAnsweredWithErrors() throws {
            let server = try ServerProcess()
            // Two Plays on one pipelined connection: the second gets 400 after the first
            // response is ended, then the connection closes.
            let play = "GET /demo.wmv HTTP/1.1\r\nHost: x\r\n\(Self.player)Pragma: xPlayStrm=1\r\nPragma: version11-enabled=1\r\n\r\n"
            let twice = try server.raw(play + play)
            #expect(twice.hasPrefix("HTTP/1.1 200"), "\(twice.prefix(60))")
            #expect(twice.contains("HTTP/1.0 400"), "the second Play is refused")
            // Positions past any content: played from where the index says, or ended.
            for time in ["18446744073709551615", "99999999999999999"] {
                let answer = try server.raw("GET /demo.wmv HTTP/1.0\r\n\(Self.player)Pragma: xPlayStrm=1,stream-time=\(time)\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.0 200"), "stream-time=\(time): \(answer.prefix(60))")
            }
            // RTSP: a Range no time is, and a client port with no RTCP port after it.
            let rtsp = try RawConnection(port: server.rtspPort)
            let base = "rtsp://\(server.rtspURL)/demo.wmv"
            rtsp.send("DESCRIBE \(base) RTSP/1.0\r\nCSeq: 1\r\n\r\n")
            #expect(rtsp.response()?.head.hasPrefix("RTSP/1.0 200") == true)
            rtsp.send("SETUP \(base)/stream=1 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/UDP;unicast;client_port=65535\r\n\r\n")
            #expect(rtsp.response()?.head.hasPrefix("RTSP/1.0 461") == true, "client_port=65535 leaves no RTCP port")
            rtsp.send("SETUP \(base)/stream=1 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n")
            let setup = try #require(rtsp.response())
            let session = try #require(setup.head.split(separator: "\r\n").first { $0.hasPrefix("Session:") }?.dropFirst(8)
                .split(separator: ";").first?.trimmingCharacters(in: .whitespaces))
            for (cseq, range) in [(4, "npt=1e300-"), (5, "npt=inf-"), (6, "npt=nan-"), (7, "npt=1e15-")] {
                rtsp.send("PLAY \(base) RTSP/1.0\r\nCSeq: \(cseq)\r\nSession: \(session)\r\nRange: \(range)\r\n\r\n")
                #expect(rtsp.response()?.head.hasPrefix("RTSP/1.0 457") == true, "Range: \(range)")
            }
            try Self.ffmpegStillPlays(server)
            #expect(!server.logText.contains("Fatal error"))
        }

        /// 2,000 connections per TCP listener that send a byte a second and never finish a
        /// request are all closed by the server within its header timeout (2 s here), while
        /// ffmpeg plays the whole of demo.wmv.
        @Test func slowConnectionsAreClosedWhileFFmpegPlays() throws {
            var limit = rlimit()
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            limit.rlim_cur = limit.rlim_max
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            let server = try ServerProcess(config: """
                request_header_timeout_seconds: 2
                max_connections_per_address: 0
                max_connection_rate_per_address: 0
                """)
            let out = temporaryFile("slow.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let ffmpeg = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(server.url)/demo.wmv", "-c", "copy", "-f", "asf", out])
            let perListener = 2000
            var sockets: [Int32] = []
            for port in [server.port, server.rtspPort, server.mmsPort] {
                for i in 0..<perListener {
                    // From 127.0.0.2-9, so that the test's own ports last.
                    guard let fd = RawConnection.socket(port: port, from: "127.0.0.\(2 + i % 8)", blocking: false) else {
                        throw Failure("cannot open slow connection \(i) to \(port)")
                    }
                    sockets.append(fd)
                }
            }
            let opened = Date()
            var open = Set(sockets)
            var byte: UInt8 = UInt8(ascii: "G")
            // Until every one is closed by the server (bounded: the watchdog of 60 s).
            while !open.isEmpty, Date().timeIntervalSince(opened) < 60 {
                for fd in open {
                    var chunk = [UInt8](repeating: 0, count: 64)
                    let n = recv(fd, &chunk, chunk.count, 0)
                    if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                        open.remove(fd)
                    } else {
                        _ = send(fd, &byte, 1, Int32(MSG_NOSIGNAL))
                    }
                }
                usleep(500_000)  // the trickle's pace: a byte per connection every half second
            }
            let closedAfter = Date().timeIntervalSince(opened)
            for fd in sockets { close(fd) }
            #expect(open.isEmpty, "\(open.count) of \(sockets.count) slow connections still open after \(Int(closedAfter)) s")
            let played = try ffmpeg.finish()
            #expect(played.status == 0 && played.output.isEmpty, "\(played.output)")
            let video = try probe(out).streams.first { $0["codec_type"] as? String == "video" }
            #expect(video?["nb_read_packets"] as? String == "300", "ffmpeg got every frame while the slow clients were closed")
            #expect(server.logText.contains("by the request timeouts"))
        }

        /// One address opening 200 connections holds no more than its cap (50); the rest are
        /// closed at once, and a player from another address plays meanwhile.
        @Test func aConnectionFloodFromOneAddressIsCapped() throws {
            let server = try ServerProcess(config: "max_connections_per_address: 50\nmax_connection_rate_per_address: 0\n")
            var sockets: [Int32] = []
            for _ in 0..<200 {
                if let fd = RawConnection.socket(port: server.port, from: "127.0.0.7", blocking: true) { sockets.append(fd) }
            }
            defer { for fd in sockets { close(fd) } }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            var refused = 0
            for fd in sockets {
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var probe = UInt8(0)
                // A refused connection reads its end at once; a held one waits for a request.
                timeout = timeval(tv_sec: 0, tv_usec: 200_000)
                if recv(fd, &probe, 1, 0) == 0 { refused += 1 }
            }
            #expect(refused == 150, "\(refused) of 200 closed at once")
            try Self.ffmpegStillPlays(server)
            #expect(server.logText.components(separatedBy: "connections refused: already").count == 2, "the flood is logged once")
        }

        /// ffmpeg plays a Digest-protected point over RTSP and HTTP with the right credentials
        /// and is refused without them; curl --digest downloads it; a replayed nonce-count is
        /// refused.
        @Test func digestProtectsAPointForFFmpegAndCurl() throws {
            let server = try ServerProcess(config: "points:\n  - path: /private\n    directory: \(ServerProcess.root.path)/Media\n    users:\n      alice: secret\n")
            for url in ["rtsp://alice:secret@\(server.rtspURL)/private/demo.wmv", "http://alice:secret@\(server.url)/private/demo.wmv"] {
                let out = temporaryFile("digest.asf")
                defer { try? FileManager.default.removeItem(atPath: out) }
                let transport = url.hasPrefix("rtsp") ? ["-rtsp_transport", "tcp"] : []
                let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y"] + transport + ["-i", url, "-c", "copy", "-f", "asf", out])
                #expect(result.status == 0 && result.output.isEmpty, "\(url): \(result.output)")
                let video = try probe(out).streams.first { $0["codec_type"] as? String == "video" }
                #expect(video?["nb_read_packets"] as? String == "300", "\(url)")
                let refused = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error"] + transport
                                      + ["-i", url.replacingOccurrences(of: "alice:secret@", with: "alice:guess@"), "-f", "null", "-"])
                #expect(refused.status != 0 && refused.output.contains("401"), "\(url) with a wrong password: \(refused.output)")
            }
            let curl = try run("/usr/bin/curl", ["-s", "--digest", "-u", "alice:secret", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                                 "http://\(server.url)/private/demo.wmv"])
            let size = try FileManager.default.attributesOfItem(atPath: ServerProcess.root.path + "/Media/demo.wmv")[.size] as! Int
            #expect(curl.output == "200 \(size)")
            // The same Digest response twice: the first plays, the second is a replay.
            let challenge = try server.raw("GET /private/demo.wmv HTTP/1.0\r\n\r\n").split(separator: "\r\n")
                .first { $0.hasPrefix("WWW-Authenticate: Digest") }.map { String($0.dropFirst("WWW-Authenticate: ".count)) }
            let offered = try #require(challenge)
            let answer = try #require(Credentials(user: "alice", password: "secret").digest(answering: offered, method: "GET", uri: "/private/demo.wmv"))
            let request = "GET /private/demo.wmv HTTP/1.0\r\nAuthorization: \(answer)\r\n\r\n"
            #expect(try server.raw(request).hasPrefix("HTTP/1.0 200"))
            #expect(try server.raw(request).hasPrefix("HTTP/1.0 401"), "a replayed nonce-count")
        }

        /// A deny list refuses ffmpeg over mmsh, http, RTSP and mmst, and VLC over mmsh.
        @Test func aDenyListRefusesTheClientOnEveryProtocol() throws {
            let server = try ServerProcess(config: "points:\n  - path: /closed\n    directory: \(ServerProcess.root.path)/Media\n    deny: [127.0.0.0/8]\n")
            for url in ["mmsh://\(server.url)", "http://\(server.url)", "rtsp://\(server.rtspURL)", "mmst://\(server.mmsURL)"] {
                let refused = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", "\(url)/closed/demo.wmv", "-f", "null", "-"])
                #expect(refused.status != 0, "\(url): \(refused.output)")
            }
            #expect(server.logText.components(separatedBy: "address 127.0.0.1 not allowed").count - 1 >= 4, "each protocol refused it")
            let open = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-t", "2", "-i", "mmst://\(server.mmsURL)/demo.wmv", "-f", "null", "-"])
            #expect(open.status == 0, "the rest of the server stays open: \(open.output)")
        }
    }
}
