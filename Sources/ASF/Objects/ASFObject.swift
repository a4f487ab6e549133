import NIOCore

/// An object whose body (what follows the 24-byte GUID + size) can be parsed and written back
/// byte-exactly. Bytes a parser does not understand are kept in the object and written back.
public protocol ASFObjectBody: Sendable {
    static var guid: GUID { get }
    static var name: String { get }
    /// Parses the body; `body` covers exactly the object's bytes after its 24-byte header.
    init(body: inout ByteCursor) throws
    func writeBody(to buffer: inout ByteBuffer)
}

/// An object kept as opaque bytes: unknown objects, Padding, and objects we only pass through.
public struct RawObject: Sendable, Equatable {
    public var guid: GUID
    public var body: ByteBuffer

    public init(guid: GUID, body: ByteBuffer) {
        self.guid = guid
        self.body = body
    }
}

/// Object framing (ASF spec 2.2): GUID, 64-bit size including these 24 bytes, body.
public enum ObjectFraming {
    public static let headerSize = 24

    /// Reads one object's GUID and body; the size is checked against the bytes present.
    public static func read(_ cursor: inout ByteCursor, in context: String) throws -> (GUID, ByteCursor) {
        let at = cursor.offset
        let guid = try cursor.guid()
        let size = try cursor.u64()
        guard size >= UInt64(headerSize), size - UInt64(headerSize) <= UInt64(cursor.remaining) else {
            throw ASFError("\(context): object \(guid)", at: at, .invalidSize(size))
        }
        let body = try cursor.subCursor(Int(size) - headerSize, context: objectName(guid))
        return (guid, body)
    }

    /// Writes GUID, a size placeholder, the body, then the real size.
    public static func write(_ guid: GUID, to buffer: inout ByteBuffer, body: (inout ByteBuffer) -> Void) {
        let start = buffer.writerIndex
        buffer.writeGUID(guid)
        buffer.writeLE(UInt64(0))
        body(&buffer)
        buffer.setInteger(UInt64(buffer.writerIndex - start), at: start + 16, endianness: .little)
    }

    public static func write<Body: ASFObjectBody>(_ object: Body, to buffer: inout ByteBuffer) {
        write(Body.guid, to: &buffer) { object.writeBody(to: &$0) }
    }

    public static func write(_ raw: RawObject, to buffer: inout ByteBuffer) {
        write(raw.guid, to: &buffer) { buffer in
            var body = raw.body
            buffer.writeBuffer(&body)
        }
    }

    static func objectName(_ guid: GUID) -> String {
        knownNames[guid] ?? "object \(guid)"
    }

    private static let knownNames: [GUID: String] = [
        .header: "Header Object", .data: "Data Object", .simpleIndex: "Simple Index Object",
        .index: "Index Object", .fileProperties: "File Properties Object",
        .streamProperties: "Stream Properties Object", .headerExtension: "Header Extension Object",
        .codecList: "Codec List Object", .bitrateMutualExclusion: "Bitrate Mutual Exclusion Object",
        .contentDescription: "Content Description Object",
        .extendedContentDescription: "Extended Content Description Object",
        .streamBitrateProperties: "Stream Bitrate Properties Object", .padding: "Padding Object",
        .extendedStreamProperties: "Extended Stream Properties Object",
        .advancedMutualExclusion: "Advanced Mutual Exclusion Object",
        .groupMutualExclusion: "Group Mutual Exclusion Object",
        .languageList: "Language List Object", .metadata: "Metadata Object",
    ]
}
