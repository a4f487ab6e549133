import NIOCore

/// IP allow and deny lists of CIDR blocks, IPv4 and IPv6 (`10.0.0.0/8`, `2001:db8::/32`, or a
/// single address). A deny entry always wins; with any allow entry, only those blocks may play.
/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is matched as the IPv4 address it carries.
public struct AddressList: Sendable, Equatable {
    public struct Block: Sendable, Equatable {
        /// 16 bytes; IPv4 as IPv4-mapped IPv6.
        var address: [UInt8]
        var prefixLength: Int

        /// Parses `a.b.c.d[/n]` or an IPv6 address `[/n]`; nil when it is neither.
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let host = parts.first, let address = try? SocketAddress(ipAddress: String(host), port: 0),
                  let bytes = Self.bytes(of: address) else { return nil }
            let isIPv4: Bool
            if case .v4 = address { isIPv4 = true } else { isIPv4 = false }
            let maximum = isIPv4 ? 32 : 128
            if parts.count == 2 {
                guard let n = Int(parts[1]), (0...maximum).contains(n) else { return nil }
                prefixLength = isIPv4 ? 96 + n : n
            } else {
                prefixLength = 128
            }
            self.address = bytes
        }

        func contains(_ bytes: [UInt8]) -> Bool {
            var remaining = prefixLength
            for i in 0..<16 where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if address[i] & mask != bytes[i] & mask { return false }
                remaining -= bits
            }
            return true
        }

        static let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]

        /// The address as 16 bytes, IPv4 mapped into IPv6.
        static func bytes(of address: SocketAddress) -> [UInt8]? {
            switch address {
            case let .v4(v4):
                let ip = UInt32(bigEndian: v4.address.sin_addr.s_addr)
                return mappedPrefix + [UInt8(ip >> 24), UInt8(ip >> 16 & 0xFF), UInt8(ip >> 8 & 0xFF), UInt8(ip & 0xFF)]
            case let .v6(v6):
                var a = v6.address.sin6_addr
                return withUnsafeBytes(of: &a) { Array($0) }
            default:
                return nil
            }
        }
    }

    public var allow: [Block]
    public var deny: [Block]

    public init(allow: [Block] = [], deny: [Block] = []) {
        self.allow = allow
        self.deny = deny
    }

    public var isEmpty: Bool { allow.isEmpty && deny.isEmpty }

    /// Whether a client at `address` may connect. A client with no IP address (a Unix socket) is
    /// judged by the allow list alone: with one, it is refused.
    public func permits(_ address: SocketAddress?) -> Bool {
        guard !isEmpty else { return true }
        guard let address, let bytes = Block.bytes(of: address) else { return allow.isEmpty }
        if deny.contains(where: { $0.contains(bytes) }) { return false }
        return allow.isEmpty || allow.contains { $0.contains(bytes) }
    }
}
