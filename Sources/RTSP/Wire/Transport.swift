/// One transport specification of the RTSP `Transport` header (RFC 2326 12.39, MS-RTSP 2.2.6.11),
/// as a client asks for it in SETUP and the server confirms it.
public struct RTSPTransport: Equatable, Sendable {
    public enum Lower: Equatable, Sendable { case tcp, udp }

    public var lower: Lower
    /// TCP: the interleaved channels (RTP, RTCP).
    public var interleaved: (rtp: UInt8, rtcp: UInt8)?
    /// UDP: the client's RTP port, and its RTCP port when it named one (ffmpeg's media SETUPs
    /// name a single port: CLIENTS.md 3.1).
    public var clientPort: (rtp: Int, rtcp: Int?)?

    public init(lower: Lower, interleaved: (rtp: UInt8, rtcp: UInt8)? = nil, clientPort: (rtp: Int, rtcp: Int?)? = nil) {
        self.lower = lower
        self.interleaved = interleaved
        self.clientPort = clientPort
    }

    public static func == (a: RTSPTransport, b: RTSPTransport) -> Bool {
        a.lower == b.lower && a.interleaved?.rtp == b.interleaved?.rtp && a.interleaved?.rtcp == b.interleaved?.rtcp
            && a.clientPort?.rtp == b.clientPort?.rtp && a.clientPort?.rtcp == b.clientPort?.rtcp
    }

    /// The first unicast RTP specification of a `Transport` header that the server can serve,
    /// or nil when there is none (461 Unsupported Transport).
    public static func firstSupported(in header: String) -> RTSPTransport? {
        header.split(separator: ",").lazy.compactMap { RTSPTransport(parsing: String($0)) }.first
    }

    /// One specification: `RTP/AVP[/TCP|/UDP];unicast;interleaved=a-b` or `…;client_port=a[-b]`.
    public init?(parsing spec: String) {
        let parts = spec.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let protocolPart = parts.first?.uppercased() else { return nil }
        switch protocolPart {
        case "RTP/AVP", "RTP/AVP/UDP": lower = .udp
        case "RTP/AVP/TCP": lower = .tcp
        default: return nil
        }
        if parts.contains(where: { $0.lowercased() == "multicast" }) { return nil }
        /// `name=a[-b]`: nil when absent; a malformed value refuses the whole specification.
        var malformed = false
        func range(_ name: String) -> (Int, Int?)? {
            guard let part = parts.first(where: { $0.lowercased().hasPrefix(name + "=") }) else { return nil }
            let numbers = part.dropFirst(name.count + 1).split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard numbers.count <= 2, let first = numbers[0], numbers.count == 1 || numbers[1] != nil else {
                malformed = true
                return nil
            }
            return (first, numbers.count == 2 ? numbers[1] : nil)
        }
        switch lower {
        case .tcp:
            // Without interleaved= the server picks channels 0-1 (RFC 2326 12.39).
            let channels = range("interleaved") ?? (0, 1)
            guard !malformed, (0...254).contains(channels.0), (0...255).contains(channels.1 ?? channels.0 + 1) else { return nil }
            interleaved = (UInt8(channels.0), UInt8(channels.1 ?? channels.0 + 1))
        case .udp:
            // Without an RTCP port it is the next one (RFC 3550 11), so 65535 alone names none.
            guard let ports = range("client_port"), (1...65535).contains(ports.0),
                  ports.1.map({ (1...65535).contains($0) }) ?? (ports.0 < 65535) else { return nil }
            clientPort = (ports.0, ports.1)
        }
    }

    /// The server's confirmation of this specification in a SETUP reply (CLIENTS.md 3.2):
    /// exactly one transport, with the SSRC the server sends with.
    public func reply(ssrc: UInt32, source: String?, serverPorts: (rtp: Int, rtcp: Int)?) -> String {
        let id = String(ssrc, radix: 16, uppercase: false).leftPadded(to: 8)
        switch lower {
        case .tcp:
            let channels = interleaved ?? (0, 1)
            return "RTP/AVP/TCP;unicast;interleaved=\(channels.rtp)-\(channels.rtcp);ssrc=\(id);mode=PLAY"
        case .udp:
            var text = "RTP/AVP/UDP;unicast"
            if let source { text += ";source=\(source)" }
            if let serverPorts { text += ";server_port=\(serverPorts.rtp)-\(serverPorts.rtcp)" }
            if let clientPort {
                text += ";client_port=\(clientPort.rtp)" + (clientPort.rtcp.map { "-\($0)" } ?? "")
            }
            return text + ";ssrc=\(id);mode=PLAY"
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
