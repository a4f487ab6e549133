import ASF
import AsfcastServer
import Foundation
import MMS
import Multicast
import NIOCore
import NIOEmbedded
import Logging
import NIOHTTP1
import Push
import RTSP
import Streaming
import WMSP

/// Every parser of network and file input, as a function of bytes. A target must never trap,
/// whatever the bytes: errors are what it may throw (and drops). libFuzzer drives them
/// (`make fuzz`); `asfcast-fuzz replay` runs the seed corpus and every crash found so far
/// through them in `make test`.
enum FuzzTargets {
    static let all: [String: @Sendable (ByteBuffer) -> Void] = [
        "asf-header": { bytes in
            guard let header = try? ASFHeader(parsing: bytes) else { return }
            _ = header.fitted(to: 12_240)
        },
        "asf-packet": { bytes in
            guard let packet = try? DataPacket(parsing: bytes) else { return }
            _ = packet.payloads.map { ($0.presentationTime, $0.isKeyFrame) }
            _ = try? DataPacket.sendTime(of: bytes)
            _ = packet.padded(to: 65_535)
            var batch = ByteBuffer()
            var rewritten: [ASFPayload.Packet] = []
            try? ASFPayload.append(bytes, rewritingInto: &batch, to: &rewritten)
        },
        "http-request": httpRequest,
        "wmsp-frames": { bytes in
            var parser = FrameParser()
            parser.append(bytes)
            while let frame = try? parser.next() { _ = frame }
        },
        "rtsp-message": { bytes in
            var buffer = bytes
            let parser = RTSPMessageParser()
            while buffer.readableBytes > 0, let inbound = try? parser.parse(&buffer) {
                guard case let .request(request) = inbound else { continue }
                _ = RTSPTransport.firstSupported(in: request["Transport"] ?? "")
                _ = RangeStart(header: request["Range"])
                _ = try? SSEntry.parse(String(buffer: request.body))
            }
        },
        "rtcp": { bytes in _ = try? RTCP.parse(bytes) },
        "mms-message": { bytes in
            var buffer = bytes
            let parser = MMSMessageParser()
            while buffer.readableBytes > 0, let message = try? parser.parse(&buffer) { _ = try? ClientMessage(message) }
        },
        "mms-udp": { bytes in _ = try? ResendRequest(parsing: bytes) },
        "entry-metadata": { bytes in _ = try? EntryMetadata(payload: bytes) },
        "wsx": { bytes in _ = try? Playlist(parsing: Data(bytes.readableBytesView)) },
        "config": { bytes in _ = try? ServerConfiguration.parse(String(decoding: bytes.readableBytesView, as: UTF8.self), file: "fuzz.yaml") },
        "digest": { bytes in
            let text = String(decoding: bytes.readableBytesView, as: UTF8.self)
            let access = PointAccess(users: Users(["alice": [.password("secret")]]), schemes: [.digest, .basic])
            try? digestControl.check(AccessRequest(client: nil, authorization: text, method: "GET", uri: "/x"), point: access)
        },
        "push-body": pushBody,
        "asf-stream": { bytes in
            var input = bytes
            guard var reader = try? ASFStreamReader(read: { count in input.readSlice(length: min(count, input.readableBytes))! }) else { return }
            while let packet = try? reader.next() { _ = packet }
        },
        "nsc": { bytes in
            guard let file = try? NSCFile(parsing: String(decoding: bytes.readableBytesView, as: UTF8.self)) else { return }
            _ = file.text
        },
        "msb-datagram": { bytes in
            guard case let .packet(packet)? = try? MSBDatagram(parsing: bytes), let fields = ParitySpan.fields(of: packet.data) else { return }
            _ = ParitySpan.recover(number: fields.number, cycle: fields.cycle, from: [packet.data], parity: packet.data)
        },
        // Datagrams as a group brings them (each after a 2-byte length), through the tuner's
        // receiver; the input as an ASF packet through the sender.
        "msb-stream": { bytes in
            var receiver = MSBReceiver(formats: [0x39E: .init(packetSize: 3200, videoStreams: [1]), 1: .init(packetSize: 64, videoStreams: [])])
            var rest = bytes
            while let length = rest.readInteger(endianness: .little, as: UInt16.self),
                  let datagram = rest.readSlice(length: min(Int(length), rest.readableBytes)) {
                _ = receiver.receive(datagram)
            }
            _ = receiver.finish()
            var sender = MSBSender(fecSpan: 3)
            _ = sender.datagrams(for: bytes)
        },
        // A connection's bytes, split as the MSBD decoder does, through a session.
        "msbd-message": { bytes in
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(MSBDMessageDecoder()))
            defer { _ = try? channel.finish() }
            guard (try? channel.writeInbound(bytes)) != nil else { return }
            var session = MSBDSession(hasGroup: true)
            while let message = try? channel.readInbound(as: MSBDMessage.self) { _ = session.receive(message) }
        },
        "wmlog": { bytes in
            let text = String(decoding: bytes.readableBytesView, as: UTF8.self)
            _ = try? WMLog(w3c: text)
            _ = try? WMLog(xml: text)
        },
    ]

    static let digestControl = AccessControl()

    /// Request heads as the HTTP port's pipeline gives them to the WMSP engine (a PushStart's
    /// length stated first, then NIO's decoder), then what the engine reads from each: its
    /// kind, start position, stream selection and byte range.
    static func httpRequest(_ bytes: ByteBuffer) {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try? channel.pipeline.syncOperations.addHandler(UnstatedLengthHandler())
        try? channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try? channel.writeInbound(bytes)
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            guard case let .head(head) = part else { continue }
            _ = PushRequest(head: head)
            let request = WMSPRequest(head: head)
            _ = request.startPosition
            if let entries = request.pragma["stream-switch-entry"] {
                _ = StreamSwitchEntry.selection(entries, available: [1, 2, 3], decimalFirst: request.printsDecimalStreamNumbers)
            }
            if let range = request.range { _ = ByteRange(range, size: 1_000_000) }
        }
    }

    /// A PushStart body as the ingest takes it: frames, the state machine over them, and the
    /// packets into a live feed of the header they start with.
    static func pushBody(_ bytes: ByteBuffer) {
        var parser = PushFrameParser()
        parser.append(bytes)
        var machine = IngestStateMachine()
        var feed: LiveFeed?
        while let frame = try? parser.next() {
            switch machine.receive(frame) {
            case let .begin(header), let .change(header):
                guard let parsed = try? ASFHeader(parsing: header), parsed.fileProperties.maximumPacketSize <= 65_535 else { return }
                feed = LiveFeed(header: parsed, logger: fuzzLogger)
            case let .packet(packet):
                try? feed?.append(packet)
                _ = feed?.next()
            case .finish, .refuse:
                return
            case .none:
                continue
            }
        }
    }

    static let fuzzLogger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The target `ASFCAST_FUZZ` names.
    static func selected() -> (name: String, run: @Sendable (ByteBuffer) -> Void) {
        let name = ProcessInfo.processInfo.environment["ASFCAST_FUZZ"] ?? ""
        guard let run = all[name] else {
            FileHandle.standardError.write(Data("ASFCAST_FUZZ must name a target: \(all.keys.sorted().joined(separator: ", "))\n".utf8))
            exit(2)
        }
        return (name, run)
    }
}

#if FUZZING
private let target = FuzzTargets.selected()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var buffer = ByteBufferAllocator().buffer(capacity: size)
    if let data { buffer.writeBytes(UnsafeBufferPointer(start: data, count: size)) }
    target.run(buffer)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                                 _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                 _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM names an executable's entry point after its module; libFuzzer's driver runs from it.
@_cdecl("AsfcastFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, fuzzOneInput)
}
#endif
