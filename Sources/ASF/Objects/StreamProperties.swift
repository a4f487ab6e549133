import NIOCore

/// Stream Properties Object (ASF spec 3.3). Type-specific and error-correction data are kept as
/// bytes; `audioFormat` and `videoFormat` decode the basics.
public struct StreamProperties: ASFObjectBody, Equatable {
    public static let guid = GUID.streamProperties
    public static let name = "Stream Properties Object"

    public enum Kind: String, Sendable, Codable {
        case audio, video, command, jfif, degradableJPEG, fileTransfer, binary, unknown

        init(_ guid: GUID) {
            switch guid {
            case .audioMedia: self = .audio
            case .videoMedia: self = .video
            case .commandMedia: self = .command
            case .jfifMedia: self = .jfif
            case .degradableJPEGMedia: self = .degradableJPEG
            case .fileTransferMedia: self = .fileTransfer
            case .binaryMedia: self = .binary
            default: self = .unknown
            }
        }
    }

    public var streamType: GUID
    public var errorCorrectionType: GUID
    public var timeOffset: UInt64
    /// Bits 0-6: stream number; bit 15: encrypted content.
    public var flags: UInt16
    public var reserved: UInt32
    public var typeSpecificData: ByteBuffer
    public var errorCorrectionData: ByteBuffer
    public var trailing: ByteBuffer

    public init(body c: inout ByteCursor) throws {
        streamType = try c.guid()
        errorCorrectionType = try c.guid()
        timeOffset = try c.u64()
        let typeSpecificLength = try c.u32()
        let errorCorrectionLength = try c.u32()
        flags = try c.u16()
        reserved = try c.u32()
        guard UInt64(typeSpecificLength) + UInt64(errorCorrectionLength) <= UInt64(c.remaining) else {
            throw c.error(.truncated(needed: Int(typeSpecificLength) + Int(errorCorrectionLength), available: c.remaining))
        }
        typeSpecificData = try c.slice(Int(typeSpecificLength))
        errorCorrectionData = try c.slice(Int(errorCorrectionLength))
        trailing = c.rest()
        guard streamNumber != 0 else { throw c.error(.invalidValue("stream number 0")) }
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeGUID(streamType)
        b.writeGUID(errorCorrectionType)
        b.writeLE(timeOffset)
        b.writeLE(UInt32(typeSpecificData.readableBytes))
        b.writeLE(UInt32(errorCorrectionData.readableBytes))
        b.writeLE(flags)
        b.writeLE(reserved)
        var t = typeSpecificData
        b.writeBuffer(&t)
        var e = errorCorrectionData
        b.writeBuffer(&e)
        var r = trailing
        b.writeBuffer(&r)
    }

    public var streamNumber: UInt8 { UInt8(flags & 0x7F) }
    public var isEncrypted: Bool { flags & 0x8000 != 0 }
    public var kind: Kind { Kind(streamType) }

    /// WAVEFORMATEX of an audio stream (ASF spec 9.1).
    public var audioFormat: AudioFormat? {
        guard kind == .audio else { return nil }
        var c = ByteCursor(typeSpecificData, context: "audio type-specific data")
        return try? AudioFormat(&c)
    }

    /// The image size and BITMAPINFOHEADER basics of a video stream (ASF spec 9.2).
    public var videoFormat: VideoFormat? {
        guard kind == .video else { return nil }
        var c = ByteCursor(typeSpecificData, context: "video type-specific data")
        return try? VideoFormat(&c)
    }

    /// The codec tag libavformat also reports: the WAVE format tag or the video FourCC.
    public var codecTag: UInt32? {
        if let audio = audioFormat { return UInt32(audio.formatTag) }
        return videoFormat?.compression
    }
}

public struct AudioFormat: Sendable, Equatable {
    public var formatTag: UInt16
    public var channels: UInt16
    public var samplesPerSecond: UInt32
    public var averageBytesPerSecond: UInt32
    public var blockAlign: UInt16
    public var bitsPerSample: UInt16

    init(_ c: inout ByteCursor) throws {
        formatTag = try c.u16()
        channels = try c.u16()
        samplesPerSecond = try c.u32()
        averageBytesPerSecond = try c.u32()
        blockAlign = try c.u16()
        bitsPerSample = try c.u16()
    }

    public var codecName: String {
        switch formatTag {
        case 0x0001: return "pcm"
        case 0x0055: return "mp3"
        case 0x0160: return "wmav1"
        case 0x0161: return "wmav2"
        case 0x0162: return "wmapro"
        case 0x0163: return "wmalossless"
        case 0x000A: return "wmavoice"
        case 0x00FF, 0x1610, 0x4143: return "aac"
        case 0x2000: return "ac3"
        default: return hex4(formatTag)
        }
    }
}

public struct VideoFormat: Sendable, Equatable {
    public var width: UInt32
    public var height: UInt32
    public var bitCount: UInt16
    /// BITMAPINFOHEADER biCompression: the FourCC.
    public var compression: UInt32

    init(_ c: inout ByteCursor) throws {
        width = try c.u32()
        height = try c.u32()
        _ = try c.u8()   // reserved flags
        _ = try c.u16()  // format data size
        _ = try c.u32()  // biSize
        _ = try c.u32()  // biWidth
        _ = try c.u32()  // biHeight
        _ = try c.u16()  // planes
        bitCount = try c.u16()
        compression = try c.u32()
    }

    public var fourCC: String {
        String((0..<4).map { Character(UnicodeScalar(UInt8(truncatingIfNeeded: compression >> (8 * $0)))) })
    }
}

/// `0x` and four hex digits.
func hex4(_ value: UInt16) -> String {
    let hex = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
}
