import NIOCore

/// One MSBD message (MS-MSBD 2.2): the 16-byte MSBMSGBASE and its body. Little-endian, but
/// for RES_CONNECT's address, which is a `sockaddr_in` (big-endian port and address).
public enum MSBDMessage: Equatable, Sendable {
    case requestPing
    case responsePing
    case requestStreamInfo
    /// IND_STREAMINFO (2.2.6), or RES_STREAMINFO (2.2.5) when `response`; `hr` is not 0 on the
    /// empty one after the end (3.1.5.3).
    case streamInfo(MSBDStreamInfo, response: Bool, hr: UInt32)
    /// dwFlags 1: the packets over this connection; 2: over IP multicast (2.2.7).
    case requestConnect(flags: UInt32, channel: String)
    /// `group` (IPv4 address and port) when the packets go to a multicast group (2.2.8).
    case responseConnect(hr: UInt32, headerInNSC: Bool, group: (address: UInt32, port: UInt16)?)
    case endOfStream
    /// IND_PACKET (2.2.10): one ASF packet, with its padding.
    case packet(id: UInt32, streamID: UInt16, data: ByteBuffer)

    public static let signature: UInt32 = 0x2042_534D
    public static let version: UInt16 = 0x0106
    public static let headerSize = 16
    /// cbMessage is 0x10...0xFFFF (2.2.1).
    public static let maximumSize = 0xFFFF

    public static func == (a: MSBDMessage, b: MSBDMessage) -> Bool {
        switch (a, b) {
        case (.requestPing, .requestPing), (.responsePing, .responsePing), (.requestStreamInfo, .requestStreamInfo), (.endOfStream, .endOfStream):
            return true
        case let (.streamInfo(x, r1, h1), .streamInfo(y, r2, h2)): return x == y && r1 == r2 && h1 == h2
        case let (.requestConnect(f1, c1), .requestConnect(f2, c2)): return f1 == f2 && c1 == c2
        case let (.responseConnect(h1, n1, g1), .responseConnect(h2, n2, g2)):
            return h1 == h2 && n1 == n2 && g1?.address == g2?.address && g1?.port == g2?.port
        case let (.packet(i1, s1, d1), .packet(i2, s2, d2)): return i1 == i2 && s1 == s2 && d1 == d2
        default: return false
        }
    }

    private var id: UInt16 {
        switch self {
        case .requestPing: 1
        case .responsePing: 2
        case .requestStreamInfo: 3
        case let .streamInfo(_, response, _): response ? 4 : 5
        case .requestConnect: 7
        case .responseConnect: 8
        case .endOfStream: 9
        case .packet: 10
        }
    }

    private var hr: UInt32 {
        switch self {
        case let .streamInfo(_, _, hr), let .responseConnect(hr, _, _): hr
        default: 0
        }
    }

    /// The message; false when it would exceed cbMessage's 64 KiB (a header over 0xFFCF bytes).
    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Bool {
        var body = ByteBuffer()
        switch self {
        case .requestPing, .responsePing, .requestStreamInfo, .endOfStream:
            break
        case let .streamInfo(info, _, _):
            info.write(to: &body)
        case let .requestConnect(flags, channel):
            body.writeInteger(flags, endianness: .little)
            for unit in channel.utf16 { body.writeInteger(unit, endianness: .little) }
        case let .responseConnect(_, headerInNSC, group):
            body.writeInteger(UInt32(headerInNSC ? 2 : 0), endianness: .little)
            body.writeInteger(UInt16(group == nil ? 0 : 2), endianness: .little)
            body.writeInteger(group?.port ?? 0, endianness: .big)
            body.writeInteger(group?.address ?? 0, endianness: .big)
            body.writeRepeatingByte(0, count: 8)
        case let .packet(id, streamID, data):
            body.writeInteger(id, endianness: .little)
            body.writeInteger(streamID, endianness: .little)
            body.writeInteger(UInt16(truncatingIfNeeded: data.readableBytes + 8), endianness: .little)
            body.writeImmutableBuffer(data)
        }
        let size = Self.headerSize + body.readableBytes
        guard size <= Self.maximumSize else { return false }
        buffer.writeInteger(Self.signature, endianness: .little)
        buffer.writeInteger(Self.version, endianness: .little)
        buffer.writeInteger(id, endianness: .little)
        buffer.writeInteger(UInt32(size), endianness: .little)
        buffer.writeInteger(hr, endianness: .little)
        buffer.writeBuffer(&body)
        return true
    }

    /// A whole message, its size checked against cbMessage (5.1).
    public init(parsing message: ByteBuffer) throws(MSBDError) {
        var m = message
        guard let (signature, _, id, size, hr) = m.readMultipleIntegers(endianness: .little, as: (UInt32, UInt16, UInt16, UInt32, UInt32).self)
        else { throw .truncated }
        guard signature == Self.signature else { throw .signature(signature) }
        guard Int(size) == message.readableBytes else { throw .size(declared: Int(size), actual: message.readableBytes) }
        switch id {
        case 1: self = .requestPing
        case 2: self = .responsePing
        case 3: self = .requestStreamInfo
        case 4, 5: self = .streamInfo(try MSBDStreamInfo(parsing: &m, empty: hr != 0), response: id == 4, hr: hr)
        case 7:
            guard let flags = m.readInteger(endianness: .little, as: UInt32.self), m.readableBytes % 2 == 0 else { throw .truncated }
            var units: [UInt16] = []
            while let unit = m.readInteger(endianness: .little, as: UInt16.self) { units.append(unit) }
            self = .requestConnect(flags: flags, channel: String(decoding: units, as: UTF16.self))
        case 8:
            guard let (flags, family) = m.readMultipleIntegers(endianness: .little, as: (UInt32, UInt16).self),
                  let (port, address) = m.readMultipleIntegers(endianness: .big, as: (UInt16, UInt32).self) else { throw .truncated }
            self = .responseConnect(hr: hr, headerInNSC: flags & 2 != 0, group: family == 2 ? (address, port) : nil)
        case 9: self = .endOfStream
        case 10:
            guard let (packetID, streamID, packetSize) = m.readMultipleIntegers(endianness: .little, as: (UInt32, UInt16, UInt16).self) else { throw .truncated }
            guard Int(packetSize) == m.readableBytes + 8 else { throw .size(declared: Int(packetSize), actual: m.readableBytes + 8) }
            self = .packet(id: packetID, streamID: streamID, data: m)
        default: throw .unknownMessage(id)
        }
    }
}

/// The stream an IND_STREAMINFO describes (2.2.6); bBinaryData is the title, description,
/// link and ASF header in that order.
public struct MSBDStreamInfo: Equatable, Sendable {
    public var streamID: UInt16
    public var packetSize: UInt16
    public var totalPackets: UInt32 = 0
    public var bitRate: UInt32
    /// Milliseconds; 0xFFFFFFFF when unknown (a broadcast).
    public var duration: UInt32 = .max
    public var title: [UInt8] = []
    public var description: [UInt8] = []
    public var link: [UInt8] = []
    /// The Header Object and the Data Object's first 50 bytes, as a `.nsc` Format holds it.
    public var header: [UInt8]

    public init(streamID: UInt16, packetSize: UInt16, bitRate: UInt32, header: [UInt8]) {
        self.streamID = streamID
        self.packetSize = packetSize
        self.bitRate = bitRate
        self.header = header
    }

    /// The empty one after the end of the stream (3.1.5.3).
    public static let empty = MSBDStreamInfo(streamID: 0, packetSize: 0, bitRate: 0, header: [])

    /// Each length is 0xFFCF at most (2.2.6).
    public static let maximumField = 0xFFCF

    func write(to b: inout ByteBuffer) {
        b.writeMultipleIntegers(streamID, packetSize, totalPackets, bitRate, duration, endianness: .little)
        b.writeMultipleIntegers(UInt32(title.count), UInt32(description.count), UInt32(link.count), UInt32(header.count), endianness: .little)
        b.writeBytes(title + description + link + header)
    }

    /// `empty`: the one after the end, whose fields a client ignores (3.2.5.2).
    init(parsing m: inout ByteBuffer, empty: Bool) throws(MSBDError) {
        guard !empty || m.readableBytes >= 36 else {
            self = .empty
            return
        }
        guard let (streamID, packetSize, total, bitRate, duration) = m.readMultipleIntegers(endianness: .little, as: (UInt16, UInt16, UInt32, UInt32, UInt32).self),
              let (t, d, l, h) = m.readMultipleIntegers(endianness: .little, as: (UInt32, UInt32, UInt32, UInt32).self) else { throw .truncated }
        let lengths = [t, d, l, h].map(Int.init)
        guard lengths.allSatisfy({ $0 <= Self.maximumField }), lengths.reduce(0, +) <= m.readableBytes else {
            throw .size(declared: lengths.reduce(0, +), actual: m.readableBytes)
        }
        self.init(streamID: streamID, packetSize: packetSize, bitRate: bitRate, header: [])
        totalPackets = total
        self.duration = duration
        title = m.readBytes(length: lengths[0])!
        description = m.readBytes(length: lengths[1])!
        link = m.readBytes(length: lengths[2])!
        header = m.readBytes(length: lengths[3])!
    }
}

public enum MSBDError: Error, Equatable, CustomStringConvertible {
    case truncated
    case signature(UInt32)
    case size(declared: Int, actual: Int)
    case unknownMessage(UInt16)

    public var description: String {
        switch self {
        case .truncated: "an MSBD message cut short"
        case let .signature(s): "signature 0x\(String(s, radix: 16)), not \"MSB \""
        case let .size(declared, actual): "a length of \(declared) where \(actual) bytes are"
        case let .unknownMessage(id): "message ID \(id) is not MSBD's"
        }
    }
}

/// Splits a TCP stream into whole MSBD messages by cbMessage (2.2.1).
public struct MSBDMessageDecoder: ByteToMessageDecoder {
    public typealias InboundOut = MSBDMessage

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= MSBDMessage.headerSize,
              let size = buffer.getInteger(at: buffer.readerIndex + 8, endianness: .little, as: UInt32.self) else { return .needMoreData }
        guard buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self) == MSBDMessage.signature else {
            throw MSBDError.signature(buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self) ?? 0)
        }
        guard (MSBDMessage.headerSize...MSBDMessage.maximumSize).contains(Int(size)) else {
            throw MSBDError.size(declared: Int(size), actual: buffer.readableBytes)
        }
        guard let message = buffer.readSlice(length: Int(size)) else { return .needMoreData }
        context.fireChannelRead(NIOAny(try MSBDMessage(parsing: message)))
        return .continue
    }
}
