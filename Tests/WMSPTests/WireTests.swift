import NIOCore
import NIOHTTP1
import Testing
@testable import WMSP

struct WireTests {
    @Test func pragmaKeepsQuotedCommasAndLastValues() {
        let p = Pragma(headerValues: ["no-cache,client-id=12,features=\"seekable,stridable\"", "xClientGUID={0xbabac001-0x3749}"])
        #expect(p["features"] == "seekable,stridable")
        #expect(p.number("client-id") == 12)
        #expect(p["xclientguid"] == "{0xbabac001-0x3749}")
    }

    @Test func pragmaTokensIgnoreBlanksAroundNamesAndValues() {
        let p = Pragma(headerValues: [" no-cache ,\tRate = 1.000000 , =nameless,features=\" a,b \"\t", "rate=2"])
        #expect(p.tokens == ["no-cache": "", "rate": "2", "features": " a,b "])
    }

    @Test func ffmpegsGluedStreamTimeParsesAsItsNumber() {
        let p = Pragma(headerValues: ["no-cache,rate=1.000000,stream-time=0Connection: Close"])
        #expect(p.number("stream-time") == 0)
        let seek = Pragma(headerValues: ["no-cache,rate=1.000000,stream-time=10000Connection: Close"])
        #expect(seek.number("stream-time") == 10000)
    }

    @Test func streamSwitchEntriesInHexAndDecimal() {
        #expect(StreamSwitchEntry.parse("ffff:1:0 ffff:2:0 ", decimal: false) == [.init(stream: 1, thinning: 0), .init(stream: 2, thinning: 0)])
        // VLC prints hex; ffmpeg (NSPlayer/4.1) decimal. Stream 10 is "a" or "10".
        #expect(StreamSwitchEntry.selection("ffff:a:0 ffff:1:2", available: [1, 10], decimalFirst: false) == [10])
        #expect(StreamSwitchEntry.selection("ffff:10:0 ffff:1:2", available: [1, 10], decimalFirst: true) == [10])
        // "10" read as hex is 16, which the content lacks: the decimal reading is used.
        #expect(StreamSwitchEntry.selection("ffff:10:0", available: [1, 10], decimalFirst: false) == [10])
        #expect(StreamSwitchEntry.selection("ffff:9:0", available: [1, 2], decimalFirst: false) == nil)
        #expect(StreamSwitchEntry.parse("garbage", decimal: false) == nil)
    }

    @Test func requestKinds() {
        func head(_ headers: [(String, String)]) -> HTTPRequestHead {
            HTTPRequestHead(version: .http1_0, method: .GET, uri: "/demo.wmv", headers: HTTPHeaders(headers))
        }
        let player = ("User-Agent", "NSPlayer/4.1.0.3856")
        #expect(WMSPRequest(head: head([player, ("Pragma", "no-cache,rate=1.000000,stream-time=0")])).kind == .describe)
        let play = WMSPRequest(head: head([player, ("Pragma", "xPlayStrm=1"), ("Pragma", "stream-switch-entry=ffff:1:0")]))
        #expect(play.kind == .play)
        #expect(play.printsDecimalStreamNumbers)
        #expect(WMSPRequest(head: head([("User-Agent", "VLC/3.0.24")])).kind == .download)
        let vlcSeek = WMSPRequest(head: head([("User-Agent", "NSPlayer/7.10.0.3059"), ("Pragma", "stream-offset=0:320000,stream-time=0")]))
        #expect(vlcSeek.startPosition == .byteOffset(320_000))
        #expect(WMSPRequest(head: head([player, ("Pragma", "stream-time=10000")])).startPosition == .time(milliseconds: 10_000))
    }

    @Test func framesAreLaidOutAsMSWMSP223() {
        var b = ByteBuffer()
        Frame.writeDataHeader(type: Frame.data, locationID: 7, incarnation: 0, afFlags: 3, payloadLength: 3200, to: &b)
        #expect(Array(b.readableBytesView) == [0x24, 0x44, 0x88, 0x0C, 7, 0, 0, 0, 0, 3, 0x88, 0x0C])
        var e = ByteBuffer()
        Frame.writeNotification(type: Frame.endOfStream, reason: 0, to: &e)
        #expect(Array(e.readableBytesView) == [0x24, 0x45, 4, 0, 0, 0, 0, 0])
    }

    @Test func headerIsOnePacketUnlessItExceedsTheMaximum() {
        let small = ByteBuffer(repeating: 1, count: 809)
        var one = Frame.headerPackets(small, allocator: ByteBufferAllocator())
        #expect(one.readableBytes == 809 + 12)
        #expect(one.getInteger(at: 9, as: UInt8.self) == 0x0C)
        let large = ByteBuffer(repeating: 1, count: 100_000)
        let split = Frame.headerPackets(large, allocator: ByteBufferAllocator())
        #expect(split.readableBytes == 100_000 + 2 * 12)
        #expect(split.getInteger(at: 9, as: UInt8.self) == 0x04)
        #expect(split.getInteger(at: 12 + Frame.maximumPayload + 9, as: UInt8.self) == 0x08)
        one.moveReaderIndex(forwardBy: 12)
        #expect(one.readableBytes == 809)
    }

    /// Metadata-Payload (2.2.3.6): tokens, NUL, then the Content Description List (2.2.4) led by
    /// the language, each pair as length,name,type,length,value, ended by CRLF; read back whole.
    @Test func metadataPayloadIsLaidOutAsMSWMSP2236() throws {
        let metadata = EntryMetadata(playlistGenID: 3, broadcastID: 1, features: "broadcast", language: "en-us",
                                     items: [.init("title", "A, B"), .init("author", "")])
        let payload = metadata.payload(allocator: ByteBufferAllocator())
        #expect(String(buffer: payload) ==
                "playlist-gen-id=3, broadcast-id=1, features=\"broadcast\"\0" +
                "8,language,31,5,en-us,5,title,31,4,A, B,6,author,31,0,\r\n")
        #expect(try EntryMetadata(payload: payload) == metadata)
        let bare = EntryMetadata(playlistGenID: 1, broadcastID: 0, features: "seekable,stridable")
        #expect(String(buffer: bare.payload(allocator: ByteBufferAllocator())).hasSuffix("\08,language,31,0,\r\n"))
        #expect(throws: EntryMetadata.Malformed.self) { try EntryMetadata(payload: ByteBuffer(string: "playlist-gen-id=1")) }
        #expect(throws: EntryMetadata.Malformed.self) {
            try EntryMetadata(payload: ByteBuffer(string: "playlist-gen-id=1, broadcast-id=0, features=\"x\"\09,language,31,99,en\r\n"))
        }
    }

    /// $P (2.2.3.7): PacketLength 504, 504, 1048; Reason the head's size up to 504; payloads of
    /// 504 − Reason, 504 and 1048 + Reason bytes.
    @Test func packetPairsFollowTheirReason() {
        for (head, reason) in [(230, 230), (504, 504), (900, 504)] {
            let packets = Frame.packetPairs(responseHeadLength: head, allocator: ByteBufferAllocator())
            #expect(packets.map { $0.getInteger(at: 2, endianness: .little, as: UInt16.self) } == [504, 504, 1048])
            #expect(packets.allSatisfy { $0.getInteger(at: 4, endianness: .little, as: UInt32.self) == UInt32(reason) })
            #expect(packets.map(\.readableBytes) == [8 + 504 - reason, 8 + 504, 8 + 1048 + reason])
        }
    }

    @Test func clientVersionsFromTheUserAgent() {
        func request(_ agent: String) -> WMSPRequest {
            WMSPRequest(head: HTTPRequestHead(version: .http1_0, method: .GET, uri: "/a.wmv", headers: ["User-Agent": agent]))
        }
        #expect(request("NSPlayer/12.0.7601.17514").clientVersion! == (12, 0))
        #expect(request("NSPlayer/9.0.0.2980 WMFSDK/9.0").isVersion9OrLater)
        #expect(!request("NSPlayer/7.10.0.3059").isVersion9OrLater)
        #expect(!request("NSPlayer/4.1.0.3856").isVersion9OrLater)
        #expect(request("VLC/3.0.24").clientVersion == nil)
    }

    @Test func byteRanges() {
        #expect(ByteRange("bytes=100-199", size: 1000)?.range == 100..<200)
        #expect(ByteRange("bytes=900-", size: 1000)?.range == 900..<1000)
        #expect(ByteRange("bytes=-10", size: 1000)?.range == 990..<1000)
        #expect(ByteRange("bytes=1000-", size: 1000) == nil)
        #expect(ByteRange("bytes=5-1", size: 1000) == nil)
        #expect(ByteRange("items=1-2", size: 1000) == nil)
    }
}
