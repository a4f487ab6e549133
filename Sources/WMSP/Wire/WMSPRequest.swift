import NIOHTTP1

/// An HTTP request as MS-WMSP classifies it (2.2.2).
public struct WMSPRequest: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Describe (2.2.2.1): the ASF header only.
        case describe
        /// Play (2.2.2.6): header then data, from `streamTime` ms or packet `streamOffset` bytes.
        case play
        /// A GET from a client that does not speak WMSP: the file as a plain download.
        case download
    }

    public var kind: Kind
    public var path: String
    public var userAgent: String
    public var pragma: Pragma
    public var range: String?

    public init(head: HTTPRequestHead) {
        path = head.uri
        userAgent = head.headers["User-Agent"].first ?? ""
        pragma = Pragma(headerValues: head.headers["Pragma"])
        range = head.headers["Range"].first
        // MS-WMSP 2.2.1.8: Windows Media players say NSPlayer, servers NSServer.
        let speaksWMSP = head.headers["User-Agent"].contains { $0.hasPrefix("NSPlayer/") || $0.hasPrefix("NSServer/") }
        if !speaksWMSP {
            kind = .download
        } else if pragma.number("xPlayStrm") == 1 || pragma["stream-switch-entry"] != nil {
            kind = .play
        } else {
            kind = .describe
        }
    }

    /// ffmpeg and libmms (NSPlayer/4.1) print stream numbers in decimal (CLIENTS.md 1.2, 1.4).
    public var printsDecimalStreamNumbers: Bool { userAgent.hasPrefix("NSPlayer/4.1") }

    /// Where Play starts: `stream-offset=hi:lo` is a byte offset into the data packets (VLC),
    /// else `stream-time` in milliseconds (ffmpeg); nil for the beginning.
    public enum StartPosition: Equatable, Sendable {
        case byteOffset(UInt64)
        case time(milliseconds: UInt64)
    }

    public var startPosition: StartPosition? {
        if let offset = pragma["stream-offset"] {
            let parts = offset.split(separator: ":")
            if parts.count == 2, let hi = UInt64(parts[0]), let lo = UInt64(parts[1].prefix { $0.isNumber }), hi | lo != 0,
               hi != 0xFFFF_FFFF {
                return .byteOffset(hi << 32 | lo)
            }
        }
        if let time = pragma.number("stream-time"), time > 0 { return .time(milliseconds: time) }
        return nil
    }
}
