import NIOCore

/// Simple Index Object (ASF spec 6.1): for each time interval, the packet to start playback from
/// (the one holding the last key frame at or before that time) and how many packets that frame spans.
/// Entry `i` covers presentation time `i * entryTimeInterval`, preroll included (as libavformat reads it).
public struct SimpleIndex: ASFObjectBody, Equatable {
    public static let guid = GUID.simpleIndex
    public static let name = "Simple Index Object"

    public struct Entry: Sendable, Equatable {
        public var packetNumber: UInt32
        public var packetCount: UInt16
    }

    public var fileID: GUID
    /// 100-ns units.
    public var entryTimeInterval: UInt64
    public var maximumPacketCount: UInt32
    public var entries: [Entry]
    public var trailing: ByteBuffer

    public init(fileID: GUID, entryTimeInterval: UInt64, entries: [Entry]) {
        self.fileID = fileID
        self.entryTimeInterval = entryTimeInterval
        self.entries = entries
        maximumPacketCount = UInt32(entries.map(\.packetCount).max() ?? 0)
        trailing = ByteBuffer()
    }

    public init(body c: inout ByteCursor) throws {
        fileID = try c.guid()
        entryTimeInterval = try c.u64()
        maximumPacketCount = try c.u32()
        let count = try c.u32()
        guard UInt64(count) * 6 <= UInt64(c.remaining) else {
            throw c.error(.truncated(needed: Int(count) * 6, available: c.remaining))
        }
        guard entryTimeInterval > 0 || count == 0 else { throw c.error(.invalidValue("index interval 0")) }
        entries = try (0..<count).map { _ in Entry(packetNumber: try c.u32(), packetCount: try c.u16()) }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeGUID(fileID)
        b.writeLE(entryTimeInterval)
        b.writeLE(maximumPacketCount)
        b.writeLE(UInt32(entries.count))
        for e in entries {
            b.writeLE(e.packetNumber)
            b.writeLE(e.packetCount)
        }
        var t = trailing
        b.writeBuffer(&t)
    }

    /// The packet to start from for presentation time `milliseconds` (preroll included).
    public func packetNumber(atPresentationTime milliseconds: UInt64) -> UInt32? {
        guard !entries.isEmpty, entryTimeInterval > 0 else { return nil }
        let slot = min(Int(clamping: milliseconds.saturatingMultiply(10_000) / entryTimeInterval), entries.count - 1)
        return entries[slot].packetNumber
    }
}

/// Index Object (ASF spec 6.2): per indexed stream, byte offsets of key frames from the first packet.
public struct IndexObject: ASFObjectBody, Equatable {
    public static let guid = GUID.index
    public static let name = "Index Object"

    public struct Specifier: Sendable, Equatable {
        public var streamNumber: UInt16
        /// 1: nearest past data packet, 2: nearest past media object, 3: nearest past cleanpoint.
        public var indexType: UInt16
    }

    public struct Block: Sendable, Equatable {
        public var positions: [UInt64]
        /// entries[i][s]: offset for interval i and specifier s, relative to positions[s].
        public var entries: [[UInt32]]
    }

    /// Milliseconds.
    public var entryTimeInterval: UInt32
    public var specifiers: [Specifier]
    public var blocks: [Block]
    public var trailing: ByteBuffer

    public init(body c: inout ByteCursor) throws {
        entryTimeInterval = try c.u32()
        let specifierCount = try c.u16()
        let blockCount = try c.u32()
        specifiers = try (0..<specifierCount).map { _ in Specifier(streamNumber: try c.u16(), indexType: try c.u16()) }
        guard UInt64(blockCount) <= UInt64(c.remaining) else { throw c.error(.invalidSize(UInt64(blockCount))) }
        blocks = try (0..<blockCount).map { _ in
            let entryCount = try c.u32()
            let positions = try (0..<specifierCount).map { _ in try c.u64() }
            let needed = UInt64(entryCount) * UInt64(specifierCount) * 4
            guard needed <= UInt64(c.remaining) else { throw c.error(.truncated(needed: Int(clamping: needed), available: c.remaining)) }
            let entries = try (0..<entryCount).map { _ in try (0..<specifierCount).map { _ in try c.u32() } }
            return Block(positions: positions, entries: entries)
        }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeLE(entryTimeInterval)
        b.writeLE(UInt16(specifiers.count))
        b.writeLE(UInt32(blocks.count))
        for s in specifiers {
            b.writeLE(s.streamNumber)
            b.writeLE(s.indexType)
        }
        for block in blocks {
            b.writeLE(UInt32(block.entries.count))
            for p in block.positions { b.writeLE(p) }
            for entry in block.entries { for offset in entry { b.writeLE(offset) } }
        }
        var t = trailing
        b.writeBuffer(&t)
    }

    /// Byte offset from the first data packet to start from at `milliseconds` (preroll included).
    public func dataOffset(atPresentationTime milliseconds: UInt64) -> UInt64? {
        guard entryTimeInterval > 0, !specifiers.isEmpty else { return nil }
        var slot = Int(clamping: milliseconds / UInt64(entryTimeInterval))
        for block in blocks {
            if slot < block.entries.count {
                let offset = block.entries[slot][0]
                return offset == 0xFFFF_FFFF ? nil : block.positions[0] + UInt64(offset)
            }
            slot -= block.entries.count
        }
        guard let last = blocks.last, let entry = last.entries.last, entry[0] != 0xFFFF_FFFF else { return nil }
        return last.positions[0] + UInt64(entry[0])
    }
}
