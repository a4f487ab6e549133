import ASF
import AsfcastServer
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOHTTP1
import ServerTestSupport
import Streaming
import Testing
@testable import WMSP

/// The WMSP engine in-process, driven by the project's own client and raw sockets. Fast Start is
/// set wide so that whole files arrive at once.
@Suite(.serialized)
final class ServerTests: ServerSuite {
    let fixture: InProcessServer

    init() throws {
        fixture = try InProcessServer { config in
            config.fastStartBufferSeconds = 60
            config.fastStartMaximumRate = 100
            config.addPrivateAndMovedPoints()
        }
    }

    /// A point with users: 401 with Digest (SHA-256, then MD5) and Basic challenges without
    /// credentials or with wrong ones, the content with a user's, by either scheme; a replayed
    /// Digest response is refused. A redirecting point: 302 to the other server.
    @Test func privatePointsNeedCredentials() async throws {
        let pragma = ["no-cache,rate=1.000000,stream-time=0,stream-offset=0:0,request-context=1,max-duration=0"]
        let anonymous = try await client.describe("/private/demo.wmv")
        let challenges = anonymous.head.headers["WWW-Authenticate"]
        #expect(anonymous.head.status == .unauthorized)
        #expect(challenges.map { $0.split(separator: ",")[0] } == [#"Digest realm="asfcast""#, #"Digest realm="asfcast""#, #"Basic realm="asfcast""#])
        #expect(challenges.first?.contains("algorithm=SHA-256") == true && challenges.dropFirst().first?.contains("algorithm=MD5") == true)
        for challenge in challenges.prefix(2) {
            let digest = try #require(Credentials(user: "alice", password: "secret").digest(answering: challenge, method: "GET", uri: "/private/demo.wmv"))
            #expect(try await client.describe("/private/demo.wmv", headers: [("Authorization", digest)]).head.status == .ok)
            #expect(try await client.describe("/private/demo.wmv", headers: [("Authorization", digest)]).head.status == .unauthorized, "replayed")
        }
        let wrong = try await client.request("/private/demo.wmv", pragmas: pragma, headers: [("Authorization", Credentials(user: "alice", password: "guess").basic)])
        #expect(wrong.head.status == .unauthorized)
        let alice = try await client.request("/private/demo.wmv", pragmas: pragma, headers: [("Authorization", Credentials(user: "alice", password: "secret").basic)])
        #expect(alice.head.status == .ok && alice.frames.last?.type == Frame.header)
        #expect(try await client.describe("/demo.wmv").head.status == .ok, "the default point stays open")
        let moved = try await client.describe("/moved/demo.wmv")
        #expect(moved.head.status == .found && moved.head.headers["Location"] == ["http://media2.example.com/moved/demo.wmv"])
    }

    /// A client of version 9 or later gets the entry's $M then the header in one $H (MS-WMSP
    /// 3.2.5.4), and the Supported header; ffmpeg's and VLC's NSPlayer/7.10 gets the $H alone.
    @Test func describeSendsTheASFHeaderInOneFrameAfterMetadataForVersion9() async throws {
        let file = try ASFFile(path: InProcessServer.media + "/demo.wmv")
        let response = try await client.describe("/demo.wmv")
        #expect(response.head.status == .ok)
        #expect(response.head.headers["Content-Type"] == ["application/vnd.ms.wms-hdr.asfv1"])
        #expect(response.head.headers["Pragma"].first?.contains("features=\"seekable,stridable\"") == true)
        #expect(response.head.headers["Supported"].first?.contains("com.microsoft.wm.sswitch") == true)
        #expect(response.frames.map(\.type) == [Frame.metadata, Frame.header])
        let metadata = try EntryMetadata(payload: response.frames[0].payload)
        #expect(metadata == EntryMetadata(playlistGenID: 1, broadcastID: 0, features: "seekable,stridable"))
        #expect(response.frames[1].afFlags == 0x0C)
        #expect(response.frames[1].payload == file.header.streamingHeader(dataObject: file.dataObject))

        var version7 = client
        version7.userAgent = "NSPlayer/7.10.0.3059"
        let old = try await version7.describe("/demo.wmv")
        #expect(old.frames.map(\.type) == [Frame.header])
        #expect(old.head.headers["Supported"].isEmpty)
    }

    /// Describe with `packet-pair-experiment=1` (3.2.5.4): the answer says so and its body opens
    /// with three $P packets of 504 − Reason, 504 and 1048 + Reason random bytes, Reason being the
    /// size of the HTTP head before them, as read off the raw bytes.
    @Test func describeWithPacketPairExperimentOpensWithThreePacketPairs() async throws {
        let raw = try await rawResponse("GET /demo.wmv HTTP/1.0\r\nUser-Agent: NSPlayer/12.0.7601.17514\r\n" +
                                        "Pragma: no-cache,packet-pair-experiment=1,pipeline-experiment=1\r\n\r\n")
        let bytes = Array(raw.readableBytesView)
        let headLength = try #require(bytes.indices.first { bytes[$0...].starts(with: Array("\r\n\r\n".utf8)) }) + 4
        let head = String(decoding: bytes[..<headLength], as: UTF8.self)
        #expect(head.hasPrefix("HTTP/1.0 200 OK") && head.contains("packet-pair-experiment=1"))
        var parser = FrameParser()
        parser.append(raw.getSlice(at: raw.readerIndex + headLength, length: raw.readableBytes - headLength)!)
        var frames: [ReceivedFrame] = []
        while let frame = try parser.next() { frames.append(frame) }
        #expect(frames.map(\.type) == [Frame.packetPair, Frame.packetPair, Frame.packetPair, Frame.metadata, Frame.header])
        let pairs = frames.prefix(3)
        #expect(pairs.allSatisfy { $0.reason == UInt32(min(504, headLength)) })
        #expect(pairs.map(\.payload.readableBytes) == [504 - min(504, headLength), 504, 1048 + min(504, headLength)])
        #expect(Set(frames[1].payload.readableBytesView).count > 100, "random bytes")
        // The PacketLength fields hold the spec's fixed values, not the sizes.
        let first = headLength
        #expect(bytes[first + 1] == Frame.packetPair && UInt16(bytes[first + 2]) | UInt16(bytes[first + 3]) << 8 == 504)
    }

    /// Every byte of a response, read until the server closes.
    func rawResponse(_ request: String) async throws -> ByteBuffer {
        let all = group.next().makePromise(of: ByteBuffer.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AllBytes(promise: all)) }
            }
            .connect(host: "127.0.0.1", port: server.httpPort).get()
        var buffer = channel.allocator.buffer(capacity: request.utf8.count)
        buffer.writeString(request)
        try await channel.writeAndFlush(buffer).get()
        return try await all.futureResult.get()
    }

    final class AllBytes: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<ByteBuffer>
        var bytes = ByteBuffer()
        init(promise: EventLoopPromise<ByteBuffer>) { self.promise = promise }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var piece = unwrapInboundIn(data)
            bytes.writeBuffer(&piece)
        }
        func channelInactive(context: ChannelHandlerContext) { promise.succeed(bytes) }
    }

    @Test func playSendsEveryPacketInOrderThenEndOfStream() async throws {
        let file = try ASFFile(path: InProcessServer.media + "/demo.wmv")
        let response = try await client.play("/demo.wmv", available: [1, 2])
        #expect(response.head.headers["Content-Type"] == ["application/x-mms-framed"])
        let data = response.frames.filter { $0.type == Frame.data }
        #expect(response.frames.prefix(2).map(\.type) == [Frame.metadata, Frame.header])
        #expect(data.count == file.packetCount)
        #expect(data.map(\.locationID) == (0..<UInt32(file.packetCount)).map { $0 })
        #expect(data.enumerated().allSatisfy { $0.element.afFlags == UInt8(truncatingIfNeeded: $0.offset) })
        #expect(response.frames.last?.type == Frame.endOfStream && response.frames.last?.reason == 0)
        let original = try file.readPackets(0..<file.packetCount)
        #expect(data.map(\.payload) == original)
    }

    @Test func selectingOneVideoStreamDeliversOnlyItsPayloads() async throws {
        let file = try ASFFile(path: InProcessServer.media + "/multibitrate.wmv")
        let report = try FileReport(file)
        let response = try await client.play("/multibitrate.wmv", streams: [3, 4], available: [1, 2, 3, 4])
        var objects: [UInt8: Int] = [:]
        for frame in response.frames where frame.type == Frame.data {
            let packet = try DataPacket(parsing: frame.payload)
            #expect(packet.streamNumbers.isSubset(of: [3, 4]))
            for p in packet.payloads { objects[p.streamNumber, default: 0] += try p.mediaObjectsStarted() }
        }
        #expect(objects[3] == report.streams.first { $0.number == 3 }?.mediaObjects)
        #expect(objects[4] == report.streams.first { $0.number == 4 }?.mediaObjects)
        #expect(objects[1] == nil && objects[2] == nil)
    }

    @Test func playFromTenSecondsStartsAtAKeyFrameNearIt() async throws {
        let file = try ASFFile(path: InProcessServer.media + "/demo.wmv")
        let response = try await client.play("/demo.wmv", available: [1, 2], streamTime: 10_000)
        let first = try #require(response.frames.first { $0.type == Frame.data })
        let packet = try DataPacket(parsing: first.payload)
        let key = try #require(packet.payloads.first { $0.streamNumber == 1 && $0.isKeyFrame && $0.startsMediaObject })
        let time = Int(key.presentationTime!) - Int(file.header.fileProperties.preroll)
        #expect(abs(time - 10_000) <= 500)
    }

    @Test func playlistSplicesEntriesIntoOneSession() async throws {
        let response = try await client.play("/playlist.wsx", available: [1, 2])
        #expect(response.head.headers["Pragma"].first?.contains("features=\"playlist\"") == true)
        let data = response.frames.filter { $0.type == Frame.data }
        let demo = try ASFFile(path: InProcessServer.media + "/demo.wmv")
        #expect(data.count > demo.packetCount)
        var last: UInt32 = 0
        for frame in data {
            let time = try DataPacket.sendTime(of: frame.payload)
            #expect(time >= last)
            last = time
        }
        #expect(!response.frames.contains { $0.type == Frame.streamChange }, "the entries share streams")
        #expect(response.frames.last?.type == Frame.endOfStream)
    }

    /// A playlist entry with other streams (3.2.4.2): the first entry's data, then $C, the new
    /// entry's $M under a new playlist-gen-id and its header, its data, and $E.
    @Test func entryWithOtherStreamsIsAStreamChange() async throws {
        let root = try MixedPlaylistRoot()
        defer { root.remove() }
        let playlist = try InProcessServer { config in
            config.mediaRoot = root.path
            config.fastStartBufferSeconds = 60
            config.fastStartMaximumRate = 100
        }
        let response = try await playlist.client.play("/mixed.wsx", available: [1])
        var kinds = response.frames.map(\.type)
        kinds.removeAll { $0 == Frame.data }
        #expect(kinds == [Frame.metadata, Frame.header, Frame.streamChange, Frame.metadata, Frame.header, Frame.endOfStream])
        let metadata = try response.frames.filter { $0.type == Frame.metadata }.map { try EntryMetadata(payload: $0.payload) }
        #expect(metadata.map(\.playlistGenID) == [1, 2])
        let headers = try response.frames.filter { $0.type == Frame.header }.map { try ASFHeader(parsing: $0.payload) }
        #expect(headers.map { $0.streams.map(\.streamNumber) } == [[1], [1, 2]])
        let change = try #require(response.frames.firstIndex { $0.type == Frame.streamChange })
        var streams: [Set<UInt8>] = [[], []]
        for (i, frame) in response.frames.enumerated() where frame.type == Frame.data {
            streams[i < change ? 0 : 1].formUnion(try DataPacket(parsing: frame.payload).streamNumbers)
        }
        #expect(streams == [[1], [1, 2]])
    }

    @Test func errorsAreProtocolResponses() async throws {
        #expect(try await client.describe("/missing.wmv").head.status == .notFound)
        #expect(try await client.describe("/../Package.swift").head.status == .notFound)
        #expect(try await client.describe("/live/extra").head.status == .notFound)
        let badSwitch = try await client.request("/demo.wmv", pragmas: ["xPlayStrm=1", "stream-switch-entry=ffff:zz:0"])
        #expect(badSwitch.head.status == .badRequest)
        // Headers past the decoder's limit are refused: a 4xx, or a reset when the server closes
        // before it has read the whole request.
        do {
            let oversized = try await client.request("/demo.wmv", pragmas: [String(repeating: "x", count: 200_000)])
            #expect(oversized.head.status.code >= 400)
        } catch let error as IOError {
            #expect(error.errnoCode == ECONNRESET)
        }
        // The server still plays after all of that.
        #expect(try await client.describe("/demo.wmv").head.status == .ok)
    }

    @Test func vanishingClientsLeaveTheServerServing() async throws {
        for _ in 0..<20 {
            let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: server.httpPort).get()
            var request = channel.allocator.buffer(capacity: 256)
            request.writeString("GET /demo.wmv HTTP/1.0\r\nUser-Agent: NSPlayer/7.10.0.3059\r\nPragma: xPlayStrm=1\r\nPragma: stream-switch-entry=ffff:1:0 ffff:2:0\r\n\r\n")
            try await channel.writeAndFlush(request).get()
            try await channel.close().get()
        }
        let response = try await client.play("/audio.wma", available: [1])
        #expect(response.frames.last?.type == Frame.endOfStream)
    }
}

/// Player limits: over them a client gets 503, and a place frees when a player leaves.
@Suite(.serialized)
final class LimitTests: ServerSuite {
    let fixture: InProcessServer

    init() throws {
        fixture = try InProcessServer { config in
            // Real-time pacing, so that a play lasts while the test runs.
            config.fastStartBufferSeconds = 0
            config.fastStartMaximumRate = 1
            config.maximumPlayers = 1
        }
    }

    /// Starts a play on a raw connection and returns it with the first bytes of the answer.
    func openPlay() async throws -> (Channel, String) {
        let head = group.next().makePromise(of: String.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FirstBytes(promise: head))
                }
            }
            .connect(host: "127.0.0.1", port: server.httpPort).get()
        var request = channel.allocator.buffer(capacity: 256)
        request.writeString("GET /demo.wmv HTTP/1.0\r\nUser-Agent: NSPlayer/7.10.0.3059\r\nPragma: xPlayStrm=1\r\nPragma: stream-switch-entry=ffff:1:0 ffff:2:0\r\n\r\n")
        try await channel.writeAndFlush(request).get()
        return (channel, try await head.futureResult.get())
    }

    final class FirstBytes: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<String>
        init(promise: EventLoopPromise<String>) { self.promise = promise }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { promise.succeed(String(buffer: unwrapInboundIn(data))) }
        func channelInactive(context: ChannelHandlerContext) { promise.fail(ChannelError.eof) }
    }

    @Test func secondPlayerIsRefusedUntilTheFirstLeaves() async throws {
        let (first, answer) = try await openPlay()
        #expect(answer.hasPrefix("HTTP/1.0 200 OK"))
        let refused = try await client.play("/audio.wma", available: [1])
        #expect(refused.head.status == .serviceUnavailable)
        #expect(String(buffer: refused.body).contains("maximum of 1 players"))
        // Describe is not playing: still answered.
        #expect(try await client.describe("/demo.wmv").head.status == .ok)
        // The first player leaves (unless, on a loaded machine, it already played to its end).
        do { try await first.close().get() } catch ChannelError.alreadyClosed {}
        // The server notices the close on its own loop; a new player gets in once it has
        // (a bounded number of attempts, each a full request).
        var answers: [String] = []
        repeat {
            let (second, answer) = try await openPlay()
            // A refusal closes the connection from the server's side, maybe before this does.
            do { try await second.close().get() } catch ChannelError.alreadyClosed {}
            answers.append(String(answer.prefix(16)))
        } while !answers.last!.hasPrefix("HTTP/1.0 200") && answers.count < 100
        #expect(answers.last?.hasPrefix("HTTP/1.0 200 OK") == true, "\(answers)")
    }
}

/// Files of other formats are remuxed into ASF once, then served from the cache.
@Suite(.serialized)
final class ImportServingTests: ServerSuite {
    let fixture: InProcessServer
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path
    let cache = FileManager.default.temporaryDirectory.appendingPathComponent("asfcast-cache-\(UUID().uuidString)").path

    init() throws {
        let cache = self.cache
        fixture = try InProcessServer { config in
            config.fastStartBufferSeconds = 60
            config.fastStartMaximumRate = 100
            config.importCache = cache
            config.points = [.init(name: "fixtures", path: "/fixtures", source: .directory(Self.fixtures))]
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: cache)
    }

    @Test func matroskaIsServedAsASFAndCachedOnce() async throws {
        let describe = try await client.describe("/fixtures/clip.mkv")
        #expect(describe.head.status == .ok)
        let header = try ASFHeader(parsing: try #require(describe.frames.first { $0.type == Frame.header }).payload)
        #expect(header.streams.map(\.kind) == [.video, .audio])
        let play = try await client.play("/fixtures/clip.mkv", available: [1, 2])
        let cached = try FileManager.default.contentsOfDirectory(atPath: cache)
        #expect(cached.count == 1, "\(cached)")
        let file = try ASFFile(path: cache + "/" + cached[0])
        #expect(play.frames.filter { $0.type == Frame.data }.count == file.packetCount)
        #expect(play.frames.last?.type == Frame.endOfStream)
    }

    @Test func codecASFCannotCarryIsRefusedNamingIt() async throws {
        let response = try await client.describe("/fixtures/tone.opus")
        #expect(response.head.status == .unsupportedMediaType)
        #expect(String(buffer: response.body).contains("'opus'"))
    }
}

/// A broadcast point fed by a server-side playlist, started by its first client.
@Suite(.serialized)
final class BroadcastPlaylistTests: ServerSuite {
    let fixture: InProcessServer

    init() throws {
        fixture = try InProcessServer { config in
            config.points = [.init(name: "tv", path: "/tv", source: .broadcast(["playlist.wsx"], startImmediately: false))]
        }
    }

    @Test func firstClientStartsItAndGetsLiveFramesFromAKeyFrame() async throws {
        let connection = try await WMSPConnection.connect(group: group, host: "127.0.0.1", port: server.httpPort)
        try await connection.send(.GET, "/tv", pragmas: ["xPlayStrm=1", "stream-switch-entry=ffff:1:0 ffff:2:0"], version: .http1_0)
        var parts = connection.parts.makeAsyncIterator()
        var frames: [ReceivedFrame] = []
        var head: HTTPResponseHead?
        while frames.filter({ $0.type == Frame.data }).count < 20, let part = try await parts.next() {
            switch part {
            case let .head(h): head = h
            case let .frame(f): frames.append(f)
            case .end: break
            }
        }
        #expect(Pragma(headerValues: head?.headers["Pragma"] ?? []).tokens["features"] == "broadcast")
        let header = try ASFHeader(parsing: try #require(frames.first { $0.type == Frame.header }).payload)
        #expect(header.fileProperties.flags.contains(.broadcast))
        let data = frames.filter { $0.type == Frame.data }
        let first = try DataPacket(parsing: data[0].payload)
        let video = try #require(first.payloads.first { $0.streamNumber == 1 })
        #expect(video.isKeyFrame && video.startsMediaObject)
        #expect(zip(data, data.dropFirst()).allSatisfy { $0.locationID < $1.locationID })
        try await connection.close()
    }
}

/// A named on-demand point that serves one playlist at its own path.
@Suite(.serialized)
final class FilePointTests: ServerSuite {
    let fixture: InProcessServer

    init() throws {
        fixture = try InProcessServer { config in
            config.fastStartBufferSeconds = 60
            config.fastStartMaximumRate = 100
            config.points = [.init(name: "show", path: "/show", source: .file("playlist.wsx"))]
        }
    }

    @Test func thePointPlaysItsPlaylistAndNothingBelowIt() async throws {
        let play = try await client.play("/show", available: [1, 2])
        #expect(play.head.headers["Pragma"].first?.contains("features=\"playlist\"") == true)
        let demo = try ASFFile(path: InProcessServer.media + "/demo.wmv")
        #expect(play.frames.filter { $0.type == Frame.data }.count > demo.packetCount)
        #expect(try await client.describe("/show/demo.wmv").head.status == .notFound)
    }
}
