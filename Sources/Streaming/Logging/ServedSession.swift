import Foundation

/// What the server saw of one session it ended, for its access log line when the client sent
/// no log of its own (MS-WMLOG 2.1: the fields a server can know).
public struct ServedSession: Sendable {
    public var clientIP: String
    public var uriStem: String
    /// The player's User-Agent (MMS: the player part of its subscriber name).
    public var userAgent: String
    /// c-playerid (2.1.18): the player's GUID as it sent it (WMSP's `xClientGUID`, MMS's
    /// subscriber name, MS-RTSP's `guid/` token); logged only when it is a GUID.
    public var playerID: String?
    /// `http/1.0`, `http/1.1`, `rtsp`, `mmst` or `mmsu`.
    public var protocolName: String
    /// `TCP` or `UDP`.
    public var transport: String
    /// c-starttime (2.1.24): the offset in the content, in seconds, the session began at; 0 for
    /// broadcasts.
    public var startSeconds: Int
    public var durationSeconds: Int
    public var bytes: Int
    public var packets: Int
    /// c-resendreqs (2.1.23): the player's resend requests; nil ("-") without UDP resend.
    public var resendRequests: Int?
    public var status: Int
    public var serverIP: String

    public init(clientIP: String, uriStem: String, userAgent: String, playerID: String? = nil, protocolName: String, transport: String,
                startSeconds: Int = 0, durationSeconds: Int, bytes: Int, packets: Int, resendRequests: Int? = nil,
                status: Int = 200, serverIP: String) {
        (self.clientIP, self.uriStem, self.userAgent, self.playerID, self.protocolName, self.transport) =
            (clientIP, uriStem, userAgent, playerID, protocolName, transport)
        (self.startSeconds, self.durationSeconds, self.bytes, self.packets, self.resendRequests) =
            (startSeconds, durationSeconds, bytes, packets, resendRequests)
        (self.status, self.serverIP) = (status, serverIP)
    }

    /// c-playerid's registry form, `{8-4-4-4-12}` in hex, from a GUID with or without braces;
    /// nil for anything else (VLC's `{0xbabac001-0x…}`, GStreamer's Real `GUID` of zeros).
    static func registryGUID(_ text: String?) -> String? {
        guard var text else { return nil }
        if text.hasPrefix("{"), text.hasSuffix("}") { text = String(text.dropFirst().dropLast()) }
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12], groups.allSatisfy({ $0.allSatisfy(\.isHexDigit) }),
              groups.contains(where: { $0.contains { $0 != "0" } }) else { return nil }
        return "{\(text)}"
    }

    /// c-playerversion (2.1.20): the version of the User-Agent's first product
    /// (`NSPlayer/7.10.0.3059` → `7.10.0.3059`, `Lavf/59.27.100` → `59.27.100`).
    public static func playerVersion(_ userAgent: String) -> String? {
        let product = userAgent.prefix { $0 != " " && $0 != ";" }
        guard let slash = product.firstIndex(of: "/") else { return nil }
        let version = product[product.index(after: slash)...]
        return version.first?.isNumber == true ? String(version) : nil
    }

    /// The GUID in MS-RTSP's User-Agent (`WMPlayer/9.0.0.2833 guid/B64345F5-…`, 2.2.6.12).
    public static func rtspPlayerID(userAgent: String) -> String? {
        userAgent.split(separator: " ").first { $0.hasPrefix("guid/") }.map { String($0.dropFirst(5)) }
    }
}
