import NIOCore

/// Content Description Object (ASF spec 3.10): title, author, copyright, description, rating.
/// The fields are kept as their UTF-16LE bytes so that they are written back unchanged.
public struct ContentDescription: ASFObjectBody, Equatable {
    public static let guid = GUID.contentDescription
    public static let name = "Content Description Object"

    /// Title, author, copyright, description, rating, in that order.
    public var fields: [ByteBuffer]
    public var trailing: ByteBuffer

    public init(body c: inout ByteCursor) throws {
        let lengths = try (0..<5).map { _ in try c.u16() }
        fields = try lengths.map { try c.slice(Int($0)) }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        for field in fields { b.writeLE(UInt16(field.readableBytes)) }
        for var field in fields { b.writeBuffer(&field) }
        var t = trailing
        b.writeBuffer(&t)
    }

    private func text(_ i: Int) -> String { var f = fields[i]; return f.readUTF16LE() }
    public var title: String { text(0) }
    public var author: String { text(1) }
    public var copyright: String { text(2) }
    public var summary: String { text(3) }
    public var rating: String { text(4) }
}

/// Extended Content Description Object (ASF spec 3.11): name/value attributes of the file.
public struct ExtendedContentDescription: ASFObjectBody, Equatable {
    public static let guid = GUID.extendedContentDescription
    public static let name = "Extended Content Description Object"

    public struct Descriptor: Sendable, Equatable {
        public var name: ByteBuffer
        /// 0: UTF-16 string, 1: bytes, 2: BOOL, 3: DWORD, 4: QWORD, 5: WORD.
        public var valueType: UInt16
        public var value: ByteBuffer

        public var nameText: String { var n = name; return n.readUTF16LE() }
    }

    public var descriptors: [Descriptor]
    public var trailing: ByteBuffer

    public init(body c: inout ByteCursor) throws {
        let count = try c.u16()
        descriptors = try (0..<count).map { _ in
            let name = try c.slice(Int(try c.u16()))
            let type = try c.u16()
            let value = try c.slice(Int(try c.u16()))
            return Descriptor(name: name, valueType: type, value: value)
        }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeLE(UInt16(descriptors.count))
        for var d in descriptors {
            b.writeLE(UInt16(d.name.readableBytes))
            b.writeBuffer(&d.name)
            b.writeLE(d.valueType)
            b.writeLE(UInt16(d.value.readableBytes))
            b.writeBuffer(&d.value)
        }
        var t = trailing
        b.writeBuffer(&t)
    }
}

/// Stream Bitrate Properties Object (ASF spec 3.12): average bit rate of each stream.
public struct StreamBitrateProperties: ASFObjectBody, Equatable {
    public static let guid = GUID.streamBitrateProperties
    public static let name = "Stream Bitrate Properties Object"

    public struct Record: Sendable, Equatable {
        public var flags: UInt16
        public var averageBitrate: UInt32
        public var streamNumber: UInt8 { UInt8(flags & 0x7F) }

        public init(streamNumber: UInt8, averageBitrate: UInt32) {
            flags = UInt16(streamNumber & 0x7F)
            self.averageBitrate = averageBitrate
        }

        init(flags: UInt16, averageBitrate: UInt32) {
            self.flags = flags
            self.averageBitrate = averageBitrate
        }
    }

    public var records: [Record]
    public var trailing: ByteBuffer

    public init(records: [Record]) {
        self.records = records
        trailing = ByteBuffer()
    }

    public init(body c: inout ByteCursor) throws {
        let count = try c.u16()
        records = try (0..<count).map { _ in Record(flags: try c.u16(), averageBitrate: try c.u32()) }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeLE(UInt16(records.count))
        for r in records {
            b.writeLE(r.flags)
            b.writeLE(r.averageBitrate)
        }
        var t = trailing
        b.writeBuffer(&t)
    }
}

/// Codec List Object (ASF spec 3.13): the codecs used, with names for display.
public struct CodecList: ASFObjectBody, Equatable {
    public static let guid = GUID.codecList
    public static let name = "Codec List Object"

    public struct Entry: Sendable, Equatable {
        /// 1: video, 2: audio, 0xFFFF: unknown.
        public var type: UInt16
        /// UTF-16LE, the length field counts characters.
        public var name: ByteBuffer
        public var description: ByteBuffer
        public var information: ByteBuffer

        public var nameText: String { var n = name; return n.readUTF16LE() }
    }

    public var reserved: GUID
    public var entries: [Entry]
    public var trailing: ByteBuffer

    public init(body c: inout ByteCursor) throws {
        reserved = try c.guid()
        let count = try c.u32()
        guard UInt64(count) <= UInt64(c.remaining) else { throw c.error(.invalidSize(UInt64(count))) }
        entries = try (0..<count).map { _ in
            let type = try c.u16()
            let name = try c.slice(Int(try c.u16()) * 2)
            let description = try c.slice(Int(try c.u16()) * 2)
            let information = try c.slice(Int(try c.u16()))
            return Entry(type: type, name: name, description: description, information: information)
        }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeGUID(reserved)
        b.writeLE(UInt32(entries.count))
        for var e in entries {
            b.writeLE(e.type)
            b.writeLE(UInt16(e.name.readableBytes / 2))
            b.writeBuffer(&e.name)
            b.writeLE(UInt16(e.description.readableBytes / 2))
            b.writeBuffer(&e.description)
            b.writeLE(UInt16(e.information.readableBytes))
            b.writeBuffer(&e.information)
        }
        var t = trailing
        b.writeBuffer(&t)
    }
}
