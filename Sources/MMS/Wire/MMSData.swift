import NIOCore

/// The Data packet (MS-MMSP 2.2.2): an 8-byte header, then a piece of the ASF header or one ASF
/// data packet.
public struct MMSData: Equatable, Sendable {
    /// The header piece's index, or the ASF data packet's number in the file (2.2.2).
    public var locationID: UInt32
    /// The low byte of the message that asked for it: ReadBlock's for the header, StartPlaying's
    /// for data packets (ffmpeg skips others: CLIENTS.md 2.3).
    public var playIncarnation: UInt8
    /// For data packets the sequence number's low byte; for the header 0x04, and 0x0C on its last piece.
    public var flags: UInt8
    public var payload: ByteBuffer

    public static let headerSize = 8
    public static let headerPiece: UInt8 = 0x04
    public static let lastHeaderPiece: UInt8 = 0x0C

    public init(locationID: UInt32, playIncarnation: UInt8, flags: UInt8, payload: ByteBuffer) {
        self.locationID = locationID
        self.playIncarnation = playIncarnation
        self.flags = flags
        self.payload = payload
    }

    public static func writeHeader(locationID: UInt32, playIncarnation: UInt8, flags: UInt8, payloadLength: Int, to b: inout ByteBuffer) {
        b.writeMultipleIntegers(locationID, playIncarnation, flags, UInt16(truncatingIfNeeded: headerSize + payloadLength), endianness: .little)
    }

    /// The ASF header (Header Object and the Data Object's first 50 bytes) as Data packets of at
    /// most `pieceSize` bytes each (3.2.5.8.1).
    public static func headerPackets(_ header: ByteBuffer, playIncarnation: UInt8, pieceSize: Int = 8192, to b: inout ByteBuffer) {
        var offset = 0
        var index: UInt32 = 0
        repeat {
            let length = min(pieceSize, header.readableBytes - offset)
            let last = offset + length == header.readableBytes
            writeHeader(locationID: index, playIncarnation: playIncarnation, flags: last ? lastHeaderPiece : headerPiece, payloadLength: length, to: &b)
            var piece = header.getSlice(at: header.readerIndex + offset, length: length)!
            b.writeBuffer(&piece)
            offset += length
            index += 1
        } while offset < header.readableBytes
    }

    /// Parses one Data packet at the front of `b` (a TCP stream) or the whole of a datagram;
    /// nil until it is complete.
    public static func parse(_ b: inout ByteBuffer) throws -> MMSData? {
        guard b.readableBytes >= headerSize else { return nil }
        let (location, incarnation, flags, size) = b.getMultipleIntegers(at: b.readerIndex, endianness: .little, as: (UInt32, UInt8, UInt8, UInt16).self)!
        guard Int(size) >= headerSize else { throw MMSMessageParser.Malformed.length(Int(size)) }
        guard b.readableBytes >= Int(size) else { return nil }
        let payload = b.getSlice(at: b.readerIndex + headerSize, length: Int(size) - headerSize)!
        b.moveReaderIndex(forwardBy: Int(size))
        return MMSData(locationID: location, playIncarnation: incarnation, flags: flags, payload: payload)
    }
}

/// RequestPacketListResend (MS-MMSP 2.2.5): a UDP client asks for Data packets again by their
/// 32-bit sequence numbers.
public struct ResendRequest: Equatable, Sendable {
    public static let signature: UInt32 = 0xBEEF_F00D
    public var clientID: UInt32
    public var sourceID: UInt16
    public var sequences: [UInt32]

    public init(clientID: UInt32, sourceID: UInt16, sequences: [UInt32]) {
        self.clientID = clientID
        self.sourceID = sourceID
        self.sequences = sequences
    }

    public init(parsing b: ByteBuffer) throws {
        guard let (signature, client, source, count) = b.getMultipleIntegers(at: b.readerIndex, endianness: .little, as: (UInt32, UInt32, UInt16, UInt16).self),
              signature == Self.signature else { throw MMSMessageParser.Malformed.signature(b.getInteger(at: b.readerIndex, endianness: .little) ?? 0) }
        guard (1...32).contains(count), b.readableBytes >= 12 + 4 * Int(count) else { throw MMSMessageParser.Malformed.length(Int(count)) }
        clientID = client
        sourceID = source
        sequences = (0..<Int(count)).map { b.getInteger(at: b.readerIndex + 12 + 4 * $0, endianness: .little)! }
    }

    public func write(to b: inout ByteBuffer) {
        b.writeMultipleIntegers(Self.signature, clientID, sourceID, UInt16(sequences.count), endianness: .little)
        for s in sequences { b.writeInteger(s, endianness: .little) }
    }
}
