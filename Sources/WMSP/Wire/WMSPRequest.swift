import NIOHTTP1
import Streaming

/// An HTTP request as MS-WMSP classifies it (2.2.2).
public struct WMSPRequest: Sendable, Equatable {
    /// The request types of MS-WMSP 2.2.2, by method and Pragma tokens.
    public enum Kind: Sendable, Equatable {
        /// Describe (2.2.2.1): the ASF header only.
        case describe
        /// Play (2.2.2.6): header then data, from `stream-time` or `stream-offset`.
        case play
        /// SelectStream (2.2.2.8): other streams for a session.
        case selectStream
        /// PlayNextEntry (2.2.2.7): the next playlist entry.
        case playNextEntry
        /// KeepAlive (2.2.2.3).
        case keepAlive
        /// Stop (2.2.2.10).
        case stop
        /// Log (2.2.2.4): a client's MS-WMLOG statistics.
        case log
        /// Pipeline (2.2.2.5): the test for pipelined mode.
        case pipeline
        /// SendEvent (2.2.2.9): remote events, logged.
        case sendEvent
        /// A GET from a client that does not speak WMSP: the file as a plain download.
        case download
        case unsupported(String)
    }

    public var kind: Kind
    public var method: HTTPMethod
    public var path: String
    public var userAgent: String
    public var pragma: Pragma
    public var range: String?
    public var contentType: String?
    /// `Authorization` (RFC 7235 4.2): Digest or Basic credentials.
    public var authorization: String?

    public init(head: HTTPRequestHead) {
        method = head.method
        path = head.uri
        userAgent = head.headers["User-Agent"].first ?? ""
        pragma = Pragma(headerValues: head.headers["Pragma"])
        range = head.headers["Range"].first
        contentType = head.headers["Content-Type"].first
        authorization = head.headers["Authorization"].first
        // MS-WMSP 2.2.1.8: Windows Media players say NSPlayer, servers NSServer.
        let speaksWMSP = head.headers["User-Agent"].contains { $0.hasPrefix("NSPlayer/") || $0.hasPrefix("NSServer/") }
        let p = pragma
        switch head.method {
        case .GET where !speaksWMSP:
            kind = .download
        case .GET:
            if p["pipeline-request"] != nil { kind = .pipeline }
            else if p["xPlayNextEntry"] != nil { kind = .playNextEntry }
            else if p.number("xPlayStrm") == 1 { kind = .play }
            else if p["stream-switch-entry"] != nil { kind = .selectStream }
            else { kind = .describe }
        case .POST where speaksWMSP:
            let type = contentType?.lowercased() ?? ""
            if type.hasPrefix("application/x-wms-logstats") || p["log-line"] != nil { kind = .log }
            else if type.hasPrefix("application/x-wms-sendevent") { kind = .sendEvent }
            else if p["xStopStrm"] != nil { kind = .stop }
            else if p["stream-switch-entry"] != nil { kind = .selectStream }
            else if p["xPlayNextEntry"] != nil { kind = .playNextEntry }
            else if p["xKeepAliveInPause"] != nil { kind = .keepAlive }
            else { kind = .unsupported("POST without a request type") }
        case .OPTIONS where speaksWMSP:
            kind = .keepAlive
        default:
            kind = .unsupported("\(head.method) is not a request of this server")
        }
    }

    /// The session this request names (2.2.1.4.5).
    public var clientID: UInt32? { pragma.number("client-id").flatMap { UInt32(exactly: $0) } }

    /// Play in pipelined mode: HTTP/1.1 and chunked (2.2.1.4.30, 3.2.5.6).
    public var wantsChunked: Bool { pragma.number("version11-enabled") == 1 }

    /// The client's version (2.2.1.8): major and minor of `NSPlayer/12.0.7601.17514`; nil for
    /// a client that is not a Windows Media player or server.
    public var clientVersion: (major: Int, minor: Int)? {
        guard userAgent.hasPrefix("NSPlayer/") || userAgent.hasPrefix("NSServer/") else { return nil }
        let numbers = userAgent.drop { $0 != "/" }.dropFirst().prefix { $0 != " " }.split(separator: ".")
        guard let major = numbers.first.flatMap({ Int($0) }) else { return nil }
        return (major, numbers.dropFirst().first.flatMap { Int($0) } ?? 0)
    }

    /// Whether the responses carry $M packets and the Supported header: for clients of version
    /// 9.0 or later, since the server names itself Cougar 9 (2.2.1.7, 3.2.5.4, 3.2.5.6).
    public var isVersion9OrLater: Bool { (clientVersion?.major ?? 0) >= 9 }

    /// Describe asked for a packet-pair experiment (2.2.1.4.14).
    public var wantsPacketPairs: Bool { pragma.number("packet-pair-experiment") == 1 }

    /// ffmpeg and libmms (NSPlayer/4.1) print stream numbers in decimal (CLIENTS.md 1.2, 1.4).
    public var printsDecimalStreamNumbers: Bool { userAgent.hasPrefix("NSPlayer/4.1") }

    /// Where Play starts: `stream-offset=hi:lo` is a byte offset into the data packets (VLC),
    /// else `stream-time` in milliseconds (ffmpeg); nil for the beginning.
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
