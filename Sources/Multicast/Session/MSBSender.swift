import ASF
import NIOCore

/// What goes on the group for each ASF packet of a broadcast (MS-MSB 2.2.4, 3.1.5.1): an MSB
/// packet under the next dwPacketID and the current Format ID, the ASF packet's padding
/// stripped (Padding Length 0, an explicit Packet Length: `withoutPadding`), and after every
/// `fecSpan` packets their parity (2.2.2). A plain value: the sender's handler owns the socket.
public struct MSBSender: Sendable {
    public private(set) var formatID: UInt16 = 0
    /// wStreamID's top bit, flipped at each playlist entry and each new header (3.1.5.1).
    public private(set) var entryToggle = false
    private let fecSpan: Int
    private var parity: ParitySpan?
    private var nextID: UInt32 = 0
    /// Packets that could not be sent: larger than a datagram, or not ASF packets.
    public private(set) var dropped = 0
    public private(set) var parityPackets = 0
    public private(set) var dataPackets = 0

    public init(fecSpan: Int) {
        self.fecSpan = fecSpan
        parity = fecSpan > 0 ? ParitySpan(span: fecSpan) : nil
    }

    /// From here on the packets are another entry's, of `formatID`'s header. The open span ends
    /// without its parity, as Windows ends a short last cycle (<8>), so that no span holds two
    /// entries' packets.
    public mutating func newEntry(formatID: UInt16) {
        self.formatID = formatID
        entryToggle.toggle()
        if let open = parity, open.count > 0 { parity = ParitySpan(span: fecSpan, cycle: open.cycle &+ 1) }
    }

    public enum Output {
        case packet(ByteBuffer)
        /// The packet and the parity of the span it completes.
        case packetAndParity(ByteBuffer, ByteBuffer)
        /// Not sendable: not an ASF packet, or larger than an MSB packet's 16-bit size.
        case dropped(String)
    }

    /// The datagrams for one ASF packet as stored.
    public mutating func datagrams(for stored: ByteBuffer) -> Output {
        guard var packet = try? DataPacket(parsing: stored) else {
            dropped += 1
            return .dropped("a data packet that does not parse")
        }
        if let stripped = packet.withoutPadding(storedSize: stored.readableBytes) { packet = stripped }
        // Parity needs the 2 bytes of error correction data every ASF writer but GStreamer's gives.
        if parity != nil { packet.addStandardErrorCorrection() }
        // The datagram in one buffer: its 8-byte header filled in once the packet is written.
        var datagram = ByteBuffer()
        datagram.reserveCapacity(MSBDatagram.headerSize + stored.readableBytes + 3)
        datagram.moveWriterIndex(forwardBy: MSBDatagram.headerSize)
        datagram.moveReaderIndex(forwardBy: MSBDatagram.headerSize)
        packet.write(to: &datagram)
        guard MSBPacket.fits(datagram) else {
            dropped += 1
            return .dropped("an ASF packet of \(datagram.readableBytes) bytes, more than an MSB packet holds")
        }
        let id = nextID
        nextID &+= 1
        dataPackets += 1
        var parityBody: ByteBuffer?
        if parity != nil, packet.errorCorrectionFlags == 0x82 {
            parityBody = parity!.add(&datagram)
        }
        datagram.moveReaderIndex(to: 0)
        datagram.setMultipleIntegers(id, MSBPacket.streamID(formatID: formatID, entryToggle: entryToggle), UInt16(datagram.readableBytes),
                                     at: 0, endianness: .little)
        guard let parityBody, MSBPacket.fits(parityBody) else { return .packet(datagram) }
        parityPackets += 1
        // A parity packet repeats the ID of the packet before it (2.2.2).
        var parityDatagram = ByteBuffer()
        MSBPacket(id: id, formatID: formatID, entryToggle: entryToggle, data: parityBody).write(to: &parityDatagram)
        return .packetAndParity(datagram, parityDatagram)
    }

    /// A beacon (2.2.3).
    public static let beacon: ByteBuffer = {
        var b = ByteBuffer()
        MSBDatagram.beacon.write(to: &b)
        return b
    }()
}
