import NIOCore
import NIOEmbedded
import Push
import Testing

/// The raw bytes of the HTTP port as the decoder gets them through `UnstatedLengthHandler`.
@Suite struct UnstatedLengthHandlerTests {
    /// `input` fed in pieces of `chunk` bytes; what comes out, and whether the handler is still there.
    static func pass(_ input: String, chunk: Int) throws -> (output: String, stays: Bool) {
        let channel = EmbeddedChannel(handler: UnstatedLengthHandler())
        var bytes = ByteBuffer(string: input)
        while bytes.readableBytes > 0 {
            try channel.writeInbound(bytes.readSlice(length: min(chunk, bytes.readableBytes))!)
        }
        var output = ""
        while let part = try channel.readInbound(as: ByteBuffer.self) { output += String(buffer: part) }
        let stays = (try? channel.pipeline.syncOperations.handler(type: UnstatedLengthHandler.self)) != nil
        _ = try channel.finish()
        return (output, stays)
    }

    @Test(arguments: [1, 7, 4096])
    func aPushStartWithoutALengthReachesTheDecoderWithWMEs(chunk: Int) throws {
        let setup = "POST /push HTTP/1.1\r\nContent-Type: application/x-wms-pushsetup\r\nContent-Length: 5\r\n\r\nabcde"
        let start = "POST /push HTTP/1.1\r\nContent-Type: application/x-wms-pushstart\r\nContent-Length: 0\r\n\r\n"
        let body = "$H\u{4}\u{0}\r\n\r\n$D\u{1}\u{0}x"
        let (output, stays) = try Self.pass(setup + start + body, chunk: chunk)
        #expect(output == setup + "POST /push HTTP/1.1\r\nContent-Type: application/x-wms-pushstart\r\nContent-Length: 2147483647\r\n\r\n" + body)
        #expect(!stays, "the body is the rest of the connection: nothing more to read here")
    }

    @Test(arguments: [1, 4096])
    func aPlayersRequestsPassAsTheyCame(chunk: Int) throws {
        let requests = "GET /demo.wmv HTTP/1.1\r\nPragma: xPlayStrm=1\r\n\r\nGET /demo.wmv HTTP/1.1\r\n\r\n"
        let (output, stays) = try Self.pass(requests, chunk: chunk)
        #expect(output == requests)
        #expect(!stays, "a player's connection does not pass through it after its first request")
    }

    @Test func aHeadThatNeverEndsIsPassedOnAtTheLimit() throws {
        let flood = "POST /push HTTP/1.1\r\nX: " + String(repeating: "a", count: 70_000)
        let (output, stays) = try Self.pass(flood, chunk: 1000)
        #expect(output == flood)
        #expect(!stays)
    }
}
