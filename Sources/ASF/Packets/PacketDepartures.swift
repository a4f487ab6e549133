/// Ways a stored data packet departs from ASF spec 5.2 that players read anyway (libavformat's
/// `asf_parse_packet` is the reference): the packet keeps every payload that parses.
public struct PacketDepartures: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Packet Length counts the payloads but not the padding that follows (GStreamer's `asfmux`).
    public static let lengthExcludesPadding = PacketDepartures(rawValue: 1 << 0)
    /// Padding Length disagrees with where the payloads end: they run into it, or bytes the
    /// padding does not count follow them.
    public static let paddingDisagrees = PacketDepartures(rawValue: 1 << 1)
    /// A payload runs past the packet's end: it and the payloads after it are dropped.
    public static let payloadTruncated = PacketDepartures(rawValue: 1 << 2)
    /// Packet Length says more bytes than the packet holds (a partial download's last packet).
    public static let packetTruncated = PacketDepartures(rawValue: 1 << 3)

    /// Each departure and its phrase for a warning.
    public static let all: [(departure: PacketDepartures, phrase: String)] = [
        (.lengthExcludesPadding, "Packet Length excludes the padding"),
        (.paddingDisagrees, "Padding Length disagrees with the payloads"),
        (.payloadTruncated, "a payload runs past its packet (dropped)"),
        (.packetTruncated, "a packet is shorter than its Packet Length"),
    ]
}
