import NIOCore

/// MS-WMSP 2.2.3 packets. The B bit is never set: ffmpeg, VLC and libmms abort on 0xA4 frames
/// (CLIENTS.md 1.5), and only $H, $D, $E and $C are sent, for the same reason.
public enum Frame {
    public static let header: UInt8 = 0x48      // "H"
    public static let data: UInt8 = 0x44        // "D"
    public static let endOfStream: UInt8 = 0x45 // "E"
    public static let streamChange: UInt8 = 0x43 // "C"
    public static let test: UInt8 = 0x54        // "T"

    /// Largest MMS data packet payload (2.2.3.1.2: 65,535 bytes including its 8-byte header).
    public static let maximumPayload = 65_535 - 8

    /// Framing header (2.2.3.1.1) and MMS data packet header (2.2.3.1.2) for a payload of `length`.
    public static func writeDataHeader(type: UInt8, locationID: UInt32, incarnation: UInt8, afFlags: UInt8,
                                       payloadLength: Int, to b: inout ByteBuffer) {
        b.writeInteger(UInt8(0x24))
        b.writeInteger(type)
        b.writeInteger(UInt16(8 + payloadLength), endianness: .little)
        b.writeInteger(locationID, endianness: .little)
        b.writeInteger(incarnation)
        b.writeInteger(afFlags)
        b.writeInteger(UInt16(8 + payloadLength), endianness: .little)
    }

    /// The ASF header as $H packets (2.2.3.5): one unless it exceeds the maximum, since ffmpeg
    /// reads only the first piece (CLIENTS.md 1.2). AFFlags 0x0C alone, else 0x04 first, 0x08 last.
    public static func headerPackets(_ asfHeader: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: asfHeader.readableBytes + 16)
        var rest = asfHeader
        var location: UInt32 = 0
        repeat {
            let piece = rest.readSlice(length: min(maximumPayload, rest.readableBytes))!
            let first = location == 0, last = rest.readableBytes == 0
            let flags: UInt8 = (first ? 0x04 : 0) | (last ? 0x08 : 0)
            writeDataHeader(type: header, locationID: location, incarnation: 0, afFlags: flags,
                            payloadLength: piece.readableBytes, to: &out)
            var p = piece
            out.writeBuffer(&p)
            location += 1
        } while rest.readableBytes > 0
        return out
    }

    /// $T (2.2.3.8): a framing header alone, PacketLength 0.
    public static func writeTest(to b: inout ByteBuffer) {
        b.writeInteger(UInt8(0x24))
        b.writeInteger(test)
        b.writeInteger(UInt16(0), endianness: .little)
    }

    /// $E (2.2.3.4) or $C (2.2.3.2): framing header and a 4-byte reason.
    public static func writeNotification(type: UInt8, reason: UInt32, to b: inout ByteBuffer) {
        b.writeInteger(UInt8(0x24))
        b.writeInteger(type)
        b.writeInteger(UInt16(4), endianness: .little)
        b.writeInteger(reason, endianness: .little)
    }
}
