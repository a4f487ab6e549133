import ASF
import AsfcastServer
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServerTestSupport
import Streaming
import Testing
@testable import RTSP

/// The RTSP engine in-process, driven by the project's own client: status codes, stream
/// selection, NACK-driven retransmission and the idle timeout.
@Suite(.serialized)
final class ServerTests {
    let running: TestServer
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var base: String { "rtsp://127.0.0.1:\(running.server.rtspPort)" }

    init() throws {
        running = try TestServer { $0.addPrivateAndMovedPoints() }
    }

    deinit {
        try? group.syncShutdownGracefully()
    }

    private func connect(to server: Server? = nil, interleaved: @escaping @Sendable (UInt8, ByteBuffer) -> Void = { _, _ in },
                         answer: @escaping @Sendable (RTSPRequest) -> Int = { _ in 200 }) async throws -> RTSPClient {
        try await RTSPClient.connect(host: "127.0.0.1", port: (server ?? running.server).rtspPort, group: group, interleaved: interleaved, answer: answer)
    }

    @Test func errorsAreProtocolResponses() async throws {
        let client = try await connect()
        let options = try await client.request("OPTIONS", "\(base)/demo.wmv")
        #expect(options.status == 200 && options["Server"] == "WMServer/9.1.1.5000" && options["Public"]?.contains("GET_PARAMETER") == true)
        #expect(try await client.exchange(raw: "OPTIONS * RTSP/1.0\r\n\r\n").status == 400, "no CSeq")
        #expect(try await client.request("DESCRIBE", "\(base)/missing.wmv").status == 404)
        #expect(try await client.request("DESCRIBE", "\(base)/../config/asfcast.yaml").status == 404)
        #expect(try await client.request("PLAY", "\(base)/demo.wmv/").status == 455, "PLAY before SETUP")
        #expect(try await client.request("SETUP", "\(base)/demo.wmv/stream=9", [("Transport", "RTP/AVP/TCP;interleaved=0-1")]).status == 404)
        #expect(try await client.request("SETUP", "\(base)/demo.wmv/stream=1", [("Transport", "RTP/AVP;multicast")]).status == 461)
        #expect(try await client.request("SETUP", "\(base)/demo.wmv/rtx", [("Transport", "RTP/AVP/TCP;interleaved=4-5")]).status == 461,
                "retransmission is for UDP")
        let setup = try await client.request("SETUP", "\(base)/demo.wmv/stream=1", [("Transport", "RTP/AVP/TCP;interleaved=0-1")])
        #expect(setup.status == 200 && setup["Session"]?.hasSuffix(";timeout=60") == true)
        #expect(try await client.request("SETUP", "\(base)/demo.wmv/stream=2", [("Transport", "RTP/AVP/UDP;client_port=5000")]).status == 461,
                "one lower transport per session")
        #expect(try await client.request("PAUSE", "\(base)/demo.wmv/").status == 455, "PAUSE while READY")
        #expect(try await client.request("GET_PARAMETER", "\(base)/demo.wmv/", [("Session", "1")]).status == 454)
        #expect(try await client.request("RECORD", "\(base)/demo.wmv/").status == 501)
        #expect(try await client.request("TEARDOWN", "\(base)/demo.wmv/").status == 200)
        let garbage = try await client.exchange(raw: "\u{1}\u{2}GARBAGE\r\n\r\n")
        #expect(garbage.status == 400)
        try await client.closed.get()
        // The server still serves.
        let other = try await connect()
        #expect(try await other.request("OPTIONS", "\(base)/demo.wmv").status == 200)
        await other.close()
    }

    /// A point with users: DESCRIBE and SETUP get 401 with a Basic challenge (RFC 2326
    /// 11.4.1) until the request carries a user's credentials. A redirecting point: 302.
    @Test func privatePointsNeedCredentials() async throws {
        let client = try await connect()
        let refused = try await client.request("DESCRIBE", "\(base)/private/demo.wmv")
        let challenges = refused.headers.filter { $0.name == "WWW-Authenticate" }.map(\.value)
        #expect(refused.status == 401 && challenges.count == 3 && challenges.last == #"Basic realm="asfcast""#)

        #expect(try await client.request("SETUP", "\(base)/private/demo.wmv/stream=1", [("Transport", "RTP/AVP/TCP;interleaved=0-1")]).status == 401)
        let wrong = Credentials(user: "mallory", password: "secret").basic
        #expect(try await client.request("DESCRIBE", "\(base)/private/demo.wmv", [("Authorization", wrong)]).status == 401)
        let alice = Credentials(user: "alice", password: "secret").basic
        #expect(try await client.request("DESCRIBE", "\(base)/private/demo.wmv", [("Authorization", alice)]).status == 200)
        await client.close()
        // Digest, as ffmpeg answers: the response signs the method and the whole URI.
        let signed = try await connect()
        let digest = try #require(Credentials(user: "alice", password: "secret").digest(answering: challenges[0], method: "DESCRIBE",
                                                                                        uri: "\(base)/private/demo.wmv"))
        #expect(try await signed.request("DESCRIBE", "\(base)/private/demo.wmv", [("Authorization", digest)]).status == 200)
        await signed.close()
        let other = try await connect()
        let moved = try await other.request("DESCRIBE", "\(base)/moved/demo.wmv")
        #expect(moved.status == 302 && moved["Location"] == "rtsp://media2.example.com/moved/demo.wmv")
        await other.close()
    }

    /// MS-RTSP 3.2.5.6: a client that sets up one video stream of a multi-bitrate file (and
    /// the audio) gets only their payloads, every ASF packet whole, until the end of stream.
    @Test func selectingOneVideoStreamDeliversOnlyItsPayloads() async throws {
        let collector = Collector(loop: group.next())
        let client = try await connect { channel, payload in collector.interleaved(channel, payload) }
        _ = try await client.request("DESCRIBE", "\(base)/multibitrate.wmv")
        #expect(try await client.request("SETUP", "\(base)/multibitrate.wmv/stream=3", [("Transport", "RTP/AVP/TCP;interleaved=0-1")]).status == 200)
        #expect(try await client.request("SETUP", "\(base)/multibitrate.wmv/stream=4", [("Transport", "RTP/AVP/TCP;interleaved=2-3")]).status == 200)
        let play = try await client.request("PLAY", "\(base)/multibitrate.wmv/", [("Range", "npt=0.000-")])
        #expect(play.status == 200 && play["RTP-Info"]?.contains("stream=3;seq=") == true)
        let packets = try await collector.untilBye()
        var streams = Set<UInt8>()
        for rtp in packets {
            // RTP header (12) and the payload format header (4, L set), then one ASF packet.
            #expect(rtp.getInteger(at: 12, as: UInt8.self)! & 0x40 != 0)
            let packet = try DataPacket(parsing: rtp.getSlice(at: 16, length: rtp.readableBytes - 16)!)
            streams.formUnion(packet.payloads.map(\.streamNumber))
        }
        #expect(streams == [3, 4])
        #expect(packets.count > 50)
        #expect(try await client.request("TEARDOWN", "\(base)/multibitrate.wmv/").status == 200)
        await client.close()
    }

    /// MS-RTSP 2.2.7.10.2, 2.2.7.10.3, 3.2.5.6: SelectStream before PLAY. A TEARDOWN of a stream
    /// URL with a body deselects that stream and keeps the session; a SET_PARAMETER replaces
    /// stream 1 by stream 3 under stream 1's URL. Requests that break the rules are refused and
    /// change nothing.
    @Test func selectStreamChangesTheStreamsSetUp() async throws {
        let collector = Collector(loop: group.next())
        let client = try await connect { channel, payload in collector.interleaved(channel, payload) }
        let url = "\(base)/multibitrate.wmv"
        let select = [("Content-Type", "application/x-wms-streamswitch")]
        #expect(try await client.request("OPTIONS", url)["Supported"]?.contains("com.microsoft.wm.sswitch") == true)
        _ = try await client.request("DESCRIBE", url)
        #expect(try await client.request("SET_PARAMETER", "\(url)/stream=1", select, body: "SSEntry: 1 3 0\r\n").status == 455, "before SETUP")
        for (stream, channels) in [(1, "0-1"), (2, "2-3"), (4, "4-5")] {
            #expect(try await client.request("SETUP", "\(url)/stream=\(stream)", [("Transport", "RTP/AVP/TCP;interleaved=\(channels)")]).status == 200)
        }
        let refused: [(uri: String, body: String, status: Int)] = [
            ("\(url)/stream=1", "SSEntry: 1 3\r\n", 400),
            ("\(url)/stream=1", "SSEntry: 1 3 0 \(url)/stream=1\r\n", 400),  // no NewStreamURI
            ("\(url)/stream=1", "SSEntry: 1 9 0 \(url)/stream=1 \(url)/stream=9\r\n", 404),
            ("\(url)/stream=1", "SSEntry: 1 4 0 \(url)/stream=1 \(url)/stream=4\r\n", 400),  // 4 is selected already
            ("\(url)/stream=2", "SSEntry: 1 3 0 \(url)/stream=1 \(url)/stream=3\r\n", 400),  // not the URL that selected 1
            ("\(url)/stream=1", "SSEntry: 4294967295 3 0 \(url)/stream=3\r\n", 400),  // adding is SETUP's
        ]
        for (uri, body, status) in refused {
            #expect(try await client.request("SET_PARAMETER", uri, select, body: body).status == status, "\(body)")
        }
        let drop = "SSEntry: 2 4294967295 0 \(url)/stream=2\r\n"
        #expect(try await client.request("TEARDOWN", "\(url)/stream=2", select, body: drop).status == 200)
        let replace = SSEntry(oldStream: 1, newStream: 3, oldURI: "\(url)/stream=1", newURI: "\(url)/stream=3")
        #expect(try await client.request("SET_PARAMETER", "\(url)/stream=1", select, body: replace.text).status == 200)
        let play = try await client.request("PLAY", "\(url)/", [("Range", "npt=0.000-")])
        #expect(play.status == 200 && play["RTP-Info"]?.contains("\(url)/stream=1;") == true)
        #expect(try Self.streams(in: try await collector.untilBye()) == [3, 4])
        await client.close()
    }

    /// MS-RTSP 2.2.7.10.3, 3.2.4.3: while playing (paced), stream 1 is replaced by stream 3 and
    /// then stream 3 by stream 2, each request under stream 1's URL. A new stream starts with a
    /// key frame; the stream it replaces is sent until then and never after.
    @Test func selectStreamWhilePlayingSwitchesAtAKeyFrame() async throws {
        let paced = try TestServer {
            $0.fastStartBufferSeconds = 0
            $0.fastStartMaximumRate = 2
        }
        let url = "rtsp://127.0.0.1:\(paced.server.rtspPort)/multibitrate.wmv"
        let select = [("Content-Type", "application/x-wms-streamswitch")]
        let collector = Collector(loop: group.next())
        let client = try await connect(to: paced.server) { channel, payload in collector.interleaved(channel, payload) }
        _ = try await client.request("DESCRIBE", url)
        #expect(try await client.request("SETUP", "\(url)/stream=1", [("Transport", "RTP/AVP/TCP;interleaved=0-1")]).status == 200)
        #expect(try await client.request("SETUP", "\(url)/stream=4", [("Transport", "RTP/AVP/TCP;interleaved=2-3")]).status == 200)
        #expect(try await client.request("PLAY", "\(url)/", [("Range", "npt=0.000-")]).status == 200)
        collector.expect(count: 5)
        _ = try await collector.untilExpected()
        for (old, new) in [(1, 3), (3, 2)] {
            let entry = SSEntry(oldStream: UInt32(old), newStream: UInt32(new), oldURI: "\(url)/stream=\(old)", newURI: "\(url)/stream=\(new)")
            #expect(try await client.request("SET_PARAMETER", "\(url)/stream=1", select, body: entry.text).status == 200)
            try await collector.until(stream: UInt8(new))
        }
        let packets = try await collector.untilBye().map { try DataPacket(parsing: $0.getSlice(at: 16, length: $0.readableBytes - 16)!) }
        var order: [UInt8] = []  // the video streams in the order they came
        for packet in packets {
            for stream in packet.streamNumbers where stream != 4 && order.last != stream { order.append(stream) }
        }
        #expect(order == [1, 3, 2], "each replaced stream ends where its successor starts")
        for stream: UInt8 in [3, 2] {
            let first = try #require(packets.first { $0.streamNumbers.contains(stream) })
            #expect(first.startsKeyFrame(of: stream), "stream \(stream) starts with a key frame")
        }
        #expect(packets.contains { $0.streamNumbers.contains(4) }, "the audio goes on")
        await client.close()
    }

    /// MS-RTSP 2.2.4, 3.2.5.10: RTP packets the client reports lost in a generic NACK come
    /// again, byte for byte, on the retransmission stream's port.
    @Test func nackBringsBackDroppedPackets() async throws {
        let media = Collector(loop: group.next(), dropping: [3, 7, 8])
        let resent = Collector(loop: group.next())
        let mediaPorts = try await RTPReceiverPorts.bind(group: group) { isRTCP, b in if !isRTCP { media.datagram(b) } }
        let rtxPorts = try await RTPReceiverPorts.bind(group: group) { isRTCP, b in if !isRTCP { resent.datagram(b) } }
        let client = try await connect()
        _ = try await client.request("DESCRIBE", "\(base)/demo.wmv")
        let rtx = try await client.request("SETUP", "\(base)/demo.wmv/rtx",
                                           [("Transport", "RTP/AVP/UDP;unicast;client_port=\(rtxPorts.rtpPort)-\(rtxPorts.rtpPort + 1)")])
        let rtxTransport = try #require(rtx["Transport"])
        let ssrcText = try #require(Self.parameter("ssrc", in: rtxTransport))
        let vssrc = try #require(UInt32(ssrcText, radix: 16))
        let serverPorts = try #require(Self.parameter("server_port", in: rtxTransport)).split(separator: "-")
        let serverRTCP = try #require(Int(serverPorts[1]))
        for stream in [1, 2] {
            let reply = try await client.request("SETUP", "\(base)/demo.wmv/stream=\(stream)",
                                                 [("Transport", "RTP/AVP/UDP;unicast;client_port=\(mediaPorts.rtpPort)-\(mediaPorts.rtpPort + 1)")])
            #expect(reply.status == 200)
        }
        #expect(try await client.request("PLAY", "\(base)/demo.wmv/", [("Range", "npt=0-")]).status == 200)
        let dropped = try await media.untilCount(20)
        #expect(dropped.count == 3)
        let sequences = dropped.map { $0.getInteger(at: 2, as: UInt16.self)! }
        var nack = ByteBuffer()
        RTCP.writeReceiverReport(ssrc: 4242, to: &nack)
        RTCP.writeSourceDescription(ssrc: 4242, cname: "\(vssrc)\(RTCP.wmsCNAMESuffix)", to: &nack)
        RTCP.writeNACK(sender: 4242, media: dropped[0].getInteger(at: 8, as: UInt32.self)!, lost: sequences, to: &nack)
        resent.expect(count: sequences.count)
        try await mediaPorts.sendRTCP(nack, to: try SocketAddress(ipAddress: "127.0.0.1", port: serverRTCP))
        let copies = try await resent.untilExpected()
        #expect(copies.sorted { $0.getInteger(at: 2, as: UInt16.self)! < $1.getInteger(at: 2, as: UInt16.self)! } == dropped,
                "identical RTP packets (2.2.3.1)")
        #expect(try await client.request("TEARDOWN", "\(base)/demo.wmv/").status == 200)
        await client.close()
        await mediaPorts.close()
        await rtxPorts.close()
    }

    /// MS-RTSP 3.2.4.1, 3.2.4.2: a playlist whose second entry has other streams (audio only,
    /// then video and audio). EndOfStream marks the end of the entry, Announce describes the next
    /// under a new X-Playlist-Gen-Id; once the client sets up the new streams and plays, the
    /// second entry's payloads follow, then the final EndOfStream and the BYEs.
    @Test func entryWithOtherStreamsIsAnnounced() async throws {
        let playlist = try Self.mixedPlaylist()
        defer { playlist.root.remove() }
        let url = "rtsp://127.0.0.1:\(playlist.server.rtspPort)/mixed.wsx"
        let requests = NIOLockedValueBox<[RTSPRequest]>([])
        let announce = group.next().makePromise(of: RTSPRequest.self)
        let collector = Collector(loop: group.next())
        let client = try await connect(to: playlist.server, interleaved: { collector.interleaved($0, $1) }) { request in
            requests.withLockedValue { $0.append(request) }
            if request.method == "ANNOUNCE" { announce.succeed(request) }
            return 200
        }
        #expect(try await client.request("DESCRIBE", url)["X-Playlist-Gen-Id"] == "1")
        #expect(try await client.request("SETUP", "\(url)/stream=1", [("Transport", "RTP/AVP/TCP;interleaved=0-1")]).status == 200)
        #expect(try await client.request("PLAY", "\(url)/", [("Range", "npt=0-")]).status == 200)

        let next = try await announce.futureResult.get()
        let firstEntry = try await collector.packets()
        #expect(try Self.streams(in: firstEntry) == [1], "audio.wma has one stream")
        let endOfEntry = try #require(requests.withLockedValue { $0.first })
        #expect(endOfEntry.method == "SET_PARAMETER" && endOfEntry["X-Playlist-Gen-Id"] == "1")
        #expect(String(buffer: endOfEntry.body).contains("End-Of-Playlist-Entry: true"))
        #expect(next["X-Playlist-Gen-Id"] == "2" && next["Content-Type"] == "application/sdp" && next["Session"] == client.session)
        let sdp = String(buffer: next.body)
        #expect(sdp.contains("a=control:stream=1") && sdp.contains("a=control:stream=2") && sdp.contains("a=pgmpu:data:application/vnd.ms.wms-hdr.asfv1;base64,"))

        for (stream, channels) in [(1, "0-1"), (2, "2-3")] {
            let setup = try await client.request("SETUP", "\(url)/stream=\(stream)", [("Transport", "RTP/AVP/TCP;interleaved=\(channels)"), ("X-Playlist-Gen-Id", "2")])
            #expect(setup.status == 200)
        }
        #expect(try await client.request("PLAY", "\(url)/", [("X-Playlist-Gen-Id", "2")]).status == 200)
        let all = try await collector.untilBye()
        #expect(try Self.streams(in: Array(all.dropFirst(firstEntry.count))) == [1, 2], "demo.wmv: video and audio")
        let last = try #require(requests.withLockedValue { $0.last })
        #expect(last.method == "SET_PARAMETER" && !String(buffer: last.body).contains("End-Of-Playlist-Entry") && last["X-Playlist-Gen-Id"] == "2")
        #expect(try await client.request("TEARDOWN", "\(url)/").status == 200)
        await client.close()
    }

    /// A client that refuses the Announce (ffmpeg answers 501) cannot go on: its stream ends
    /// there, with the BYEs that make ffmpeg stop.
    @Test func refusedAnnounceEndsTheStream() async throws {
        let playlist = try Self.mixedPlaylist()
        defer { playlist.root.remove() }
        let url = "rtsp://127.0.0.1:\(playlist.server.rtspPort)/mixed.wsx"
        let collector = Collector(loop: group.next())
        let client = try await connect(to: playlist.server, interleaved: { collector.interleaved($0, $1) }) { request in
            request.method == "ANNOUNCE" ? 501 : 200
        }
        _ = try await client.request("DESCRIBE", url)
        #expect(try await client.request("SETUP", "\(url)/stream=1", [("Transport", "RTP/AVP/TCP;interleaved=0-1")]).status == 200)
        #expect(try await client.request("PLAY", "\(url)/", [("Range", "npt=0-")]).status == 200)
        #expect(try Self.streams(in: try await collector.untilBye()) == [1])
        await client.close()
    }

    /// A server on a media root of its own with mixed.wsx (audio, then video and audio).
    static func mixedPlaylist() throws -> (server: Server, root: MixedPlaylistRoot, running: TestServer) {
        let root = try MixedPlaylistRoot()
        let running = try TestServer { $0.mediaRoot = root.path }
        return (running.server, root, running)
    }

    /// The streams with payloads in RTP packets of one whole ASF packet each.
    static func streams(in packets: [ByteBuffer]) throws -> Set<UInt8> {
        var streams = Set<UInt8>()
        for rtp in packets {
            streams.formUnion(try DataPacket(parsing: rtp.getSlice(at: 16, length: rtp.readableBytes - 16)!).payloads.map(\.streamNumber))
        }
        return streams
    }

    /// MS-RTSP 3.2.2 Idle-Timeout: a UDP session whose client says nothing is ended.
    @Test func silentSessionsAreEnded() async throws {
        let impatient = try TestServer { $0.rtspSessionTimeoutSeconds = 3 }
        let ports = try await RTPReceiverPorts.bind(group: group) { _, _ in }
        let client = try await connect(to: impatient.server)
        let setup = try await client.request("SETUP", "rtsp://127.0.0.1:\(impatient.server.rtspPort)/demo.wmv/stream=1",
                                             [("Transport", "RTP/AVP/UDP;client_port=\(ports.rtpPort)-\(ports.rtpPort + 1)")])
        #expect(setup.status == 200)
        try await client.closed.get()
        await ports.close()
    }

    static func parameter(_ name: String, in transport: String) -> String? {
        transport.split(separator: ";").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
}

/// Collects RTP on one event loop and completes when asked-for conditions hold (bounded by
/// a 30 s guard, so a broken server fails the test instead of hanging it).
final class Collector: @unchecked Sendable {
    private let loop: EventLoop
    private let dropping: Set<Int>
    private var received: [ByteBuffer] = []
    private var dropped: [ByteBuffer] = []
    private var waiter: (condition: () -> Bool, promise: EventLoopPromise<Void>)?

    init(loop: EventLoop, dropping: Set<Int> = []) {
        self.loop = loop
        self.dropping = dropping
    }

    /// TCP: RTP on even channels is kept; an RTCP BYE on an odd one completes `untilBye`.
    func interleaved(_ channel: UInt8, _ payload: ByteBuffer) {
        loop.execute { [self] in
            if channel % 2 == 0 {
                received.append(payload)
            } else if let messages = try? RTCP.parse(payload), messages.contains(where: { if case .bye = $0 { true } else { false } }) {
                byeSeen = true
            }
            check()
        }
    }

    /// UDP: the indices in `dropping` are set aside as if lost.
    func datagram(_ bytes: ByteBuffer) {
        loop.execute { [self] in
            if dropping.contains(received.count + dropped.count) { dropped.append(bytes) } else { received.append(bytes) }
            check()
        }
    }

    private var byeSeen = false
    private var expected = Int.max

    /// What has arrived so far.
    func packets() async throws -> [ByteBuffer] {
        try await loop.submit { self.received }.get()
    }

    func untilBye() async throws -> [ByteBuffer] {
        try await wait { self.byeSeen }
        return try await loop.submit { self.received }.get()
    }

    /// Waits for `count` datagrams; returns the ones set aside.
    func untilCount(_ count: Int) async throws -> [ByteBuffer] {
        try await wait { self.received.count + self.dropped.count >= count }
        return try await loop.submit { self.dropped }.get()
    }

    /// Waits for a packet with a payload of `stream`.
    func until(stream: UInt8) async throws {
        try await wait { self.received.contains { (try? ServerTests.streams(in: [$0]))?.contains(stream) == true } }
    }

    func expect(count: Int) {
        loop.execute { self.expected = count }
    }

    func untilExpected() async throws -> [ByteBuffer] {
        try await wait { self.received.count >= self.expected }
        return try await loop.submit { self.received }.get()
    }

    private func wait(_ condition: @escaping () -> Bool) async throws {
        let promise = loop.makePromise(of: Void.self)
        loop.execute { [self] in
            waiter = (condition, promise)
            check()
        }
        let guardTask = loop.scheduleTask(in: .seconds(30)) { [self] in
            if let waiter { self.waiter = nil; waiter.promise.fail(ChannelError.connectTimeout(.seconds(30))) }
        }
        defer { guardTask.cancel() }
        try await promise.futureResult.get()
    }

    private func check() {
        if let waiter, waiter.condition() {
            self.waiter = nil
            waiter.promise.succeed()
        }
    }
}
