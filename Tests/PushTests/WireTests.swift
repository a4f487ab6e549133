import Foundation
import NIOCore
import NIOHTTP1
import Push
import Testing

@Suite struct PushWireTests {
    static let frames: [PushFrame] = [
        .header(ByteBuffer(bytes: Array(repeating: 0x11, count: 100))),
        .data(ByteBuffer(bytes: Array(repeating: 0x82, count: 300))),
        .filler(9),
        .end(reason: 1),
        .change(reason: 0, header: ByteBuffer(bytes: [1, 2, 3])),
        .end(reason: 0),
    ]

    @Test func framesRoundTripWhateverTheChunking() throws {
        var body = ByteBuffer()
        for frame in Self.frames { frame.write(to: &body) }
        // The 4-byte framing header of 2.2.3: '$', the letter, a little-endian WORD length.
        #expect(Array(body.readableBytesView.prefix(4)) == [0x24, 0x48, 100, 0])
        for chunk in [1, 3, 7, 64, body.readableBytes] {
            var parser = PushFrameParser()
            var parsed: [PushFrame] = []
            var rest = body
            while rest.readableBytes > 0 {
                parser.append(rest.readSlice(length: min(chunk, rest.readableBytes))!)
                while let frame = try parser.next() { parsed.append(frame) }
            }
            #expect(parsed == Self.frames, "chunks of \(chunk)")
            #expect(parser.pending == 0)
        }
    }

    @Test(arguments: [
        ([0x25, 0x44, 0, 0], "not 0x24"),
        ([0xA4, 0x44, 0, 0], "0xa4"),
        ([0x24, 0x5A, 0, 0], "unknown frame type 0x5a"),
        ([0x24, 0x45, 2, 0, 0, 0], "$E frame of 2 bytes"),
        ([0x24, 0x43, 3, 0, 0, 0, 0], "$C frame of 3 bytes"),
    ] as [([UInt8], String)])
    func badFramingIsRefusedWithItsReason(bytes: [UInt8], reason: String) {
        var parser = PushFrameParser()
        parser.append(ByteBuffer(bytes: bytes))
        #expect { try parser.next() } throws: { "\($0)".contains(reason) }
    }

    /// tsukasa's end of the stream (PUSH.md 1.7): a `$E` of no bytes is the end without an error.
    @Test func anEndOfNoBytesIsTheEnd() throws {
        var parser = PushFrameParser()
        parser.append(ByteBuffer(bytes: [0x24, 0x45, 0, 0]))
        #expect(try parser.next() == .end(reason: 0))
    }

    static func rawHead(_ text: String) -> ByteBuffer { ByteBuffer(string: text.replacingOccurrences(of: "\n", with: "\r\n")) }

    /// A PushStart that states no length, or the PushSetup's 0, is the rest of the connection and
    /// gets WME's length; every other head stays as it came.
    @Test func aPushStartWithoutALengthGetsTheEncodersLength() throws {
        for length in ["", "Content-Length: 0\n"] {
            let read = try #require(UnstatedLength(Self.rawHead("POST /push HTTP/1.1\nContent-Type: application/x-wms-pushstart\n\(length)User-Agent: tsukasa\n\n")))
            #expect(read.isPush && read.body == .toTheEnd)
            #expect(String(buffer: read.head) == String(buffer: Self.rawHead(
                "POST /push HTTP/1.1\nContent-Type: application/x-wms-pushstart\nUser-Agent: tsukasa\nContent-Length: 2147483647\n\n")))
        }
        let cases: [(String, Bool, UnstatedLength.Body)] = [
            ("POST /push HTTP/1.1\nContent-Type: application/x-wms-pushstart\nContent-Length: 2147483647\n\n", true, .length(2_147_483_647)),
            ("POST /push HTTP/1.1\ncontent-type: application/x-wms-pushsetup\ncontent-length: 30\n\n", true, .length(30)),
            ("POST /push HTTP/1.1\nContent-Type: application/x-wms-pushsetup\nContent-Length: 0\n\n", true, .none),
            ("POST /push HTTP/1.1\nContent-Type: application/x-wms-pushstart\nTransfer-Encoding: chunked\n\n", true, .chunked),
            ("POST /push HTTP/1.1\nContent-Type: application/x-wms-pushstart\nContent-Length: 5\nContent-Length: 6\n\n", true, .none),
            ("GET /demo.wmv HTTP/1.0\nUser-Agent: NSPlayer/12.0\n\n", false, .none),
            ("POST /demo.wmv HTTP/1.1\nContent-Type: application/x-wms-sendevent\nContent-Length: 12\n\n", false, .length(12)),
        ]
        for (text, isPush, body) in cases {
            let read = try #require(UnstatedLength(Self.rawHead(text)))
            #expect(read.isPush == isPush && read.body == body, "\(text)")
            #expect(read.head == Self.rawHead(text), "\(text)")
        }
        #expect(UnstatedLength(Self.rawHead("hello\n\n")) == nil)
        #expect(UnstatedLength(Self.rawHead("POST / HTTP/1.1\nno colon\n\n")) == nil)
    }

    static func head(_ lines: [(String, String)], method: HTTPMethod = .POST, uri: String = "//live") -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(lines))
    }

    @Test func requestsAreReadAsEncodersSendThem() throws {
        // WME 11's PushSetup (PUSH.md 1.1) and WME 9's PushStart with extra cookies (1.7).
        let setup = try #require(PushRequest(head: Self.head([("Content-Type", "application/x-wms-pushsetup"), ("Content-Length", "16"),
                                                              ("Cookie", "push-id=0")])))
        #expect(setup.kind == .setup)
        #expect(setup.pushIDs.isEmpty)
        let start = try #require(PushRequest(head: Self.head([("Content-Type", "application/x-wms-pushstart"), ("Content-Length", "2147483647"),
                                                              ("Cookie", "__utma=1.2; push-id=35201712"), ("Cookie", "push-id=7")])))
        #expect(start.kind == .start)
        #expect(start.pushIDs == ["35201712", "7"])
        #expect(start.contentLength == 2_147_483_647)
        #expect(PushRequest(head: Self.head([("Content-Type", "application/x-wms-pushstart")]))?.contentLength == nil)
        #expect(PushRequest(head: Self.head([("Content-Type", "application/x-wms-pushstart"), ("Transfer-Encoding", "chunked")]))?.isChunked == true)
        // Everything else goes on to WMSP: a Log POST, a GET.
        #expect(PushRequest(head: Self.head([("Content-Type", "text/xml")])) == nil)
        #expect(PushRequest(head: Self.head([("Content-Type", "application/x-wms-pushsetup")], method: .GET)) == nil)
    }

    @Test func setupBodies() {
        #expect(PushSetupBody(parsing: "AutoDestroy: 1\r\n") == PushSetupBody(autoDestroy: true))
        #expect(PushSetupBody(parsing: "Template-URL: \"/pub\"\r\nAutoDestroy: 0\r\n") == PushSetupBody(templateURL: "/pub", autoDestroy: false))
        #expect(PushSetupBody(parsing: "") == PushSetupBody())
        #expect(PushSetupBody(autoDestroy: true).text == "AutoDestroy: 1\r\n")
    }

    @Test func answersCarryTheHeadersWMEInsistsOn() {
        let headers = PushResponse.headers(pushID: "4124758405", timeoutMilliseconds: 60000, close: false)
        #expect(headers.map(\.name) == ["Server", "Content-Length", "Date", "Pragma", "Cache-Control", "Set-Cookie", "Supported"])
        #expect(headers.first(name: "Server") == "Cougar/9.01.01.3841")
        #expect(headers.first(name: "Content-Length") == "0")
        #expect(headers.first(name: "Pragma") == "no-cache, timeout=60000")
        #expect(headers.first(name: "Set-Cookie") == "push-id=4124758405")
    }
}

@Suite struct IngestStateMachineTests {
    let header = ByteBuffer(bytes: [1])
    let packet = ByteBuffer(bytes: [2])

    @Test func aStreamStartsWithItsHeaderAndEndsWithE0() {
        var machine = IngestStateMachine()
        #expect(machine.receive(.filler(4)) == .none)
        #expect(machine.receive(.header(header)) == .begin(header: header))
        #expect(machine.receive(.data(packet)) == .packet(packet))
        #expect(machine.receive(.end(reason: 1)) == .none)
        #expect(machine.state == .awaitingChange)
        #expect(machine.receive(.change(reason: 0, header: header)) == .change(header: header))
        #expect(machine.receive(.data(packet)) == .packet(packet))
        #expect(machine.receive(.end(reason: 0)) == .finish(reason: 0))
        #expect(machine.state == .ended)
        #expect(machine.receive(.data(packet)) == .refuse("a frame after the end of the stream"))
    }

    @Test func aBodyThatDoesNotStartWithTheHeaderIsRefused() {
        var machine = IngestStateMachine()
        #expect(machine.receive(.data(packet)) == .refuse("the body does not start with $H"))
        #expect(machine.receive(.end(reason: 0)) == .refuse("the body does not start with $H"))
    }

    @Test func anErrorEndsTheStreamWithItsHRESULT() {
        var machine = IngestStateMachine()
        _ = machine.receive(.header(header))
        #expect(machine.receive(.end(reason: 0x8007_0005)) == .finish(reason: 0x8007_0005))
    }
}
