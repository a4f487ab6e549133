import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

extension ClientBootstrap {
    /// Connects from `source` when given: its address with port 0, the port picked at connect
    /// (IP_BIND_ADDRESS_NO_PORT) among those free for this destination, not held from binding.
    public func connect(to address: SocketAddress, from source: SocketAddress?) -> EventLoopFuture<Channel> {
        guard let source else { return connect(to: address) }
        return channelOption(.ipOption(.init(rawValue: IP_BIND_ADDRESS_NO_PORT)), value: 1)
            .bind(to: source)
            .connect(to: address)
    }
}
