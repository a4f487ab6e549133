import NIOCore

/// The Header Object (ASF spec 3.1) with every object it holds, in order. Known objects are
/// decoded; the rest are kept as bytes. `write(to:)` reproduces a parsed header exactly when it
/// has no departures.
public struct ASFHeader: Sendable, Equatable {
    public enum Object: Sendable, Equatable {
        case fileProperties(FileProperties)
        case streamProperties(StreamProperties)
        case headerExtension(HeaderExtension)
        case streamBitrateProperties(StreamBitrateProperties)
        case bitrateMutualExclusion(MutualExclusion)
        case contentDescription(ContentDescription)
        case extendedContentDescription(ExtendedContentDescription)
        case codecList(CodecList)
        /// Padding, and objects we pass through untouched.
        case other(RawObject)
    }

    public var objects: [Object]
    public var reserved1: UInt8
    public var reserved2: UInt8
    /// How the stored header departs from the spec in ways it is read through anyway; empty for
    /// a header built here. Written back, the header is consistent.
    public var departures: [String]

    /// Parses a Header Object that starts at the reader index of `bytes`.
    public init(parsing bytes: ByteBuffer, origin: Int = 0) throws {
        var c = ByteCursor(bytes, origin: origin, context: "Header Object")
        let guid = try c.guid()
        guard guid == .header else { throw ASFError("Header Object", at: origin, .unexpectedGUID(guid)) }
        let size = try c.u64()
        guard size >= 30, size - 24 <= UInt64(c.remaining) else {
            throw ASFError("Header Object", at: origin + 16, .invalidSize(size))
        }
        var body = try c.subCursor(Int(size) - 24, context: "Header Object")
        let count = try body.u32()
        reserved1 = try body.u8()
        reserved2 = try body.u8()
        objects = []
        objects.reserveCapacity(Int(min(count, 64)))
        departures = []
        while !body.isAtEnd {
            guard body.remaining >= ObjectFraming.headerSize else {
                departures.append("\(body.remaining) bytes after the last object")
                break
            }
            let (guid, objectBody) = try ObjectFraming.read(&body, in: "Header Object")
            objects.append(try Self.parse(guid, objectBody))
        }
        // The count is not needed to read the objects, and libavformat ignores it (VLC's muxer
        // counts one object more than it writes).
        if objects.count != Int(count) { departures.append("Header Object declares \(count) objects, holds \(objects.count)") }
        try validate(origin: origin)
    }

    public init(objects: [Object]) throws {
        self.objects = objects
        reserved1 = 1
        reserved2 = 2
        departures = []
        try validate(origin: 0)
    }

    private static func parse(_ guid: GUID, _ body: ByteCursor) throws -> Object {
        var body = body
        switch guid {
        case .fileProperties: return .fileProperties(try .init(body: &body))
        case .streamProperties: return .streamProperties(try .init(body: &body))
        case .headerExtension: return .headerExtension(try .init(body: &body))
        case .streamBitrateProperties: return .streamBitrateProperties(try .init(body: &body))
        case .bitrateMutualExclusion: return .bitrateMutualExclusion(try .init(body: &body))
        case .contentDescription: return .contentDescription(try .init(body: &body))
        case .extendedContentDescription: return .extendedContentDescription(try .init(body: &body))
        case .codecList: return .codecList(try .init(body: &body))
        default: return .other(RawObject(guid: guid, body: body.rest()))
        }
    }

    /// A header needs exactly one File Properties Object and distinct stream numbers.
    private func validate(origin: Int) throws {
        let fileProperties = objects.filter { if case .fileProperties = $0 { return true } else { return false } }
        guard fileProperties.count == 1 else {
            throw ASFError("Header Object", at: origin, .invalidValue("\(fileProperties.count) File Properties Objects"))
        }
        let numbers = streams.map(\.streamNumber)
        guard Set(numbers).count == numbers.count else {
            throw ASFError("Header Object", at: origin, .invalidValue("duplicate stream numbers \(numbers)"))
        }
    }

    public func write(to b: inout ByteBuffer) {
        ObjectFraming.write(.header, to: &b) { b in
            b.writeLE(UInt32(objects.count))
            b.writeInteger(reserved1)
            b.writeInteger(reserved2)
            for object in objects {
                switch object {
                case let .fileProperties(o): ObjectFraming.write(o, to: &b)
                case let .streamProperties(o): ObjectFraming.write(o, to: &b)
                case let .headerExtension(o): ObjectFraming.write(o, to: &b)
                case let .streamBitrateProperties(o): ObjectFraming.write(o, to: &b)
                case let .bitrateMutualExclusion(o): ObjectFraming.write(o, to: &b)
                case let .contentDescription(o): ObjectFraming.write(o, to: &b)
                case let .extendedContentDescription(o): ObjectFraming.write(o, to: &b)
                case let .codecList(o): ObjectFraming.write(o, to: &b)
                case let .other(o): ObjectFraming.write(o, to: &b)
                }
            }
        }
    }

    public var bytes: ByteBuffer {
        var b = ByteBuffer()
        write(to: &b)
        return b
    }

    // MARK: Views

    public var fileProperties: FileProperties {
        get {
            for case let .fileProperties(p) in objects { return p }
            preconditionFailure("validated on creation")
        }
        set {
            for (i, object) in objects.enumerated() {
                if case .fileProperties = object { objects[i] = .fileProperties(newValue) }
            }
        }
    }

    var headerExtensionObjects: [HeaderExtension.Object] {
        objects.flatMap { object -> [HeaderExtension.Object] in
            if case let .headerExtension(e) = object { return e.objects }
            return []
        }
    }

    /// Every stream, from Stream Properties Objects and from those embedded in Extended Stream
    /// Properties Objects (ASF spec 4.1), in order of appearance.
    public var streams: [StreamProperties] {
        var result = [StreamProperties]()
        for case let .streamProperties(s) in objects { result.append(s) }
        for case let .extendedStreamProperties(e) in headerExtensionObjects {
            if let s = e.streamProperties { result.append(s) }
        }
        return result
    }

    public var extendedStreamProperties: [ExtendedStreamProperties] {
        headerExtensionObjects.compactMap {
            if case let .extendedStreamProperties(e) = $0 { return e } else { return nil }
        }
    }

    /// Average bit rate of a stream: Stream Bitrate Properties, else Extended Stream Properties,
    /// else the audio format's byte rate.
    public func averageBitrate(of stream: UInt8) -> UInt32? {
        for case let .streamBitrateProperties(p) in objects {
            if let r = p.records.first(where: { $0.streamNumber == stream }) { return r.averageBitrate }
        }
        if let e = extendedStreamProperties.first(where: { $0.streamNumber == UInt16(stream) }) { return e.dataBitrate }
        if let audio = streams.first(where: { $0.streamNumber == stream })?.audioFormat {
            return audio.averageBytesPerSecond * 8
        }
        return nil
    }

    /// Language of a stream, through the Language List (ASF spec 4.6) and Extended Stream Properties.
    public func language(of stream: UInt8) -> String? {
        guard let e = extendedStreamProperties.first(where: { $0.streamNumber == UInt16(stream) }) else { return nil }
        for case let .languageList(list) in headerExtensionObjects {
            let languages = list.languages
            if Int(e.languageIndex) < languages.count { return languages[Int(e.languageIndex)] }
        }
        return nil
    }

    public struct Exclusion: Sendable, Equatable, Codable {
        /// "bitrate", "language" or "unknown".
        public var type: String
        /// Streams of which one is played (for a group exclusion, one group's streams each).
        public var streams: [[UInt16]]
        /// "bitrate", "advanced" or "group".
        public var object: String
    }

    /// Mutual exclusions from the Bitrate (3.8), Advanced (4.2) and Group (4.3) objects.
    public var exclusions: [Exclusion] {
        func typeName(_ g: GUID) -> String {
            g == .mutexBitrate ? "bitrate" : g == .mutexLanguage ? "language" : "unknown"
        }
        var result = [Exclusion]()
        for case let .bitrateMutualExclusion(m) in objects {
            result.append(.init(type: typeName(m.exclusionType), streams: m.streamNumbers.map { [$0] }, object: "bitrate"))
        }
        for object in headerExtensionObjects {
            switch object {
            case let .advancedMutualExclusion(m):
                result.append(.init(type: typeName(m.exclusionType), streams: m.streamNumbers.map { [$0] }, object: "advanced"))
            case let .groupMutualExclusion(g):
                result.append(.init(type: typeName(g.exclusionType), streams: g.records, object: "group"))
            default: break
            }
        }
        return result
    }

    public var codecList: CodecList? {
        for case let .codecList(c) in objects { return c }
        return nil
    }

    public var contentDescription: ContentDescription? {
        for case let .contentDescription(c) in objects { return c }
        return nil
    }
}
