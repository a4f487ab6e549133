import NIOCore

/// A broadcast point's multicast (`multicast:` in the configuration): where its MSB datagrams
/// go (MS-MSB 2.1) and how, and what its `.nsc` tells receivers.
public struct MulticastSettings: Sendable, Equatable {
    /// The group, IPv4 (224.0.0.0/4) or IPv6 (ff00::/8).
    public var group: String
    public var port: Int
    /// Hops the datagrams may cross; 1 keeps them on the sender's network.
    public var timeToLive: Int = 1
    /// The local address to send from: it picks the interface, and is the `.nsc`'s Multicast
    /// Adapter. Nil: the route to the group picks one.
    public var interface: String?
    /// Data packets per parity packet (2.2.2); 0 for none. Windows always sends 10.
    public var fecSpan: Int = 10
    /// Seconds between beacons while no data flows (3.1.2: 1 to 10).
    public var beaconSeconds: Double = 3
    /// The `.nsc`'s Unicast URL, where a receiver goes when nothing arrives (3.2.3). Nil: the
    /// point over mmsh on the host the `.nsc` was fetched from.
    public var unicastURL: String?

    public init(group: String, port: Int) {
        self.group = group
        self.port = port
    }

    /// Ethernet's datagram budget: an MSB packet larger than this is fragmented by IP.
    public static let unfragmentedSize = 1472

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// The group as a socket address; throws when it is not a multicast address or the
    /// other values are out of range.
    public func groupAddress() throws(Invalid) -> SocketAddress {
        guard (1...65535).contains(port) else { throw Invalid(description: "port \(port) is not 1-65535") }
        guard (0...255).contains(timeToLive) else { throw Invalid(description: "ttl \(timeToLive) is not 0-255") }
        guard fecSpan == 0 || ParitySpan.spans.contains(fecSpan) else {
            throw Invalid(description: "fec_span \(fecSpan) is not 0 (none) or 1-14 (MS-MSB 2.2.2; 15 cannot be written)")
        }
        guard (1...10).contains(beaconSeconds) else { throw Invalid(description: "beacon_seconds \(beaconSeconds) is not 1-10 (MS-MSB 3.1.2)") }
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: group, port: port)
        } catch {
            throw Invalid(description: "group \(group) is not an IP address")
        }
        guard Self.isMulticast(address) else { throw Invalid(description: "group \(group) is not a multicast address (224.0.0.0/4, ff00::/8)") }
        return address
    }

    static func isMulticast(_ address: SocketAddress) -> Bool {
        switch address {
        case let .v4(v4): return UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 28 == 0xE
        case let .v6(v6): return withUnsafeBytes(of: v6.address.sin6_addr) { $0.first == 0xFF }
        default: return false
        }
    }
}
