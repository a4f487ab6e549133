import ASF
import NIOCore
import NIOPosix

/// `asfcast tune`: joins a `.nsc`'s group on an explicit interface (MULTICAST.md §6: a join
/// left to the default route lands on the wrong one), and writes the stream as an ASF file
/// would hold it: the Format's header, then the packets from the first key frame, re-padded,
/// lost ones rebuilt from parity (`MSBReceiver`). It gives up after the Open timer when nothing
/// comes (MS-MSB 3.2.3: the caller rolls over to the Unicast URL), and ends after the
/// End-of-Stream timer (3.2.4) or the duration asked for.
public enum MulticastTuner {
    public struct Options: Sendable {
        /// The local address to join on; nil: the `.nsc`'s Multicast Adapter if it is one of
        /// this machine's, else the first multicast-capable interface.
        public var interface: String?
        public var openTimeout: TimeAmount = .seconds(20)
        public var endTimeout: TimeAmount = .seconds(30)
        /// Stop after this long from the first datagram.
        public var duration: TimeAmount?

        public init() {}
    }

    public enum Outcome: Sendable, Equatable {
        /// The stream went quiet (End-of-Stream timer), or the duration passed.
        case ended
        /// Nothing arrived before the Open timer: roll over.
        case nothingArrived
        /// The stream moved to another Format than the output's header.
        case formatChanged(UInt16)
        /// The stream went on under a Format the `.nsc` does not list (a newer header).
        case unknownFormat(UInt16)
        /// The output could not be written (the reader of a pipe went away).
        case outputClosed
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Tunes in until an outcome; `output` gets the bytes in order, `warn` what was wrong with
    /// the datagrams (once per kind).
    public static func tune(_ nsc: NSCFile, options: Options, output: @escaping @Sendable (ByteBuffer) throws -> Void,
                            warn: @escaping @Sendable (String) -> Void) async throws -> (Outcome, MSBReceiver.Statistics) {
        var headers: [UInt16: (bytes: ByteBuffer, packetSize: Int, video: Set<UInt8>)] = [:]
        for format in nsc.formats {
            let bytes = ByteBuffer(bytes: format.header)
            let header: ASFHeader
            do {
                header = try ASFHeader(parsing: bytes)
            } catch {
                throw Failure(description: "Format ID \(format.id): not an ASF header: \(error)")
            }
            guard let size = header.fileProperties.fixedPacketSize else { throw Failure(description: "Format ID \(format.id): no fixed packet size") }
            headers[format.id] = (outputHeader(bytes), size, Set(header.streams.filter { $0.kind == .video }.map(\.streamNumber)))
        }
        guard !headers.isEmpty else { throw Failure(description: "the .nsc lists no Format") }
        let group: SocketAddress
        do {
            group = try SocketAddress(ipAddress: nsc.ipAddress, port: Int(nsc.ipPort))
        } catch {
            throw Failure(description: "IP Address \(nsc.ipAddress) is not an address")
        }
        guard MulticastSettings.isMulticast(group) else { throw Failure(description: "IP Address \(nsc.ipAddress) is not a multicast group") }
        let device = try interface(for: group, asked: options.interface ?? nsc.multicastAdapter, explicit: options.interface != nil)

        let loops = MultiThreadedEventLoopGroup.singleton
        let done = loops.next().makePromise(of: (Outcome, MSBReceiver.Statistics).self)
        let receiver = MSBReceiver(formats: headers.mapValues { MSBReceiver.Format(packetSize: $0.packetSize, videoStreams: $0.video) })
        let channel: Channel
        do {
            channel = try await DatagramBootstrap(group: loops)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
                // An MSB packet is up to 64 KiB (2.2.4); NIO reads 2 KiB datagrams by default.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TunerHandler(
                            receiver: receiver, headers: headers.mapValues(\.bytes), options: options, output: output, warn: warn, done: done))
                    }
                }
                // Bound to the group itself, the socket takes that group's datagrams only.
                .bind(to: group).get()
            try await join(group, on: device, channel: channel)
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(description: "cannot join \(group) on \(device?.name ?? "the default interface"): \(error)")
        }
        let result = try await done.futureResult.get()
        try? await channel.close().get()
        return result
    }

    /// The Format as the output's start: a Data Object size below 50 (a live header's 0) made
    /// 50, the Data Object's own header and no packets known. VLC refuses an object smaller
    /// than 24 bytes and takes 50 as live; ffmpeg reads any size below 100 as unknown and
    /// reads on to the end.
    static func outputHeader(_ format: ByteBuffer) -> ByteBuffer {
        var bytes = format
        guard let headerSize = bytes.getInteger(at: bytes.readerIndex + 16, endianness: .little, as: UInt64.self),
              headerSize <= UInt64(bytes.readableBytes - 24), let at = Int(exactly: headerSize).map({ bytes.readerIndex + $0 + 16 }),
              let size = bytes.getInteger(at: at, endianness: .little, as: UInt64.self), size < 50 else { return format }
        bytes.setInteger(UInt64(50), at: at, endianness: .little)
        return bytes
    }

    /// IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP on `device`. Set directly rather than through NIO's
    /// `joinGroup`, which refuses an interface without the MULTICAST flag: lo has none, and
    /// joining on it is how a tuner beside the server receives (MULTICAST.md §6 A).
    private static func join(_ group: SocketAddress, on device: NIONetworkDevice?, channel: Channel) async throws {
        guard let options = channel as? SocketOptionProvider else { throw Failure(description: "no socket options") }
        switch (group, device?.address) {
        case let (.v4(address), interface):
            var local = in_addr(s_addr: INADDR_ANY)
            if case let .v4(i)? = interface { local = i.address.sin_addr }
            try await options.unsafeSetSocketOption(level: .ip, name: .ip_add_membership,
                                                    value: ip_mreq(imr_multiaddr: address.address.sin_addr, imr_interface: local)).get()
        case let (.v6(address), _):
            try await options.unsafeSetSocketOption(level: .ipv6, name: .ipv6_join_group,
                                                    value: ipv6_mreq(ipv6mr_multiaddr: address.address.sin6_addr,
                                                                     ipv6mr_interface: UInt32(device?.interfaceIndex ?? 0))).get()
        default:
            throw Failure(description: "not an IP group")
        }
    }

    /// The interface to join on: the one holding `asked`, else the first up, multicast-capable
    /// one of the group's family. An address asked for on the command line must be local; the
    /// `.nsc`'s adapter (the sender's) may not be, and then counts for nothing.
    private static func interface(for group: SocketAddress, asked: String?, explicit: Bool) throws -> NIONetworkDevice? {
        let devices = try System.enumerateDevices().filter { $0.address?.protocol == group.protocol }
        if let asked {
            if let device = devices.first(where: { $0.address?.ipAddress == asked }) { return device }
            if explicit { throw Failure(description: "--interface \(asked) is not an address of this machine") }
        }
        return devices.first { $0.multicastSupported && $0.name != "lo" } ?? devices.first
    }
}

/// The tuner's socket handler: datagrams into the receiver, packets out, the timers.
private final class TunerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private var receiver: MSBReceiver
    private let headers: [UInt16: ByteBuffer]
    private let options: MulticastTuner.Options
    private let output: (ByteBuffer) throws -> Void
    private let warn: (String) -> Void
    private let done: EventLoopPromise<(MulticastTuner.Outcome, MSBReceiver.Statistics)>
    private var wroteHeader = false
    private var warned: Set<String> = []
    private var openTimer: Scheduled<Void>?
    private var endCheck: Scheduled<Void>?
    private var lastPacket = NIODeadline.now()
    private var stopAt: NIODeadline?
    private var finished = false

    init(receiver: MSBReceiver, headers: [UInt16: ByteBuffer], options: MulticastTuner.Options, output: @escaping (ByteBuffer) throws -> Void,
         warn: @escaping (String) -> Void, done: EventLoopPromise<(MulticastTuner.Outcome, MSBReceiver.Statistics)>) {
        self.receiver = receiver
        self.headers = headers
        self.options = options
        self.output = output
        self.warn = warn
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        openTimer = context.eventLoop.assumeIsolated().scheduleTask(in: options.openTimeout) { [weak self] in
            self?.finish(.nothingArrived, context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        let packets = receiver.statistics.packets
        for event in receiver.receive(unwrapInboundIn(data).data) {
            switch event {
            case .alive:
                started(context: context)
            case let .packet(packet):
                do {
                    if !wroteHeader, let id = receiver.formatID, let header = headers[id] {
                        try output(header)
                        wroteHeader = true
                    }
                    try output(packet)
                } catch {
                    return finish(.outputClosed, context: context)
                }
            case let .formatChanged(id):
                return finish(.formatChanged(id), context: context)
            case let .malformed(reason):
                let kind = String(reason.prefix { !$0.isNumber })
                if warned.insert(kind).inserted { warn("\(reason) (such datagrams are dropped; noted once)") }
            }
        }
        if receiver.statistics.packets != packets { lastPacket = context.eventLoop.now }
    }

    /// The group is alive: the Open timer stops (3.2.2); the End-of-Stream timer (3.2.4) and
    /// the duration are checked four times a second from here on.
    private func started(context: ChannelHandlerContext) {
        openTimer?.cancel()
        let now = context.eventLoop.now
        lastPacket = now
        stopAt = options.duration.map { now + $0 }
        checkEnd(context: context)
    }

    private func checkEnd(context: ChannelHandlerContext) {
        endCheck = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(250)) { [weak self] in
            guard let self, !finished else { return }
            let now = context.eventLoop.now
            if let stopAt, now >= stopAt { return finish(.ended, context: context) }
            // Only packets of an unlisted Format for a while: the point has a new header.
            if now - lastPacket >= Self.unknownFormatTimeout, receiver.unknownSinceKnown > 0, let id = receiver.lastUnknownFormat {
                return finish(.unknownFormat(id), context: context)
            }
            if now - lastPacket >= options.endTimeout { return finish(.ended, context: context) }
            checkEnd(context: context)
        }
    }

    /// How long packets of unlisted Formats alone are taken for a new header.
    static let unknownFormatTimeout = TimeAmount.seconds(3)

    private func finish(_ outcome: MulticastTuner.Outcome, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        openTimer?.cancel()
        endCheck?.cancel()
        if outcome != .outputClosed {
            for case let .packet(packet) in receiver.finish() where wroteHeader { try? output(packet) }
        }
        done.succeed((outcome, receiver.statistics))
    }
}
