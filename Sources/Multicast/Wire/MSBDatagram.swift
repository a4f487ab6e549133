import NIOCore

/// One datagram on a multicast group (MS-MSB 2.2.3, 2.2.4): a 4-byte beacon, or an 8-byte
/// header and one ASF data packet. Little-endian throughout.
public enum MSBDatagram: Equatable, Sendable {
    case beacon
    case packet(MSBPacket)

    /// "MSB " as a little-endian UInt32 (2.2.3).
    public static let beaconSignature: UInt32 = 0x2042_534D
    public static let headerSize = 8

    /// A datagram as received: a beacon is exactly its 4 bytes (a data packet whose ID happens
    /// to be the signature is still a packet: MULTICAST.md §1); a packet's wPacketSize must
    /// be the datagram's length and bits 11–14 of wStreamID zero (5.1).
    public init(parsing datagram: ByteBuffer) throws(MSBDatagramError) {
        if datagram.readableBytes == 4, datagram.getInteger(at: datagram.readerIndex, endianness: .little, as: UInt32.self) == Self.beaconSignature {
            self = .beacon
            return
        }
        guard datagram.readableBytes > Self.headerSize,
              let (id, streamID, size) = datagram.getMultipleIntegers(at: datagram.readerIndex, endianness: .little, as: (UInt32, UInt16, UInt16).self)
        else { throw .tooShort(datagram.readableBytes) }
        guard Int(size) == datagram.readableBytes else { throw .sizeMismatch(declared: Int(size), received: datagram.readableBytes) }
        guard streamID & 0x7800 == 0 else { throw .reservedBits(streamID) }
        self = .packet(MSBPacket(id: id, formatID: streamID & 0x7FF, entryToggle: streamID & 0x8000 != 0,
                                 data: datagram.getSlice(at: datagram.readerIndex + Self.headerSize, length: datagram.readableBytes - Self.headerSize)!))
    }

    public func write(to buffer: inout ByteBuffer) {
        switch self {
        case .beacon:
            buffer.writeInteger(Self.beaconSignature, endianness: .little)
        case let .packet(packet):
            packet.write(to: &buffer)
        }
    }
}

/// An MSB packet (2.2.4): the ASF packet as sent, under its ID and its header's Format ID.
public struct MSBPacket: Equatable, Sendable {
    /// +1 per data packet; a parity packet repeats the ID before it (2.2.2).
    public var id: UInt32
    public var formatID: UInt16
    /// wStreamID's top bit, toggled at every playlist entry (3.1.5.1).
    public var entryToggle: Bool
    public var data: ByteBuffer

    public init(id: UInt32, formatID: UInt16, entryToggle: Bool, data: ByteBuffer) {
        self.id = id
        self.formatID = formatID
        self.entryToggle = entryToggle
        self.data = data
    }

    public var streamID: UInt16 { Self.streamID(formatID: formatID, entryToggle: entryToggle) }

    /// wStreamID: the Format ID in bits 0-10, the entry toggle in bit 15 (2.2.4).
    public static func streamID(formatID: UInt16, entryToggle: Bool) -> UInt16 { formatID & 0x7FF | (entryToggle ? 0x8000 : 0) }

    /// Whether it fits a datagram's 16-bit wPacketSize.
    public static func fits(_ data: ByteBuffer) -> Bool { data.readableBytes + MSBDatagram.headerSize <= Int(UInt16.max) }

    /// The header and the packet; `data` must fit (`fits`).
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(id, streamID, UInt16(MSBDatagram.headerSize + data.readableBytes), endianness: .little)
        buffer.writeImmutableBuffer(data)
    }
}

public enum MSBDatagramError: Error, Equatable, CustomStringConvertible {
    case tooShort(Int)
    case sizeMismatch(declared: Int, received: Int)
    case reservedBits(UInt16)

    public var description: String {
        switch self {
        case let .tooShort(n): "\(n) bytes: neither a beacon nor an MSB packet"
        case let .sizeMismatch(declared, received): "wPacketSize \(declared) in a datagram of \(received) bytes"
        case let .reservedBits(id): "wStreamID 0x\(String(id, radix: 16)) sets the reserved bits 11-14"
        }
    }
}
