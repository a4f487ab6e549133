import NIOCore

/// An ASF file opened for streaming: the header, the data packets read on demand (never the whole
/// file at once), and the index objects that follow the Data Object.
public final class ASFFile: Sendable {
    public let path: String
    public let header: ASFHeader
    /// The Header Object exactly as stored.
    public let headerBytes: ByteBuffer
    public let dataObject: DataObjectHeader
    /// Absolute offset of the first data packet.
    public let dataOffset: Int
    public let packetSize: Int
    /// Packets present: the Data Object's count, or what the file holds when that is unknown or
    /// short, and a last packet cut short when anything of it could be kept.
    public let packetCount: Int
    private let wholePackets: Int
    /// The packet cut short at the end of a partial file, its payloads that parse padded to the
    /// packet size.
    private let trailingPacket: ByteBuffer?
    /// How the file departs from the ASF spec in ways it is read through anyway (warnings for
    /// `asfcast probe` and the server's log), and the header's departures.
    public let departures: [String]
    public let simpleIndexes: [SimpleIndex]
    public let index: IndexObject?
    /// Bytes on disk when opened.
    public let fileSize: Int
    private let file: FileDescriptor

    /// Largest Header Object accepted: far above real files, low enough to refuse nonsense sizes.
    public static let maximumHeaderSize = 16 << 20

    public init(path: String) throws {
        self.path = path
        file = try FileDescriptor(path: path, writing: false)
        let fileSize = file.size
        self.fileSize = fileSize

        var prefix = try file.read(count: 30, at: 0)
        var c = ByteCursor(prefix, context: "Header Object")
        let guid = try c.guid()
        guard guid == .header else { throw ASFError("Header Object", at: 0, .unexpectedGUID(guid)) }
        let headerSize = try c.u64()
        guard headerSize >= 30, headerSize <= UInt64(min(fileSize, Self.maximumHeaderSize)) else {
            throw ASFError("Header Object", at: 16, .invalidSize(headerSize))
        }
        prefix = try file.read(count: Int(headerSize), at: 0)
        headerBytes = prefix
        header = try ASFHeader(parsing: prefix)

        let dataStart = Int(headerSize)
        dataObject = try DataObjectHeader(parsing: try file.read(count: DataObjectHeader.size, at: dataStart), origin: dataStart)
        dataOffset = dataStart + DataObjectHeader.size

        let properties = header.fileProperties
        guard let size = properties.fixedPacketSize else {
            throw ASFError("File Properties Object", at: 0, .invalidValue(
                "packet size varies (\(properties.minimumPacketSize)..\(properties.maximumPacketSize)); streaming needs a fixed size"))
        }
        packetSize = size

        var departures = header.departures
        let declaredEnd = dataObject.objectSize >= UInt64(DataObjectHeader.size)
            ? UInt64(dataStart) + dataObject.objectSize : UInt64(fileSize)
        if dataObject.objectSize < UInt64(DataObjectHeader.size) { departures.append("Data Object size \(dataObject.objectSize)") }
        let dataEnd = Int(min(declaredEnd, UInt64(fileSize)))
        let present = max(0, dataEnd - dataOffset) / size
        let declared = dataObject.totalDataPackets
        wholePackets = declared > 0 && declared <= UInt64(present) ? Int(declared) : present
        if declared != UInt64(wholePackets) { departures.append("Data Object declares \(declared) packets, holds \(present)") }
        // A partial download ends inside a packet: what of it parses is kept.
        let partial = dataEnd - dataOffset - present * size
        if wholePackets == present, partial > 0 {
            departures.append("the last packet is cut short (\(partial) of \(size) bytes)")
            trailingPacket = (try? DataPacket(parsing: try file.read(count: partial, at: dataOffset + present * size)))?.padded(to: size)
        } else {
            trailingPacket = nil
        }
        packetCount = wholePackets + (trailingPacket == nil ? 0 : 1)

        // The indexes after the Data Object (ASF spec 6): one that does not read is left out,
        // and seeking searches send times instead.
        var simple = [SimpleIndex]()
        var index: IndexObject?
        var at = Int(declaredEnd)
        while at + ObjectFraming.headerSize <= fileSize, declaredEnd <= UInt64(fileSize) {
            var head = ByteCursor(try file.read(count: 24, at: at), origin: at, context: "top-level object")
            let guid = try head.guid()
            let size = try head.u64()
            guard size >= 24, UInt64(at) + size <= UInt64(fileSize) else {
                departures.append("\(ObjectFraming.objectName(guid)) at byte \(at) runs past the end: ignored")
                break
            }
            if guid == .simpleIndex || guid == .index {
                var body = ByteCursor(try file.read(count: Int(size) - 24, at: at + 24), origin: at + 24,
                                      context: ObjectFraming.objectName(guid))
                do {
                    if guid == .simpleIndex { simple.append(try SimpleIndex(body: &body)) } else { index = try IndexObject(body: &body) }
                } catch {
                    departures.append("\(error): ignored")
                }
            }
            at += Int(size)
        }
        simpleIndexes = simple
        self.index = index
        self.departures = departures
    }

    /// Whether the file at `path` begins with the Header Object GUID.
    public static func startsWithHeader(path: String) -> Bool {
        guard let file = try? FileDescriptor(path: path, writing: false), let start = try? file.read(count: 16, at: 0),
              start.readableBytes == 16 else { return false }
        return GUID(wireBytes: start.readableBytesView) == .header
    }

    /// Packets `range` as one read; each packet is a slice of it.
    public func readPackets(_ range: Range<Int>) throws -> [ByteBuffer] {
        let range = range.clamped(to: 0..<packetCount)
        guard !range.isEmpty else { return [] }
        let whole = range.clamped(to: 0..<wholePackets)
        var packets: [ByteBuffer] = []
        if !whole.isEmpty {
            let bytes = try file.read(count: whole.count * packetSize, at: dataOffset + whole.lowerBound * packetSize)
            guard bytes.readableBytes == whole.count * packetSize else {
                throw ASFError(path, at: dataOffset + whole.lowerBound * packetSize,
                               .truncated(needed: whole.count * packetSize, available: bytes.readableBytes))
            }
            packets = (0..<whole.count).map { bytes.getSlice(at: bytes.readerIndex + $0 * packetSize, length: packetSize)! }
        }
        if range.upperBound > wholePackets, let trailingPacket { packets.append(trailingPacket) }
        return packets
    }

    public func packet(_ number: Int) throws -> DataPacket {
        guard let bytes = try readPackets(number..<number + 1).first else {
            throw ASFError(path, at: dataOffset + number * packetSize, .invalidValue("no packet \(number)"))
        }
        return try DataPacket(parsing: bytes, origin: dataOffset + number * packetSize)
    }

    /// Reads packets in order from `start`, `batch` packets per read.
    public func packets(from start: Int = 0, batch: Int = 64) -> PacketReader {
        PacketReader(file: self, position: start, batch: batch)
    }

    public struct PacketReader {
        let file: ASFFile
        /// The number of the packet `next()` returns.
        public private(set) var position: Int
        let batch: Int
        var pending: [ByteBuffer] = []
        var pendingIndex = 0

        /// The next packet number and its bytes, or nil after the last packet.
        public mutating func next() throws -> (number: Int, bytes: ByteBuffer)? {
            if pendingIndex == pending.count {
                pending = try file.readPackets(position..<position + batch)
                pendingIndex = 0
                if pending.isEmpty { return nil }
            }
            defer { pendingIndex += 1; position += 1 }
            return (position, pending[pendingIndex])
        }
    }

    /// Playback duration in milliseconds, preroll excluded.
    public var durationMilliseconds: UInt64 { header.fileProperties.durationMilliseconds }

    /// The packet to start from to play at `milliseconds` (preroll excluded): the key frame nearest
    /// the target, found through the Simple Index or Index Object when present, else by binary
    /// search on send time and back to the last packet that starts a key frame.
    public func packetNumber(forTime milliseconds: UInt64) throws -> Int {
        guard packetCount > 0 else { return 0 }
        let presentation = milliseconds.saturatingAdd(header.fileProperties.preroll)
        if let entry = simpleIndexes.first?.packetNumber(atPresentationTime: presentation) {
            return try nearestKeyFrame(from: min(Int(entry), packetCount - 1), to: presentation)
        }
        if let offset = index?.dataOffset(atPresentationTime: presentation) {
            return try nearestKeyFrame(from: min(Int(offset / UInt64(packetSize)), packetCount - 1), to: presentation)
        }
        return try searchBySendTime(milliseconds)
    }

    /// Index entries are a whole interval apart: of the key frames from the entry's to half a
    /// second past the target, start from the one presented closest to the target.
    private func nearestKeyFrame(from start: Int, to presentation: UInt64) throws -> Int {
        let preroll = header.fileProperties.preroll
        let video = Set(header.streams.filter { $0.kind == .video }.map(\.streamNumber))
        let horizon = presentation.saturatingAdd(500)
        var best = (packet: start, distance: UInt64.max)
        var reader = packets(from: start, batch: 16)
        while let (number, bytes) = try reader.next() {
            let packet = try DataPacket(parsing: bytes, origin: dataOffset + number * packetSize)
            if UInt64(packet.sendTime).saturatingAdd(preroll) > horizon { break }
            for p in packet.payloads where video.contains(p.streamNumber) && p.isKeyFrame && p.startsMediaObject {
                guard let time = p.presentationTime.map(UInt64.init), time <= horizon else { continue }
                let distance = time > presentation ? time - presentation : presentation - time
                if distance < best.distance { best = (number, distance) }
            }
        }
        return best.packet
    }

    private func searchBySendTime(_ milliseconds: UInt64) throws -> Int {
        // Packets are sent in time order; find the last one sent at or before the target.
        var low = 0
        var high = packetCount - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if UInt64(try packet(mid).sendTime) <= milliseconds { low = mid } else { high = mid - 1 }
        }
        let video = header.streams.filter { $0.kind == .video }.map(\.streamNumber)
        guard !video.isEmpty else { return low }
        var candidate = low
        while candidate >= 0 {
            let p = try packet(candidate)
            if video.contains(where: p.startsKeyFrame(of:)) { return candidate }
            candidate -= 1
        }
        return 0
    }
}
