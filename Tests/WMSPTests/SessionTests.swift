import ASF
import AsfcastServer
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
@testable import WMSP

/// Sessions across connections (non-pipelined mode) and on one connection (pipelined mode), with
/// real-time pacing so that control requests arrive while data flows.
@Suite(.serialized)
final class SessionTests: ServerSuite {
    let fixture: InProcessServer
    let accessLog = FileManager.default.temporaryDirectory.appendingPathComponent("asfcast-access-\(UUID().uuidString).log").path
    typealias Parts = AsyncThrowingStream<WMSPConnection.Part, Error>.AsyncIterator

    init() throws {
        let log = accessLog
        fixture = try InProcessServer { config in
            config.fastStartBufferSeconds = 0
            config.fastStartMaximumRate = 1
            config.accessLog = log
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: accessLog)
    }

    static func clientID(_ head: HTTPResponseHead) -> UInt32? {
        Pragma(headerValues: head.headers["Pragma"]).number("client-id").flatMap { UInt32(exactly: $0) }
    }

    /// Reads parts up to and including the first for which `stop` holds, or to the end.
    static func read(_ parts: inout Parts, through stop: (WMSPConnection.Part) -> Bool) async throws -> [WMSPConnection.Part] {
        var read: [WMSPConnection.Part] = []
        while let part = try await parts.next() {
            read.append(part)
            if stop(part) { break }
        }
        return read
    }

    static func isData(_ part: WMSPConnection.Part) -> Bool { if case let .frame(f) = part { f.type == Frame.data } else { false } }
    static func isEnd(_ part: WMSPConnection.Part) -> Bool { if case .end = part { true } else { false } }
    static func isEndOfStream(_ part: WMSPConnection.Part) -> Bool { if case let .frame(f) = part { f.type == Frame.endOfStream } else { false } }
    static func frames(_ parts: [WMSPConnection.Part], _ type: UInt8) -> [ReceivedFrame] {
        parts.compactMap { if case let .frame(f) = $0, f.type == type { f } else { nil } }
    }

    /// With real-time pacing the server has produced, by the time a switch is acknowledged, only
    /// packets sent up to the Fast Start lead (the preroll) plus the time since Play was sent. Later
    /// packets were produced after the switch: none of them may carry `stream`.
    static func expectFramesAfterSwitchWithout(_ stream: UInt8, in frames: [ReceivedFrame], preroll: UInt32, acknowledgedAfter elapsed: Duration) throws {
        let bound = preroll + UInt32(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000) + 200
        let late = try frames.filter { try DataPacket.sendTime(of: $0.payload) > bound }
        #expect(!late.isEmpty, "packets after \(bound) ms")
        for frame in late { #expect(!(try DataPacket(parsing: frame.payload).streamNumbers.contains(stream))) }
    }

    @Test func selectStreamFromAnotherConnectionSwitchesTheData() async throws {
        let file = try ASFFile(path: InProcessServer.media + "/demo.wmv")
        let describe = try await client.describe("/demo.wmv")
        let id = try #require(Self.clientID(describe.head))
        let data = try await WMSPConnection.connect(group: group, host: "127.0.0.1", port: server.httpPort)
        let clock = ContinuousClock(), sent = clock.now
        try await data.send(.GET, "/demo.wmv", pragmas: ["client-id=\(id)", "xPlayStrm=1", "stream-switch-entry=ffff:1:0 ffff:2:0"],
                            version: .http1_0)
        var parts = data.parts.makeAsyncIterator()
        let start = try await Self.read(&parts, through: Self.isData)
        guard case let .head(head) = start.first else { Issue.record("no response head"); return }
        #expect(Self.clientID(head) == id, "Play joined the session of the Describe")
        #expect(server.sessions.state(of: id) == .streaming)

        let select = try await client.request("/demo.wmv", pragmas: ["client-id=\(id)", "stream-switch-entry=ffff:1:2 ffff:2:0"], method: .POST)
        let acknowledged = clock.now - sent
        #expect(select.head.status == .ok)
        let rest = try await Self.read(&parts, through: { _ in false })
        #expect(Self.frames(rest, Frame.endOfStream).count == 1)
        try Self.expectFramesAfterSwitchWithout(1, in: Self.frames(rest, Frame.data), preroll: UInt32(file.header.fileProperties.preroll),
                                                acknowledgedAfter: acknowledged)
    }

    @Test func stopFromAnotherConnectionEndsTheData() async throws {
        let file = try ASFFile(path: InProcessServer.media + "/demo.wmv")
        let data = try await WMSPConnection.connect(group: group, host: "127.0.0.1", port: server.httpPort)
        try await data.send(.GET, "/demo.wmv", pragmas: ["xPlayStrm=1", "stream-switch-entry=ffff:1:0 ffff:2:0"], version: .http1_0)
        var parts = data.parts.makeAsyncIterator()
        let start = try await Self.read(&parts, through: Self.isData)
        guard case let .head(head) = start.first, let id = Self.clientID(head) else { Issue.record("no client-id"); return }
        let stop = try await client.request("/demo.wmv", pragmas: ["client-id=\(id)", "xStopStrm=1"], method: .POST)
        #expect(stop.head.status == .ok)
        // 3.2.5.10: the $D packets stop and, in non-pipelined mode, the data connection ends.
        let rest = try await Self.read(&parts, through: { _ in false })
        #expect(Self.frames(rest, Frame.endOfStream).isEmpty)
        #expect(Self.frames(start + rest, Frame.data).count < file.packetCount / 2, "stopped well before the end")
        #expect(server.sessions.state(of: id) == .idle)
        let log = try String(contentsOfFile: accessLog, encoding: .utf8)
        #expect(log.contains("/demo.wmv"), "the session has its access log line")
    }

    @Test func controlForAnUnknownSessionIsAnError() async throws {
        let unknown = try await client.request("/demo.wmv", pragmas: ["client-id=1", "xKeepAliveInPause=1"], method: .POST)
        #expect(unknown.head.status == .badRequest)
        let none = try await client.request("/demo.wmv", pragmas: ["xStopStrm=1"], method: .POST)
        #expect(none.head.status == .badRequest)
        let describe = try await client.describe("/demo.wmv")
        let id = try #require(Self.clientID(describe.head))
        let keepAlive = try await client.request("/demo.wmv", pragmas: ["client-id=\(id)", "xKeepAliveInPause=1"], method: .POST)
        #expect(keepAlive.head.status == .ok)
    }

    @Test func clientLogsReachTheAccessLogWithTheRealAddress() async throws {
        let fields = (0..<44).map { $0 == 0 ? "0.0.0.0" : $0 == 4 ? "/demo.wmv" : $0 == 12 ? "NSPlayer/12.0" : "-" }
        var xml = ByteBuffer()
        xml.writeString("<XML><Summary>\(fields.joined(separator: " "))</Summary><c-dns>-</c-dns></XML>")
        let log = try await client.request("/demo.wmv", pragmas: [], method: .POST,
                                           headers: [("Content-Type", "application/x-wms-LogStats")], body: xml)
        #expect(log.head.status == .ok)
        let line = try String(contentsOfFile: accessLog, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        #expect(line.hasPrefix("127.0.0.1 "))
        #expect(line.split(separator: " ").count == 44)
        #expect(line.contains("/demo.wmv"))
    }

    @Test func pipelinedModeOnOneConnection() async throws {
        let file = try ASFFile(path: InProcessServer.media + "/demo.wmv")
        let connection = try await WMSPConnection.connect(group: group, host: "127.0.0.1", port: server.httpPort)
        var parts = connection.parts.makeAsyncIterator()

        // The pipeline test (2.2.2.5): two Pipeline requests in a row.
        try await connection.send(.GET, "/noindex.wmv", pragmas: ["pipeline-request=1"])
        try await connection.send(.GET, "/noindex.wmv", pragmas: ["pipeline-request=1"])
        let test = try await Self.read(&parts, through: Self.isEnd)
        guard case let .head(first) = test.first else { Issue.record("no head"); return }
        #expect(first.version == .http1_1 && first.headers["Transfer-Encoding"] == ["chunked"])
        #expect(Self.frames(test, Frame.test).count == 1)
        let result = try await Self.read(&parts, through: Self.isEnd)
        guard case let .head(second) = result.first else { Issue.record("no second head"); return }
        #expect(Pragma(headerValues: second.headers["Pragma"]).number("pipeline-result") == 1)

        // Play, chunked, on the same connection.
        let clock = ContinuousClock(), sent = clock.now
        try await connection.send(.GET, "/demo.wmv", pragmas: ["xPlayStrm=1", "version11-enabled=1", "stream-switch-entry=ffff:1:0 ffff:2:0"])
        let playStart = try await Self.read(&parts, through: Self.isData)
        guard case let .head(play) = playStart.first else { Issue.record("no play head"); return }
        #expect(play.headers["Content-Type"] == ["application/x-mms-framed"])

        // A KeepAlive waits for the data response; a SelectStream ends it and carries on.
        try await connection.send(.OPTIONS, "/noindex.wmv", pragmas: [])
        try await connection.send(.GET, "/demo.wmv", pragmas: ["stream-switch-entry=ffff:1:2 ffff:2:0"])
        let firstResponse = try await Self.read(&parts, through: Self.isEnd)
        let acknowledged = clock.now - sent
        let keepAlive = try await Self.read(&parts, through: Self.isEnd)
        guard case let .head(keepAliveHead) = keepAlive.first else { Issue.record("no KeepAlive reply"); return }
        #expect(keepAliveHead.status == .ok && keepAlive.count == 2, "an empty reply")
        let selectResponse = try await Self.read(&parts, through: Self.isEnd)
        guard case let .head(selectHead) = selectResponse.first else { Issue.record("no SelectStream response"); return }
        #expect(selectHead.headers["Content-Type"] == ["application/x-mms-framed"])
        #expect(Self.frames(selectResponse, Frame.endOfStream).count == 1, "the data goes on to its end in this response")

        let data = Self.frames(playStart + firstResponse, Frame.data) + Self.frames(selectResponse, Frame.data)
        #expect(zip(data, data.dropFirst()).allSatisfy { $0.locationID < $1.locationID })
        try Self.expectFramesAfterSwitchWithout(1, in: Self.frames(selectResponse, Frame.data), preroll: UInt32(file.header.fileProperties.preroll),
                                                acknowledgedAfter: acknowledged)

        // The connection stays open for more requests.
        try await connection.send(.OPTIONS, "/noindex.wmv", pragmas: [])
        let again = try await Self.read(&parts, through: Self.isEnd)
        guard case let .head(againHead) = again.first else { Issue.record("no reply"); return }
        #expect(againHead.status == .ok)
        try await connection.close()
    }
}
