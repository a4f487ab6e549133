import Foundation
import MMS
import NIOCore
import ServerTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Interop {
    /// Issue 14's protocol-level fuzzing: real client conversations (ffmpeg's and VLC's requests,
    /// CLIENTS.md; an MMS player's messages), mutated, sent to the running server on every port;
    /// afterwards it still serves ffmpeg on each protocol.
    @Suite
    struct ConversationFuzzTests {
        static func conversations(_ server: ServerProcess) -> [(port: Int, bytes: [UInt8])] {
            let wmsp = "User-Agent: NSPlayer/7.10.0.3059\r\nHost: 127.0.0.1\r\nPragma: no-cache,rate=1.000000,stream-time=0,stream-offset=0:0,request-context=1,max-duration=0\r\n"
            let http: [String] = [
                "GET /demo.wmv HTTP/1.0\r\nAccept: */*\r\n\(wmsp)Pragma: xClientGUID={c77e7400-738a-11d2-9add-0020af0a3278}\r\n\r\n",
                "GET /demo.wmv HTTP/1.0\r\n\(wmsp)Pragma: xPlayStrm=1\r\nPragma: stream-switch-count=2\r\nPragma: stream-switch-entry=ffff:1:0 ffff:2:0 \r\n\r\n",
                "GET /demo.wmv HTTP/1.1\r\nHost: x\r\nUser-Agent: NSPlayer/9.0.0.2980\r\nPragma: xPlayStrm=1\r\nPragma: version11-enabled=1\r\n\r\nGET /demo.wmv HTTP/1.1\r\nHost: x\r\nUser-Agent: NSPlayer/9.0.0.2980\r\nPragma: xStopStrm=1\r\n\r\n",
                "GET /demo.wmv HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\n\r\n",
                "POST /demo.wmv HTTP/1.0\r\n\(wmsp)Content-Type: application/x-wms-LogStats\r\nContent-Length: 20\r\n\r\n<XML><Summary/></XML>",
            ]
            let base = "rtsp://\(server.rtspURL)/demo.wmv"
            let rtsp: [String] = [
                "OPTIONS \(base) RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf59.27.100\r\n\r\nDESCRIBE \(base) RTSP/1.0\r\nAccept: application/sdp\r\nCSeq: 2\r\n\r\n"
                    + "SETUP \(base)/stream=1 RTSP/1.0\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nCSeq: 3\r\n\r\n"
                    + "PLAY \(base) RTSP/1.0\r\nRange: npt=0.000-\r\nCSeq: 4\r\n\r\nTEARDOWN \(base) RTSP/1.0\r\nCSeq: 5\r\n\r\n",
                "DESCRIBE \(base) RTSP/1.0\r\nCSeq: 1\r\n\r\nSETUP \(base)/stream=2 RTSP/1.0\r\nTransport: RTP/AVP/UDP;unicast;client_port=5000-5001\r\nCSeq: 2\r\n\r\n"
                    + "SET_PARAMETER \(base) RTSP/1.0\r\nCSeq: 3\r\nContent-Type: application/x-wms-streamswitch\r\nContent-Length: 38\r\n\r\nSSEntry: 0 1 3 4294967295 4294967295 0",
            ]
            var mms = ByteBuffer()
            let messages: [ClientMessage] = [
                .connect(playIncarnation: 0xF0F0F0EF, subscriberName: "NSPlayer/7.0.0.1956; {3300AD50-2C39-46c0-AE0A-70B64F32B7D1}; Host: 127.0.0.1"),
                .funnelInfo(playIncarnation: 1),
                .connectFunnel(funnelName: "\\\\127.0.0.1\\TCP\\1755"),
                .openFile(playIncarnation: 1, fileName: "demo.wmv", token: ByteBuffer()),
                .readBlock(openFileID: 1, playIncarnation: 1),
                .startPlaying(.init(position: 10)),
            ]
            for (i, message) in messages.enumerated() { message.message.write(sequence: UInt16(i), to: &mms) }
            return http.map { (server.port, Array($0.utf8)) } + rtsp.map { (server.rtspPort, Array($0.utf8)) }
                + [(server.mmsPort, Array(mms.readableBytesView))]
        }

        /// One mutation of a conversation: bytes flipped, replaced, inserted, removed, a run
        /// repeated, or the whole cut short, one to eight times.
        static func mutate(_ bytes: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
            var out = bytes
            for _ in 0..<Int.random(in: 1...8, using: &random) where !out.isEmpty {
                let i = Int.random(in: 0..<out.count, using: &random)
                switch Int.random(in: 0..<6, using: &random) {
                case 0: out[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
                case 1: out[i] = [0, 0xFF, 0x7F, 0x80, 0x0A, 0x3A, 0x2C, 0x24].randomElement(using: &random)!
                case 2: out.insert(contentsOf: (0..<Int.random(in: 1...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: i)
                case 3: out.removeSubrange(i..<min(out.count, i + Int.random(in: 1...16, using: &random)))
                case 4:
                    let run = out[i..<min(out.count, i + Int.random(in: 1...64, using: &random))]
                    out.insert(contentsOf: Array(repeating: Array(run), count: Int.random(in: 2...50, using: &random)).joined(), at: i)
                default: out.removeSubrange(i...)
                }
            }
            return out
        }

        @Test func mutatedClientConversationsLeaveTheServerServing() throws {
            let server = try ServerProcess()
            let seeds = Self.conversations(server)
            var random = SplitMix64(state: 14)
            let batches = 30, perBatch = 100
            var answered = 0
            for _ in 0..<batches {
                var open: [Int32] = []
                for _ in 0..<perBatch {
                    let (port, bytes) = seeds.randomElement(using: &random)!
                    guard let fd = RawConnection.socket(port: port, from: nil, blocking: true) else { throw Failure("cannot connect to \(port)") }
                    let mutated = Self.mutate(bytes, &random)
                    _ = mutated.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    shutdown(fd, Int32(SHUT_WR))
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    open.append(fd)
                }
                // Read each until the server closes it (a half-closed client is ended) or 10 s pass.
                let started = Date()
                var pending = Set(open)
                var chunk = [UInt8](repeating: 0, count: 65536)
                while !pending.isEmpty, Date().timeIntervalSince(started) < 10 {
                    var fds = pending.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                    _ = poll(&fds, nfds_t(fds.count), 100)
                    for p in fds where p.revents != 0 {
                        let n = recv(p.fd, &chunk, chunk.count, 0)
                        if n > 0 { answered += 1; continue }
                        if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { pending.remove(p.fd) }
                    }
                }
                for fd in open { close(fd) }
                #expect(server.process.isRunning, "the server is still running")
            }
            #expect(answered > 0, "some of the mutated conversations were answered")
            #expect(!server.logText.contains("Fatal error"), "\(server.logText.suffix(2000))")
            for url in ["mmsh://\(server.url)/demo.wmv", "rtsp://\(server.rtspURL)/demo.wmv", "mmst://\(server.mmsURL)/demo.wmv"] {
                let transport = url.hasPrefix("rtsp") ? ["-rtsp_transport", "tcp"] : []
                let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error"] + transport + ["-t", "3", "-i", url, "-f", "null", "-"])
                #expect(result.status == 0, "\(url) after \(batches * perBatch) mutated conversations: \(result.output)")
            }
        }
    }
}
