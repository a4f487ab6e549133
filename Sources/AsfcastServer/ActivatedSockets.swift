import CSystemd
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The listening sockets the service manager passed (sd_listen_fds(3), systemd.socket(5)), by
/// their port: a listener whose port is among them takes that socket instead of binding its
/// own, so that config/asfcast.socket can hold ports 80, 554 and 1755 for an unprivileged server.
/// Taken once at start; LISTEN_FDS is then unset, so that no child inherits the sockets.
struct ActivatedSockets {
    private var byPort: [Int: CInt] = [:]

    struct Unusable: Error, CustomStringConvertible {
        var description: String
    }

    static func take() throws -> ActivatedSockets {
        var sockets = ActivatedSockets()
        let count = sd_listen_fds(1)
        guard count > 0 else { return sockets }
        for descriptor in SD_LISTEN_FDS_START..<(SD_LISTEN_FDS_START + count) {
            guard sd_is_socket(descriptor, AF_UNSPEC, CInt(SOCK_STREAM.rawValue), 1) > 0 else {
                throw Unusable(description: "systemd passed descriptor \(descriptor), which is not a listening stream socket: "
                    + "the .socket unit takes ListenStream= lines only (the UDP ports are the server's own)")
            }
            guard let port = port(of: descriptor) else {
                throw Unusable(description: "systemd passed descriptor \(descriptor), which is not an IPv4 or IPv6 socket")
            }
            guard sockets.byPort.updateValue(descriptor, forKey: port) == nil else {
                throw Unusable(description: "systemd passed two sockets on port \(port): give each port one ListenStream= ([::]:\(port) takes IPv4 too)")
            }
        }
        return sockets
    }

    /// The passed socket listening on `port`, which is then the caller's to own.
    mutating func claim(port: Int) -> CInt? {
        byPort.removeValue(forKey: port)
    }

    /// Passed sockets no listener claimed: a .socket unit that does not match the configuration.
    var unclaimedPorts: [Int] { byPort.keys.sorted() }

    private static func port(of descriptor: CInt) -> Int? {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        switch CInt(address.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        case AF_INET6:
            return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        default:
            return nil
        }
    }
}
