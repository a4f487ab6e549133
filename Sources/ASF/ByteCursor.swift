import NIOCore

/// A bounds-checked little-endian reader over a `ByteBuffer`. Every read either succeeds or throws
/// an `ASFError` naming `context` and the absolute offset of the failing field; nothing traps.
public struct ByteCursor {
    public private(set) var buffer: ByteBuffer
    /// Absolute offset (in the file or stream) of `buffer`'s first readable byte at creation.
    private let origin: Int
    private let start: Int
    public var context: String

    public init(_ buffer: ByteBuffer, origin: Int = 0, context: String) {
        self.buffer = buffer
        self.origin = origin
        self.start = buffer.readerIndex
        self.context = context
    }

    /// Absolute offset of the next byte to read.
    public var offset: Int { origin + buffer.readerIndex - start }
    public var remaining: Int { buffer.readableBytes }
    public var isAtEnd: Bool { buffer.readableBytes == 0 }

    public func error(_ reason: ASFError.Reason) -> ASFError {
        ASFError(context, at: offset, reason)
    }

    private func need(_ count: Int) throws {
        guard count >= 0, buffer.readableBytes >= count else {
            throw error(.truncated(needed: count, available: buffer.readableBytes))
        }
    }

    public mutating func u8() throws -> UInt8 {
        try need(1)
        return buffer.readInteger()!
    }

    public mutating func u16() throws -> UInt16 {
        try need(2)
        return buffer.readInteger(endianness: .little)!
    }

    public mutating func u32() throws -> UInt32 {
        try need(4)
        return buffer.readInteger(endianness: .little)!
    }

    public mutating func u64() throws -> UInt64 {
        try need(8)
        return buffer.readInteger(endianness: .little)!
    }

    public mutating func guid() throws -> GUID {
        try need(16)
        let view = buffer.readableBytesView
        let guid = GUID(wireBytes: view.prefix(16))
        buffer.moveReaderIndex(forwardBy: 16)
        return guid
    }

    /// Reads a variable-size field coded by a 2-bit length type (0: absent, 1: BYTE, 2: WORD, 3: DWORD).
    public mutating func sized(_ lengthType: UInt8, default value: UInt32 = 0) throws -> UInt32 {
        switch lengthType & 3 {
        case 1: return UInt32(try u8())
        case 2: return UInt32(try u16())
        case 3: return try u32()
        default: return value
        }
    }

    /// A zero-copy slice of the next `count` bytes.
    public mutating func slice(_ count: Int) throws -> ByteBuffer {
        try need(count)
        return buffer.readSlice(length: count)!
    }

    /// A cursor over the next `count` bytes, with its own context; this cursor moves past them.
    public mutating func subCursor(_ count: Int, context: String) throws -> ByteCursor {
        let at = offset
        return ByteCursor(try slice(count), origin: at, context: context)
    }

    public mutating func skip(_ count: Int) throws {
        try need(count)
        buffer.moveReaderIndex(forwardBy: count)
    }

    /// Everything left, as a slice.
    public mutating func rest() -> ByteBuffer {
        buffer.readSlice(length: buffer.readableBytes)!
    }

    /// UTF-16LE text of `byteCount` bytes; a trailing NUL is dropped.
    public mutating func utf16(byteCount: Int) throws -> String {
        var bytes = try slice(byteCount)
        return bytes.readUTF16LE()
    }
}

extension ByteBuffer {
    /// Decodes all readable bytes as UTF-16LE, stopping at the first NUL.
    public mutating func readUTF16LE() -> String {
        var units = [UInt16]()
        units.reserveCapacity(readableBytes / 2)
        while let unit: UInt16 = readInteger(endianness: .little), unit != 0 {
            units.append(unit)
        }
        moveReaderIndex(to: writerIndex)
        return String(decoding: units, as: UTF16.self)
    }

    /// Writes `text` as UTF-16LE, with a terminating NUL when asked; returns the byte count.
    @discardableResult
    public mutating func writeUTF16LE(_ text: String, terminated: Bool) -> Int {
        var written = 0
        for unit in text.utf16 { written += writeInteger(unit, endianness: .little) }
        if terminated { written += writeInteger(UInt16(0), endianness: .little) }
        return written
    }

    @discardableResult
    mutating func writeLE<T: FixedWidthInteger>(_ value: T) -> Int {
        writeInteger(value, endianness: .little)
    }
}
