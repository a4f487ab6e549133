import ASF
import CoreMetrics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Streaming

/// A broadcast point's MSB sender (MS-MSB 3.1): a subscriber of the point's relay on one loop
/// that sends each packet to the group when it falls due, its parity after each span, and a
/// beacon every period while nothing else goes out (before an encoder pushes, after a
/// broadcast ends: 3.1.5.1, 3.1.6.1). It follows each broadcast the point starts (each
/// encoder's header of other streams), and keeps every header it sent under for the `.nsc`.
public final class MulticastSender: BroadcastFollower, BroadcastSubscriber, @unchecked Sendable {
    public let point: String
    public let settings: MulticastSettings
    public let groupAddress: SocketAddress
    private let channel: Channel
    private let eventLoop: EventLoop
    private let logger: Logger
    private let beaconPeriod: TimeAmount
    // Loop only.
    private var msb: MSBSender
    private var relay: BroadcastRelay?
    private var queue = CircularBuffer<StreamPacket>()
    /// The send time that went out at a deadline: packets go out on the stream's clock from it.
    private var clock: (sendTime: UInt32, at: NIODeadline)?
    private var entry: UInt32?
    private var sendTask: Scheduled<Void>?
    private var beaconTask: RepeatedTask?
    private var lastSent = NIODeadline.distantPast
    private var noted: Set<String> = []
    // Any thread.
    private let sent = NIOLockedValueBox<[NSCFile.Format]>([])
    private let counters = NIOLockedValueBox((datagrams: 0, parity: 0, beacons: 0))
    /// The same in /metrics, by kind: the packets' datagrams, FEC parity, beacons.
    private let metrics: (data: Counter, parity: Counter, beacons: Counter)?

    public var selection: Set<UInt8>? { nil }

    /// Opens the sending socket on `loop`: from `settings.interface` (or the route's), with the
    /// TTL or hop limit set. Throws when the settings or the interface are not usable.
    public init(point: String, settings: MulticastSettings, on loop: EventLoop, activity: ServerActivity? = nil, logger: Logger) throws {
        self.point = point
        func counter(_ kind: String) -> Counter? { activity?.counter("asfcast_multicast_datagrams_total", [("point", point), ("kind", kind)]) }
        if let data = counter("data"), let parity = counter("parity"), let beacons = counter("beacon") {
            metrics = (data, parity, beacons)
        } else {
            metrics = nil
        }
        self.settings = settings
        groupAddress = try settings.groupAddress()
        eventLoop = loop
        self.logger = logger
        beaconPeriod = .milliseconds(Int64(settings.beaconSeconds * 1000))
        msb = MSBSender(fecSpan: settings.fecSpan)
        let v6 = groupAddress.protocol == .inet6
        let local = settings.interface ?? (v6 ? "::" : "0.0.0.0")
        let device: NIONetworkDevice?
        if let interface = settings.interface {
            device = try System.enumerateDevices().first { $0.address?.ipAddress == interface }
            guard device != nil else { throw MulticastSettings.Invalid(description: "interface \(interface) is not an address of this machine") }
        } else {
            device = nil
        }
        channel = try DatagramBootstrap(group: loop).bind(host: local, port: 0).wait()
        guard let options = channel as? SocketOptionProvider else { throw MulticastSettings.Invalid(description: "no socket options") }
        if v6 {
            try options.setIPv6MulticastHops(CInt(settings.timeToLive)).wait()
            if let index = device?.interfaceIndex { try options.setIPv6MulticastIF(CUnsignedInt(index)).wait() }
        } else {
            try options.setIPMulticastTTL(CUnsignedChar(settings.timeToLive)).wait()
            if case let .v4(address)? = device?.address { try options.setIPMulticastIF(address.address.sin_addr).wait() }
        }
        // Receivers on this machine get the group too (a tuner beside the server).
        if v6 { try options.setIPv6MulticastLoop(1).wait() } else { try options.setIPMulticastLoop(1).wait() }
    }

    /// Starts the beacons: one at once, then every period while no data goes out.
    public func start() {
        eventLoop.execute { [self] in
            logger.info("point \(point): multicast to \(groupAddress) (TTL \(settings.timeToLive), FEC span \(settings.fecSpan))")
            beaconTask = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: beaconPeriod) { [weak self] _ in self?.beaconIfIdle() }
        }
    }

    public func stop() {
        try? eventLoop.submit { [self] in
            beaconTask?.cancel()
            sendTask?.cancel()
            relay?.leave(self)
            relay = nil
        }.wait()
        try? channel.close().wait()
    }

    /// Every header the stream went out under, in order: the `.nsc`'s Formats.
    public var formats: [NSCFile.Format] { sent.withLockedValue { $0 } }

    public var statistics: (datagrams: Int, parity: Int, beacons: Int) { counters.withLockedValue { $0 } }

    // MARK: Following the point's broadcasts

    public func follow(_ broadcast: BroadcastPoint) {
        let format = NSCFile.Format(streamingHeader: broadcast.streamingHeader, description: broadcast.name)
        sent.withLockedValue { formats in
            if !formats.contains(where: { $0.id == format.id }) { formats.append(format) }
        }
        eventLoop.execute { [self] in
            relay?.leave(self)
            msb.newEntry(formatID: format.id)
            entry = nil
            clock = nil
            let relay = broadcast.relay(on: eventLoop)
            self.relay = relay
            receive(relay.join(self))
        }
    }

    public func receive(_ batch: BroadcastBatch) {
        for packet in batch.packets { queue.append(packet) }
        // Packets come in order: a send already waiting is for the head, which has not changed.
        if sendTask == nil { sendDue() }
    }

    public func broadcastEnded() {
        relay = nil
        // What is queued goes out; beacons follow once the group is quiet for a period.
    }

    // MARK: Sending

    /// Sends the packets that are due (and those due within 2 ms), flushed as one batch, then
    /// waits for the next.
    private func sendDue() {
        sendTask = nil
        let now = eventLoop.now
        var wrote = false
        while let head = queue.first {
            let due = deadline(of: head, now: now)
            guard due <= now + .milliseconds(2) else {
                sendTask = eventLoop.scheduleTask(deadline: due) { [weak self] in self?.sendDue() }
                break
            }
            queue.removeFirst()
            write(head)
            wrote = true
        }
        if wrote {
            channel.flush()
            lastSent = now
        }
    }

    /// When `packet` goes out: on the stream's clock from the first packet sent. A packet more
    /// than 2 s behind it or 10 s ahead (an encoder whose clock started again) restarts the clock.
    private func deadline(of packet: StreamPacket, now: NIODeadline) -> NIODeadline {
        if let clock {
            let due = clock.at + .milliseconds(Int64(Int32(bitPattern: packet.sendTime &- clock.sendTime)))
            if due >= now - .seconds(2), due <= now + .seconds(10) { return due }
        }
        clock = (packet.sendTime, now)
        return now
    }

    private func write(_ packet: StreamPacket) {
        if let entry, entry != packet.entry { msb.newEntry(formatID: msb.formatID) }
        entry = packet.entry
        let datagrams: [ByteBuffer]
        switch msb.datagrams(for: packet.bytes) {
        case let .packet(data): datagrams = [data]
        case let .packetAndParity(data, parity): datagrams = [data, parity]
        case let .dropped(reason):
            noteOnce("drop", "point \(point): \(reason): not sent to the group (logged once)")
            return
        }
        if datagrams[0].readableBytes > MulticastSettings.unfragmentedSize {
            noteOnce("fragmented", "point \(point): MSB packets of \(datagrams[0].readableBytes) bytes exceed an Ethernet datagram (\(MulticastSettings.unfragmentedSize)): IP fragments them (logged once)")
        }
        for datagram in datagrams {
            channel.write(AddressedEnvelope(remoteAddress: groupAddress, data: datagram)).whenFailure { [weak self] error in
                self?.noteOnce("send", "point \(self?.point ?? ""): cannot send to \(self?.groupAddress.description ?? ""): \(error) (logged once)")
            }
        }
        counters.withLockedValue {
            $0.datagrams += datagrams.count
            $0.parity += datagrams.count - 1
        }
        metrics?.data.increment()
        if datagrams.count > 1 { metrics?.parity.increment(by: Int64(datagrams.count - 1)) }
    }

    private func beaconIfIdle() {
        guard queue.isEmpty, eventLoop.now - lastSent >= beaconPeriod else { return }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: groupAddress, data: MSBSender.beacon), promise: nil)
        counters.withLockedValue { $0.beacons += 1 }
        metrics?.beacons.increment()
    }

    private func noteOnce(_ kind: String, _ message: @autoclosure () -> String) {
        guard noted.insert(kind).inserted else { return }
        logger.warning("\(message())")
    }
}
