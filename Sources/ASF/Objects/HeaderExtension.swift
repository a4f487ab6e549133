import NIOCore

/// Header Extension Object (ASF spec 3.4) and the objects it carries (ASF spec 4).
public struct HeaderExtension: ASFObjectBody, Equatable {
    public static let guid = GUID.headerExtension
    public static let name = "Header Extension Object"

    public enum Object: Sendable, Equatable {
        case extendedStreamProperties(ExtendedStreamProperties)
        case advancedMutualExclusion(MutualExclusion)
        case groupMutualExclusion(GroupMutualExclusion)
        case languageList(LanguageList)
        case metadata(Metadata)
        /// The Metadata Library Object (ASF spec 4.8): the Metadata Object's layout, its reserved
        /// field a language index, and values of any size (where taggers put large pictures).
        case metadataLibrary(Metadata)
        case other(RawObject)
    }

    public var reservedField1: GUID
    public var reservedField2: UInt16
    public var objects: [Object]

    public init(objects: [Object] = []) {
        reservedField1 = .headerExtensionReserved1
        reservedField2 = 6
        self.objects = objects
    }

    public init(body c: inout ByteCursor) throws {
        reservedField1 = try c.guid()
        reservedField2 = try c.u16()
        let dataSize = try c.u32()
        guard UInt64(dataSize) == UInt64(c.remaining) else {
            throw c.error(.invalidSize(UInt64(dataSize)))
        }
        var data = try c.subCursor(Int(dataSize), context: Self.name)
        objects = []
        while !data.isAtEnd {
            let (guid, body) = try ObjectFraming.read(&data, in: Self.name)
            objects.append(try Self.parse(guid, body))
        }
    }

    private static func parse(_ guid: GUID, _ body: ByteCursor) throws -> Object {
        var body = body
        switch guid {
        case .extendedStreamProperties: return .extendedStreamProperties(try .init(body: &body))
        case .advancedMutualExclusion: return .advancedMutualExclusion(try .init(body: &body))
        case .groupMutualExclusion: return .groupMutualExclusion(try .init(body: &body))
        case .languageList: return .languageList(try .init(body: &body))
        case .metadata: return .metadata(try .init(body: &body))
        case .metadataLibrary: return .metadataLibrary(try .init(body: &body))
        default: return .other(RawObject(guid: guid, body: body.rest()))
        }
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeGUID(reservedField1)
        b.writeLE(reservedField2)
        let sizeAt = b.writerIndex
        b.writeLE(UInt32(0))
        for object in objects {
            switch object {
            case let .extendedStreamProperties(o): ObjectFraming.write(o, to: &b)
            case let .advancedMutualExclusion(o): ObjectFraming.write(GUID.advancedMutualExclusion, to: &b) { o.writeBody(to: &$0) }
            case let .groupMutualExclusion(o): ObjectFraming.write(o, to: &b)
            case let .languageList(o): ObjectFraming.write(o, to: &b)
            case let .metadata(o): ObjectFraming.write(o, to: &b)
            case let .metadataLibrary(o): ObjectFraming.write(GUID.metadataLibrary, to: &b) { o.writeBody(to: &$0) }
            case let .other(o): ObjectFraming.write(o, to: &b)
            }
        }
        b.setInteger(UInt32(b.writerIndex - sizeAt - 4), at: sizeAt, endianness: .little)
    }
}

/// Extended Stream Properties Object (ASF spec 4.1), with its optional embedded Stream Properties.
public struct ExtendedStreamProperties: ASFObjectBody, Equatable {
    public static let guid = GUID.extendedStreamProperties
    public static let name = "Extended Stream Properties Object"

    public struct StreamName: Sendable, Equatable {
        public var languageIndex: UInt16
        public var name: ByteBuffer
    }

    public struct PayloadExtensionSystem: Sendable, Equatable {
        public var id: GUID
        /// 0xFFFF: variable size.
        public var dataSize: UInt16
        public var info: ByteBuffer
    }

    public var startTime: UInt64
    public var endTime: UInt64
    public var dataBitrate: UInt32
    public var bufferSize: UInt32
    public var initialBufferFullness: UInt32
    public var alternateDataBitrate: UInt32
    public var alternateBufferSize: UInt32
    public var alternateInitialBufferFullness: UInt32
    public var maximumObjectSize: UInt32
    public var flags: UInt32
    public var streamNumber: UInt16
    public var languageIndex: UInt16
    public var averageTimePerFrame: UInt64
    public var streamNames: [StreamName]
    public var payloadExtensionSystems: [PayloadExtensionSystem]
    public var streamProperties: StreamProperties?
    public var trailing: ByteBuffer

    public init(body c: inout ByteCursor) throws {
        startTime = try c.u64()
        endTime = try c.u64()
        dataBitrate = try c.u32()
        bufferSize = try c.u32()
        initialBufferFullness = try c.u32()
        alternateDataBitrate = try c.u32()
        alternateBufferSize = try c.u32()
        alternateInitialBufferFullness = try c.u32()
        maximumObjectSize = try c.u32()
        flags = try c.u32()
        streamNumber = try c.u16()
        languageIndex = try c.u16()
        averageTimePerFrame = try c.u64()
        let nameCount = try c.u16()
        let systemCount = try c.u16()
        streamNames = []
        for _ in 0..<nameCount {
            let language = try c.u16()
            let length = try c.u16()
            streamNames.append(StreamName(languageIndex: language, name: try c.slice(Int(length))))
        }
        payloadExtensionSystems = []
        for _ in 0..<systemCount {
            let id = try c.guid()
            let size = try c.u16()
            let infoLength = try c.u32()
            payloadExtensionSystems.append(.init(id: id, dataSize: size, info: try c.slice(Int(infoLength))))
        }
        streamProperties = nil
        if c.remaining >= ObjectFraming.headerSize {
            var peek = c
            if try peek.guid() == .streamProperties {
                var (_, body) = try ObjectFraming.read(&c, in: Self.name)
                streamProperties = try StreamProperties(body: &body)
            }
        }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeLE(startTime)
        b.writeLE(endTime)
        b.writeLE(dataBitrate)
        b.writeLE(bufferSize)
        b.writeLE(initialBufferFullness)
        b.writeLE(alternateDataBitrate)
        b.writeLE(alternateBufferSize)
        b.writeLE(alternateInitialBufferFullness)
        b.writeLE(maximumObjectSize)
        b.writeLE(flags)
        b.writeLE(streamNumber)
        b.writeLE(languageIndex)
        b.writeLE(averageTimePerFrame)
        b.writeLE(UInt16(streamNames.count))
        b.writeLE(UInt16(payloadExtensionSystems.count))
        for var n in streamNames {
            b.writeLE(n.languageIndex)
            b.writeLE(UInt16(n.name.readableBytes))
            b.writeBuffer(&n.name)
        }
        for var s in payloadExtensionSystems {
            b.writeGUID(s.id)
            b.writeLE(s.dataSize)
            b.writeLE(UInt32(s.info.readableBytes))
            b.writeBuffer(&s.info)
        }
        if let streamProperties { ObjectFraming.write(streamProperties, to: &b) }
        var t = trailing
        b.writeBuffer(&t)
    }
}

/// Bitrate Mutual Exclusion Object (ASF spec 3.8) and Advanced Mutual Exclusion Object (4.2):
/// the same layout, an exclusion type and the streams of which only one may be played.
public struct MutualExclusion: ASFObjectBody, Equatable {
    public static let guid = GUID.bitrateMutualExclusion
    public static let name = "Mutual Exclusion Object"

    public var exclusionType: GUID
    public var streamNumbers: [UInt16]
    public var trailing: ByteBuffer

    public init(exclusionType: GUID, streamNumbers: [UInt16]) {
        self.exclusionType = exclusionType
        self.streamNumbers = streamNumbers
        trailing = ByteBuffer()
    }

    public init(body c: inout ByteCursor) throws {
        exclusionType = try c.guid()
        let count = try c.u16()
        streamNumbers = try (0..<count).map { _ in try c.u16() }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeGUID(exclusionType)
        b.writeLE(UInt16(streamNumbers.count))
        for n in streamNumbers { b.writeLE(n) }
        var t = trailing
        b.writeBuffer(&t)
    }
}

/// Group Mutual Exclusion Object (ASF spec 4.3): records of streams, one record played at a time.
public struct GroupMutualExclusion: ASFObjectBody, Equatable {
    public static let guid = GUID.groupMutualExclusion
    public static let name = "Group Mutual Exclusion Object"

    public var exclusionType: GUID
    public var records: [[UInt16]]
    public var trailing: ByteBuffer

    public init(body c: inout ByteCursor) throws {
        exclusionType = try c.guid()
        let count = try c.u16()
        records = try (0..<count).map { _ in
            let streams = try c.u16()
            return try (0..<streams).map { _ in try c.u16() }
        }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeGUID(exclusionType)
        b.writeLE(UInt16(records.count))
        for record in records {
            b.writeLE(UInt16(record.count))
            for n in record { b.writeLE(n) }
        }
        var t = trailing
        b.writeBuffer(&t)
    }
}

/// Language List Object (ASF spec 4.6): RFC 1766 language IDs, in UTF-16LE.
public struct LanguageList: ASFObjectBody, Equatable {
    public static let guid = GUID.languageList
    public static let name = "Language List Object"

    public var languageIDs: [ByteBuffer]
    public var trailing: ByteBuffer

    public init(body c: inout ByteCursor) throws {
        let count = try c.u16()
        languageIDs = try (0..<count).map { _ in try c.slice(Int(try c.u8())) }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeLE(UInt16(languageIDs.count))
        for var id in languageIDs {
            b.writeInteger(UInt8(truncatingIfNeeded: id.readableBytes))
            b.writeBuffer(&id)
        }
        var t = trailing
        b.writeBuffer(&t)
    }

    public var languages: [String] {
        languageIDs.map { var id = $0; return id.readUTF16LE() }
    }
}

/// Metadata Object (ASF spec 4.7): per-stream name/value attributes.
public struct Metadata: ASFObjectBody, Equatable {
    public static let guid = GUID.metadata
    public static let name = "Metadata Object"

    public struct Record: Sendable, Equatable {
        public var reserved: UInt16
        public var streamNumber: UInt16
        public var dataType: UInt16
        public var name: ByteBuffer
        public var data: ByteBuffer
    }

    public var records: [Record]
    public var trailing: ByteBuffer

    public init(body c: inout ByteCursor) throws {
        let count = try c.u16()
        records = try (0..<count).map { _ in
            let reserved = try c.u16()
            let stream = try c.u16()
            let nameLength = try c.u16()
            let dataType = try c.u16()
            let dataLength = try c.u32()
            return Record(reserved: reserved, streamNumber: stream, dataType: dataType,
                          name: try c.slice(Int(nameLength)), data: try c.slice(Int(dataLength)))
        }
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeLE(UInt16(records.count))
        for var r in records {
            b.writeLE(r.reserved)
            b.writeLE(r.streamNumber)
            b.writeLE(UInt16(r.name.readableBytes))
            b.writeLE(r.dataType)
            b.writeLE(UInt32(r.data.readableBytes))
            b.writeBuffer(&r.name)
            b.writeBuffer(&r.data)
        }
        var t = trailing
        b.writeBuffer(&t)
    }
}
