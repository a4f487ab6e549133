import NIOCore

/// MS-WMSP 2.2.3 packets. The B bit is never set: ffmpeg, VLC and libmms abort on 0xA4 frames
/// (CLIENTS.md 1.5). They abort on $M and $P too, which the spec keeps from them: $M goes only to
/// clients of version 9.0 or later, $P only to clients that ask for a packet-pair experiment.
public enum Frame {
    public static let header: UInt8 = 0x48      // "H"
    public static let data: UInt8 = 0x44        // "D"
    public static let endOfStream: UInt8 = 0x45 // "E"
    public static let streamChange: UInt8 = 0x43 // "C"
    public static let metadata: UInt8 = 0x4D    // "M"
    public static let packetPair: UInt8 = 0x50  // "P"
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
    /// reads only the first piece (CLIENTS.md 1.2).
    public static func headerPackets(_ asfHeader: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        objectPackets(type: header, asfHeader, allocator: allocator)
    }

    /// An entry's metadata as $M packets (2.2.3.6).
    public static func metadataPackets(_ metadata: EntryMetadata, allocator: ByteBufferAllocator) -> ByteBuffer {
        objectPackets(type: Frame.metadata, metadata.payload(allocator: allocator), allocator: allocator)
    }

    /// An object as MMS data packets of `type` (2.2.3.1.2): LocationId counts the pieces, AFFlags
    /// is 0x0C for an object in one piece, else 0x04 on the first and 0x08 on the last.
    static func objectPackets(type: UInt8, _ object: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: object.readableBytes + 16)
        var rest = object
        var location: UInt32 = 0
        repeat {
            var piece = rest.readSlice(length: min(maximumPayload, rest.readableBytes))!
            let first = location == 0, last = rest.readableBytes == 0
            let flags: UInt8 = (first ? 0x04 : 0) | (last ? 0x08 : 0)
            writeDataHeader(type: type, locationID: location, incarnation: 0, afFlags: flags,
                            payloadLength: piece.readableBytes, to: &out)
            out.writeBuffer(&piece)
            location += 1
        } while rest.readableBytes > 0
        return out
    }

    /// The three $P packets that open a Describe response to a packet-pair experiment (2.2.3.7,
    /// 3.2.5.4). `responseHeadLength` is the size of the HTTP response head before them. Their
    /// PacketLength fields hold 504, 504 and 1048 as the spec says, not their sizes: the payloads
    /// are 504 − Reason, 504 and 1048 + Reason random bytes, Reason being the head's size up to 504.
    public static func packetPairs(responseHeadLength: Int, allocator: ByteBufferAllocator) -> [ByteBuffer] {
        let reason = min(504, responseHeadLength)
        var random = SystemRandomNumberGenerator()
        return [(504, 504 - reason), (504, 504), (1048, 1048 + reason)].map { packetLength, payload in
            var b = allocator.buffer(capacity: 8 + payload)
            b.writeInteger(UInt8(0x24))
            b.writeInteger(packetPair)
            b.writeInteger(UInt16(packetLength), endianness: .little)
            b.writeInteger(UInt32(reason), endianness: .little)
            for _ in 0..<payload / 8 { b.writeInteger(random.next() as UInt64) }
            for _ in 0..<payload % 8 { b.writeInteger(UInt8.random(in: .min ... .max, using: &random)) }
            return b
        }
    }

    /// The payload size of the `ordinal`th (0, 1, 2) $P packet whose Reason is `reason` (2.2.3.7).
    public static func packetPairPayloadLength(ordinal: Int, reason: UInt32) -> Int {
        let reason = Int(min(reason, 504))
        switch ordinal {
        case 0: return 504 - reason
        case 1: return 504
        default: return 1048 + reason
        }
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
