import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import LoadTest

/// The pieces of the players' connections: the non-pipelined WMSP response head, and the
/// addresses sessions connect from.
struct ConnectionTests {
    static let response = "HTTP/1.0 200 OK\r\nContent-Type: application/x-mms-framed\r\nPragma: no-cache,client-id=42\r\n"
        + "Pragma:  features=\"broadcast\" \t\r\n\r\n"

    /// The head comes out once, whole, however it is cut; the bytes after it come out as they
    /// arrived, the first ones with the head's last piece.
    @Test(arguments: [1, 2, 3, 17, 200])
    func theHeadComesOutWholeThenTheBodyAsItArrives(piece: Int) throws {
        let channel = EmbeddedChannel(handler: ClosingResponseDecoder())
        var bytes = ByteBuffer(string: Self.response + "$D body")
        while bytes.readableBytes > 0 {
            try channel.writeInbound(bytes.readSlice(length: min(piece, bytes.readableBytes))!)
        }
        try channel.writeInbound(ByteBuffer(string: " more"))
        guard case let .head(head) = try channel.readInbound(as: HTTPClientResponsePart.self) else {
            Issue.record("no head first")
            return
        }
        #expect(head.status == .ok && head.version == .http1_0)
        #expect(head.headers["Pragma"] == ["no-cache,client-id=42", "features=\"broadcast\""])
        #expect(head.headers["Content-Type"] == ["application/x-mms-framed"])
        var body = ""
        while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
            guard case let .body(b) = part else {
                Issue.record("not a body part: \(part)")
                return
            }
            body += String(buffer: b)
        }
        #expect(body == "$D body more")
    }

    @Test(arguments: ["HTTP/1.0 OK\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.0 200 OK\r\nno colon\r\n\r\n"])
    func aMalformedHeadIsAnError(head: String) {
        let channel = EmbeddedChannel(handler: ClosingResponseDecoder())
        #expect(throws: ClosingResponseDecoder.Malformed.self) { try channel.writeInbound(ByteBuffer(string: head)) }
    }

    @Test func aHeadThatNeverEndsIsAnError() throws {
        let channel = EmbeddedChannel(handler: ClosingResponseDecoder())
        let line = ByteBuffer(string: "X-Filler: " + String(repeating: "x", count: 1000) + "\r\n")
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.0 200 OK\r\n"))
        #expect(throws: ClosingResponseDecoder.Malformed.self) {
            for _ in 0...(ClosingResponseDecoder.maximumHeadLength / line.readableBytes) { try channel.writeInbound(line) }
        }
    }

    /// To a loopback server, sessions connect from 16 loopback addresses in turn; to any other,
    /// from where the system routes.
    @Test func loopbackSessionsConnectFromSixteenAddresses() throws {
        let loopback = try SocketAddress(ipAddress: "127.0.0.1", port: 8080)
        let sources = (0..<32).map { ServerAddress.source(for: LoadSession(index: $0, started: .now(), tolerance: .seconds(1)), to: loopback) }
        #expect(sources.map { $0?.ipAddress } == (0..<32).map { "127.0.0.\($0 % 16 + 1)" })
        #expect(sources.allSatisfy { $0?.port == 0 })
        let remote = try SocketAddress(ipAddress: "192.0.2.1", port: 8080)
        #expect(ServerAddress.source(for: LoadSession(index: 0, started: .now(), tolerance: .seconds(1)), to: remote) == nil)
        let v6 = try SocketAddress(ipAddress: "::1", port: 8080)
        #expect(ServerAddress.source(for: LoadSession(index: 0, started: .now(), tolerance: .seconds(1)), to: v6) == nil)
    }
}
