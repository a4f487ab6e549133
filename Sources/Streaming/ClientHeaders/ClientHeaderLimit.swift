import ASF

/// How large an ASF header a client takes over a protocol, and what it must not get at all,
/// as measured here (HEADERS.md, `Benchmarks/header-limits.sh`). Clients are told apart by
/// what they send (CLIENTS.md 1, 2, 3): the WMSP and RTSP User-Agent, the MMS player string.
public struct ClientHeaderLimit: Sendable, Equatable, CustomStringConvertible {
    /// The client, as the log names it.
    public var client: String
    /// The largest header (Header Object and the Data Object's first 50 bytes) it plays; nil
    /// for no limit found.
    public var maximumSize: Int?
    /// What it fails on whatever the size.
    public var neverSent: Set<HeaderOmission>
    /// Whether it reads to the end of a Data Object of known size over WMSP: VLC stops short of
    /// it by about the header's size, so it gets one of unknown size (0), as for a live stream.
    /// ffmpeg, given that, reads to the end of the response and reports the close as errors.
    /// (Over RTSP every client gets the unknown size: `SessionDescription`.)
    public var readsKnownDataSize: Bool

    public var description: String { client }

    public init(client: String, maximumSize: Int? = nil, neverSent: Set<HeaderOmission> = [], readsKnownDataSize: Bool = true) {
        self.client = client
        self.maximumSize = maximumSize
        self.neverSent = neverSent
        self.readsKnownDataSize = readsKnownDataSize
    }

    /// libmms takes at most 16 KiB over mmsh and mmst (CLIENTS.md 1, 2.3); over mmsh ffmpeg reads
    /// only the first `$H` piece, and says what libmms says, `NSPlayer/4.1`.
    static let libmms = 16_384

    /// A header in one `$H` packet (MS-WMSP 2.2.3.1.2: a 16-bit length that counts 8 bytes of
    /// its own).
    static let onePiece = 65_535 - 8

    /// WMSP: `NSPlayer/4.1` is ffmpeg or libmms; VLC (`NSPlayer/7.10`) plays nothing of a header
    /// in several `$H` pieces either (measured: 63 KB plays, 104 KB does not). Other players get
    /// the header in as many pieces as it takes.
    public static func wmsp(userAgent: String) -> ClientHeaderLimit {
        if userAgent.hasPrefix("NSPlayer/4.1") { return ClientHeaderLimit(client: "ffmpeg or libmms (NSPlayer/4.1)", maximumSize: libmms) }
        if userAgent.hasPrefix("NSPlayer/7.10") {
            return ClientHeaderLimit(client: "VLC (NSPlayer/7.10)", maximumSize: onePiece, readsKnownDataSize: false)
        }
        return ClientHeaderLimit(client: "NSPlayer")
    }

    /// RTSP: ffmpeg reads SDP lines into a 16 KiB buffer, and `a=pgmpu` carries the header in
    /// base64 after a 55-byte prefix: 12,240 bytes fit (measured: 9,915 plays, 12,987 does not).
    /// GStreamer took a 104 KB header.
    public static func rtsp(userAgent: String) -> ClientHeaderLimit {
        if userAgent.hasPrefix("Lavf") { return ClientHeaderLimit(client: "ffmpeg (Lavf)", maximumSize: 12_240) }
        if userAgent.hasPrefix("GStreamer") { return ClientHeaderLimit(client: "GStreamer") }
        return ClientHeaderLimit(client: "RTSP client")
    }

    /// MMS, by the player string of Connect (CLIENTS.md 2.2): ffmpeg's fixed GUID, VLC's `0x`
    /// GUID, anything else treated as libmms. ffmpeg over mmst hangs on a header with a
    /// `WM/Picture` in the Extended Content Description (measured from 5.8 KB; a 12.5 KB header
    /// without one plays, and so do pictures in the Metadata Library). VLC takes any header over
    /// TCP; over UDP a 104 KB one, not a 206 KB one.
    public static func mms(playerString: String, overUDP: Bool) -> ClientHeaderLimit {
        if playerString.contains("7E667F5D-A661-495E-A512-F55686DDA178") {
            return ClientHeaderLimit(client: "ffmpeg (mmst)", neverSent: [.pictures])
        }
        if playerString.contains("{0x") {
            return overUDP ? ClientHeaderLimit(client: "VLC (mmsu)", maximumSize: 102_400) : ClientHeaderLimit(client: "VLC (mmst)")
        }
        return ClientHeaderLimit(client: "MMS client (libmms)", maximumSize: libmms)
    }
}
