import NIOCore
import Testing
@testable import WMSP

/// Frames come out whole however the body is cut into pieces.
struct FrameParserTests {
    /// Three $P (whose length fields are not their lengths), $M, $H, three $D of different
    /// sizes, $E.
    static func body() -> (ByteBuffer, [ReceivedFrame]) {
        var b = ByteBuffer()
        var expected: [ReceivedFrame] = []
        for var pair in Frame.packetPairs(responseHeadLength: 250, allocator: ByteBufferAllocator()) {
            expected.append(ReceivedFrame(type: Frame.packetPair, locationID: 0, afFlags: 0,
                                          payload: pair.getSlice(at: 8, length: pair.readableBytes - 8)!, reason: 250))
            b.writeBuffer(&pair)
        }
        let metadata = EntryMetadata(playlistGenID: 1, broadcastID: 0, features: "seekable")
        b.writeImmutableBuffer(Frame.metadataPackets(metadata, allocator: ByteBufferAllocator()))
        expected.append(ReceivedFrame(type: Frame.metadata, locationID: 0, afFlags: 0x0C,
                                      payload: metadata.payload(allocator: ByteBufferAllocator()), reason: nil))
        let header = ByteBuffer(bytes: Array(repeating: 0x30, count: 40))
        Frame.writeDataHeader(type: Frame.header, locationID: 0, incarnation: 0, afFlags: 0x0C, payloadLength: 40, to: &b)
        b.writeImmutableBuffer(header)
        expected.append(ReceivedFrame(type: Frame.header, locationID: 0, afFlags: 0x0C, payload: header, reason: nil))
        for (i, size) in [100, 1, 333].enumerated() {
            let payload = ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ i) })
            Frame.writeDataHeader(type: Frame.data, locationID: UInt32(i), incarnation: 0, afFlags: UInt8(i), payloadLength: size, to: &b)
            b.writeImmutableBuffer(payload)
            expected.append(ReceivedFrame(type: Frame.data, locationID: UInt32(i), afFlags: UInt8(i), payload: payload, reason: nil))
        }
        Frame.writeNotification(type: Frame.endOfStream, reason: 0, to: &b)
        expected.append(ReceivedFrame(type: Frame.endOfStream, locationID: 0, afFlags: 0, payload: ByteBuffer(), reason: 0))
        return (b, expected)
    }

    /// The frames of `body` fed to a parser `piece` bytes at a time.
    static func parse(_ body: ByteBuffer, piece: Int, readingWhole whole: (UInt8) -> Bool = { _ in true }) throws -> [ReceivedFrame] {
        var body = body
        var parser = FrameParser()
        var frames: [ReceivedFrame] = []
        while body.readableBytes > 0 {
            parser.append(body.readSlice(length: min(piece, body.readableBytes))!)
            while let frame = try parser.next(readingWhole: whole) { frames.append(frame) }
        }
        return frames
    }

    @Test(arguments: [1, 2, 3, 5, 12, 13, 64, 1000])
    func framesComeOutWholeFromPiecesOfAnySize(piece: Int) throws {
        let (body, expected) = Self.body()
        #expect(try Self.parse(body, piece: piece) == expected)
    }

    /// Frames not read whole come with their payload's first bytes and its length, however the
    /// body is cut; the ones read whole are unchanged.
    @Test(arguments: [1, 3, 13, 64, 77, 1000])
    func framesNotReadWholeComeWithTheirPayloadsFirstBytes(piece: Int) throws {
        let (body, expected) = Self.body()
        let prefixes = expected.map { frame in
            guard frame.type == Frame.data || frame.type == Frame.packetPair else { return frame }
            var prefix = frame
            prefix.payload = frame.payload.getSlice(at: frame.payload.readerIndex, length: min(FrameParser.payloadPrefix, frame.payloadLength))!
            return prefix
        }
        #expect(try Self.parse(body, piece: piece, readingWhole: { $0 != Frame.data && $0 != Frame.packetPair }) == prefixes)
    }

    @Test func aBadFramingByteIsMalformed() {
        var parser = FrameParser()
        parser.append(ByteBuffer(bytes: [0x25, 0x44, 0x00, 0x00]))
        #expect(throws: FrameParser.Malformed.self) { try parser.next() }
    }
}
