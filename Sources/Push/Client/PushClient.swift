import ASF
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Streaming

/// An encoder: pushes an input to a publishing point with exactly the exchange Windows Media
/// Encoder has with Windows Media Services (MS-WMHTTP 3.1, PUSH.md 1): a PushSetup, answered with
/// a push-id; a PushStart whose body is `$H`, then the `$D` packets paced in real time by their
/// send times; `$E(1)` and `$C` where the input's streams change; `$E(0)` at the end. When the
/// connection is lost it connects again, backing off, and goes on with `$H` where it was.
public final class PushClient {
    public let host: String
    public let port: Int
    public let path: String
    private let credentials: Credentials?
    /// What the PushSetup asks: a point made from a template, removed after (2.2.2.1.1-2).
    public var setupBody = PushSetupBody()
    private let group: EventLoopGroup
    private let logger: Logger
    /// What WME 11 on the Format SDK sends; WMS takes pushes from WMEncoder only (MS-WMHTTP 2.2.1.8).
    public static let userAgent = "WMEncoder/11.0.5721.5145"
    /// Length-Remaining with no proxy between (3.1.4.2.1).
    static let bodyLength = 2_147_483_647
    /// Waits between attempts to connect again, the last repeated.
    static let backOff: [TimeAmount] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(15), .seconds(30)]
    /// Attempts in a row before giving up.
    public var maximumAttempts = 10

    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    struct ConnectionLost: Error, CustomStringConvertible {
        var description: String { "the connection was lost" }
    }

    /// The server's answer that is worth trying again after (408, 5xx).
    struct Refusal: Error, CustomStringConvertible {
        var status: HTTPResponseStatus
        var retry: Bool
        var description: String { "the server answered \(status.code) \(status.reasonPhrase)" }
    }

    /// What the progress line shows.
    public struct Progress: Sendable {
        public var secondsPushed: Double
        public var bitsPerSecond: Double
        public var server: String
        public var reconnects: Int
    }

    /// - Parameter url: `http://host[:port]/point`.
    public init(url: String, credentials: Credentials?, group: EventLoopGroup, logger: Logger) throws {
        guard let parts = URLComponents(string: url), parts.scheme?.lowercased() == "http", let host = parts.host, !host.isEmpty else {
            throw Failure(description: "\(url): not an http://host[:port]/point URL")
        }
        self.host = host
        port = parts.port ?? 80
        path = parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath
        self.credentials = credentials
        self.group = group
        self.logger = logger
    }

    private struct Session {
        var connection: PushConnection
        var pushID: String
        var server: String
        var remaining: Int
    }

    /// Pushes `input` to its end. Throws when the server refuses it or cannot be reached after
    /// `maximumAttempts`.
    public func run(_ input: inout some PushInput, progress: (Progress) -> Void) throws {
        var header = input.header
        var held: PushItem?
        var clock: (start: NIODeadline, first: UInt32)?
        var sentBytes = 0, lastTime: UInt32 = 0, firstTime: UInt32?
        var failures = 0, reconnects = 0
        var lastProgress = NIODeadline.now()
        while true {
            var session: Session
            do {
                session = try setup()
                try start(&session, header: header)
                failures = 0
            } catch let refusal as Refusal where !refusal.retry {
                throw Failure(description: "\(host):\(port)\(path): \(refusal)")
            } catch let error as Failure {
                throw error
            } catch {
                // Not reachable yet, or gone: connection refused or reset, 408, 5xx.
                try wait(after: error, failures: &failures)
                continue
            }
            do {
                while let item = try held ?? input.next() {
                    held = item
                    switch item {
                    case let .packet(bytes, sendTime):
                        let start = clock ?? (NIODeadline.now(), sendTime)
                        clock = start
                        let due = start.start + .milliseconds(Int64(sendTime &- start.first))
                        let wait = due - NIODeadline.now()
                        if wait > .zero { usleep(UInt32(clamping: wait.nanoseconds / 1000)) }
                        try send(.data(Self.stripped(bytes)), in: &session)
                        sentBytes += bytes.readableBytes
                        firstTime = firstTime ?? sendTime
                        lastTime = sendTime
                    case let .header(next):
                        // 4.4: the entry is done, the next one's header follows.
                        try send(.end(reason: 1), in: &session)
                        try send(.change(reason: 0, header: next), in: &session)
                        header = next
                    }
                    held = nil
                    if let answer = try session.connection.answerIfAny() { throw Self.refusal(answer.status) }
                    if NIODeadline.now() - lastProgress >= .seconds(1), let firstTime {
                        lastProgress = .now()
                        let seconds = Double(lastTime &- firstTime) / 1000
                        progress(Progress(secondsPushed: seconds, bitsPerSecond: seconds > 0 ? Double(sentBytes * 8) / seconds : 0,
                                          server: session.server, reconnects: reconnects))
                    }
                }
                try send(.end(reason: 0), in: &session)
                session.connection.close()
                if let firstTime {
                    let seconds = Double(lastTime &- firstTime) / 1000
                    progress(Progress(secondsPushed: seconds, bitsPerSecond: seconds > 0 ? Double(sentBytes * 8) / seconds : 0,
                                      server: session.server, reconnects: reconnects))
                }
                return
            } catch let refusal as Refusal where !refusal.retry {
                session.connection.close()
                throw Failure(description: "\(host):\(port)\(path): \(refusal)")
            } catch let error as Failure {
                session.connection.close()
                throw error
            } catch {
                session.connection.close()
                logger.warning("push to \(host):\(port)\(path) interrupted: \(error); connecting again")
                reconnects += 1
            }
        }
    }

    /// The packet without its padding (2.2.3.2); the server pads it again.
    static func stripped(_ bytes: ByteBuffer) -> ByteBuffer {
        guard let packet = try? DataPacket(parsing: bytes), let shorter = packet.withoutPadding(storedSize: bytes.readableBytes) else { return bytes }
        var out = ByteBuffer()
        shorter.write(to: &out)
        return out
    }

    private func wait(after error: Error, failures: inout Int) throws {
        failures += 1
        guard failures < maximumAttempts else {
            throw Failure(description: "\(host):\(port)\(path): \(error), \(failures) times in a row: giving up")
        }
        let delay = Self.backOff[min(failures - 1, Self.backOff.count - 1)]
        logger.warning("push to \(host):\(port)\(path): \(error); trying again in \(delay.nanoseconds / 1_000_000_000) s")
        usleep(UInt32(clamping: delay.nanoseconds / 1000))
    }

    // MARK: The exchange

    /// The headers WME sends, in its order (PUSH.md 1.1, 1.3).
    private func head(contentType: String, length: Int, pushID: String, authorization: String?) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "X-Accept-Authentication", value: "Digest")
        headers.add(name: "User-Agent", value: Self.userAgent)
        headers.add(name: "Host", value: port == 80 ? host : "\(host):\(port)")
        headers.add(name: "Content-Length", value: "\(length)")
        headers.add(name: "Connection", value: "Keep-Alive")
        headers.add(name: "Cache-Control", value: "no-cache")
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        headers.add(name: "Cookie", value: "push-id=\(pushID)")
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)
    }

    /// PushSetup (3.1.4.1): a push-id; answers a challenge once, on a new connection (3.1.5.1).
    private func setup() throws -> Session {
        let body = ByteBuffer(string: setupBody.text)
        var pushID = "0"
        var authorization: String?
        for attempt in 0..<2 {
            let connection = try PushConnection.connect(host: host, port: port, group: group)
            try connection.send(head(contentType: PushRequest.setupType, length: body.readableBytes, pushID: pushID, authorization: authorization),
                                body: body)
            let answer = try connection.answer(within: .seconds(30))
            if let cookie = Self.pushID(answer.headers) { pushID = cookie }
            switch answer.status.code {
            case 200, 204:
                let server = answer.headers.first(name: "Server") ?? ""
                // 3.1.5.1: WME goes on only with a WMS server.
                if !server.hasPrefix("Cougar") && !server.hasPrefix("Rex") {
                    logger.notice("\(host):\(port) answers as \(server.isEmpty ? "an unnamed server" : server), not Windows Media Services")
                }
                return Session(connection: connection, pushID: pushID, server: server, remaining: Self.bodyLength)
            case 401 where attempt == 0:
                connection.close()
                guard let credentials else { throw Failure(description: "\(host):\(port)\(path) asks for credentials: give --user and --password") }
                let challenges = answer.headers["WWW-Authenticate"]
                if let digest = challenges.lazy.compactMap({ credentials.digest(answering: $0, method: "POST", uri: self.path) }).first {
                    authorization = digest
                } else if challenges.contains(where: { $0.lowercased().hasPrefix("basic") }) {
                    authorization = credentials.basic
                } else {
                    throw Failure(description: "\(host):\(port)\(path) asks for authentication it does not name as Digest or Basic")
                }
            case 401:
                connection.close()
                throw Failure(description: "\(host):\(port)\(path) refused the credentials of \(credentials?.user ?? "?")")
            default:
                connection.close()
                throw Self.refusal(answer.status)
            }
        }
        throw Failure(description: "\(host):\(port)\(path): no push session")
    }

    /// PushStart (3.1.4.2): the body starts with the header.
    private func start(_ session: inout Session, header: ByteBuffer) throws {
        try session.connection.send(head(contentType: PushRequest.startType, length: Self.bodyLength, pushID: session.pushID, authorization: nil),
                                    body: nil)
        session.remaining = Self.bodyLength
        try send(.header(header), in: &session)
    }

    /// A frame; when the body has no room left for it, fillers complete the body, the server
    /// answers it, and a new PushStart goes on without `$H` (3.1.4.3).
    private func send(_ frame: PushFrame, in session: inout Session) throws {
        let size = PushFrame.framingSize + frame.length
        if size + PushFrame.framingSize > session.remaining {
            var fill = ByteBuffer()
            while session.remaining > 0 {
                let n = min(session.remaining - PushFrame.framingSize, PushFrame.maximumLength)
                PushFrame.filler(n).write(to: &fill)
                session.remaining -= PushFrame.framingSize + n
            }
            try session.connection.write(fill)
            let answer = try session.connection.answer(within: .seconds(30))
            guard answer.status.code == 204 || answer.status.code == 200 else { throw Self.refusal(answer.status) }
            try session.connection.send(head(contentType: PushRequest.startType, length: Self.bodyLength, pushID: session.pushID, authorization: nil),
                                        body: nil)
            session.remaining = Self.bodyLength
        }
        var out = ByteBuffer()
        out.reserveCapacity(size)
        frame.write(to: &out)
        guard session.connection.isOpen else { throw ConnectionLost() }
        try session.connection.write(out)
        session.remaining -= size
    }

    static func refusal(_ status: HTTPResponseStatus) -> Refusal {
        Refusal(status: status, retry: status == .requestTimeout || status.code >= 500)
    }

    /// The push-id of a Set-Cookie.
    static func pushID(_ headers: HTTPHeaders) -> String? {
        PushRequest.pushIDs(in: headers["Set-Cookie"]).first
    }
}
