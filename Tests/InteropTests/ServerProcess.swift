import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `asfcast serve` as a separate process on a free loopback port, for real clients to play from.
final class ServerProcess {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var asfcast: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("asfcast").path
    }

    let process = Process()
    let port: Int
    let rtspPort: Int
    let mmsPort: Int
    let adminPort: Int
    let log: URL
    /// The configuration it was started with (a test may rewrite it and reload).
    let configFile: String
    private let socketActivation: Bool

    /// With `config`, that YAML instead of the shipped configuration (the ports and media root
    /// still come from the flags); with `mediaRoot`, that directory instead of Media/.
    /// With `ports` (HTTP, RTSP, MMS), those: a server started again where another was.
    /// `environment` is added to the test's own. With `journal`, the log file stands for the
    /// journal: JOURNAL_STREAM names it, as systemd names its stream.
    /// With `socketActivation`, it starts as a socket-activated systemd unit does: the HTTP and
    /// RTSP ports are below 1024, systemd-socket-activate listens on them and on the MMS port and
    /// starts the server with those sockets at the first connection, and the server runs as
    /// nobody (setpriv), so that it cannot bind the ports below 1024 itself.
    init(config: String? = nil, mediaRoot: String? = nil, ports: (Int, Int, Int)? = nil, environment: [String: String] = [:],
         journal: Bool = false, socketActivation: Bool = false) throws {
        port = try ports?.0 ?? (socketActivation ? Self.freePort(privileged: true) : Self.freePort())
        rtspPort = try ports?.1 ?? (socketActivation ? Self.freePort(privileged: true) : Self.freePort())
        mmsPort = try ports?.2 ?? Self.freePort()
        self.socketActivation = socketActivation
        adminPort = try Self.freePort()
        log = FileManager.default.temporaryDirectory.appendingPathComponent("asfcast-server-\(port).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.asfcast)
        // The shipped configuration (with its /live broadcast point), on a free loopback port.
        configFile = config == nil ? Self.root.appendingPathComponent("config/asfcast.yaml").path : temporaryFile("asfcast.yaml")
        if let config { try config.write(toFile: configFile, atomically: true, encoding: .utf8) }
        let serve = ["serve", "--config", configFile,
                     "--bind", "127.0.0.1", "--http-port", "\(port)", "--rtsp-port", "\(rtspPort)", "--mms-port", "\(mmsPort)", "--admin-port", "\(adminPort)",
                     "--media-root", mediaRoot ?? Self.root.appendingPathComponent("Media").path]
        process.arguments = serve
        if socketActivation {
            // Python stays the test's child while the server runs: systemd-socket-activate
            // closes every descriptor but the sockets, Foundation's among them, and Foundation
            // would then wait for that child blocking every other one's reaping. It unblocks the
            // signals Foundation's thread left blocked, passes SIGTERM on, and exits as the server.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", """
                import signal, subprocess, sys
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                server = subprocess.Popen(sys.argv[1:])
                signal.signal(signal.SIGTERM, lambda *_: server.terminate())
                sys.exit(server.wait())
                """, "/usr/bin/systemd-socket-activate",
                                 "-l", "127.0.0.1:\(port)", "-l", "127.0.0.1:\(rtspPort)", "-l", "127.0.0.1:\(mmsPort)",
                                 "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", Self.asfcast] + serve
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        var status = stat()
        if journal, stat(log.path, &status) == 0 { process.environment?["JOURNAL_STREAM"] = "\(status.st_dev):\(status.st_ino)" }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try waitUntilListening()
    }

    deinit { stop() }

    /// SIGTERM, as systemd stops it, and the wait for its exit.
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    var url: String { "127.0.0.1:\(port)" }
    var rtspURL: String { "127.0.0.1:\(rtspPort)" }
    var mmsURL: String { "127.0.0.1:\(mmsPort)" }
    var adminURL: String { "127.0.0.1:\(adminPort)" }
    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Retries a TCP connect until the last listener opened (MMS) answers, and waits for the
    /// server's own line that it serves, logged once every listener is open (bounded: 20 s).
    /// Under socket activation the port answers before the server runs (the connection starts
    /// it); otherwise the line comes a moment after the port answers.
    private func waitUntilListening() throws {
        for _ in 0..<400 {
            guard process.isRunning else { throw Failure("server exited: \(logText)") }
            let text = logText
            if Self.connect(port: mmsPort), text.contains("] serving ") || text.contains("asfcast: serving ") { return }
            usleep(50_000)
        }
        throw Failure("server did not listen on \(mmsPort)")
    }

    static func connect(port: Int) -> Bool {
        guard let fd = connectedSocket(port: port) else { return false }
        close(fd)
        return true
    }

    /// A TCP socket connected to the loopback `port`, or nil; the caller closes it.
    static func connectedSocket(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        if connected { return fd }
        close(fd)
        return nil
    }

    /// A loopback port free for TCP and UDP, not handed out before in this process, and below
    /// the kernel's ephemeral range: a port from that range (bound to 0 and closed) can be taken by
    /// any outgoing connection before the server binds it, and the server then fails to start.
    /// `privileged`: a TCP port below 1024, which only a privileged process can bind.
    static func freePort(privileged: Bool = false) throws -> Int {
        for _ in 0..<1000 {
            let port = privileged ? Int.random(in: 600..<1024) : Int.random(in: 10_000..<ephemeralLow)
            guard handedOut.take(port) else { continue }
            if canBind(port, type: Int32(SOCK_STREAM.rawValue)), privileged || canBind(port, type: Int32(SOCK_DGRAM.rawValue)) { return port }
        }
        throw Failure("no free port")
    }

    /// The first port of `ip_local_port_range`.
    private static let ephemeralLow: Int = {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }.map { max($0, 10_001) } ?? 32768
    }()

    private static let handedOut = Ports()

    private final class Ports: @unchecked Sendable {
        private let lock = NSLock()
        private var ports: Set<Int> = []
        func take(_ port: Int) -> Bool { lock.withLock { ports.insert(port).inserted } }
    }

    private static func canBind(_ port: Int, type: Int32) -> Bool {
        let fd = socket(AF_INET, type, 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Sends raw bytes and returns everything the server answers before it closes.
    func raw(_ request: String, port: Int? = nil) throws -> String {
        guard let fd = Self.connectedSocket(port: port ?? self.port) else { throw Failure("cannot connect") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // All of it, NUL bytes too (push bodies have them).
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var answer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            answer += chunk[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A client program started with its output in a file, not a pipe: a pipe's end inherited by
/// another test's child would keep the reader waiting for EOF.
struct ClientRun {
    let process = Process()
    let name: String
    let log = temporaryFile("output.txt")
    let handle: FileHandle

    /// Foundation starts it in a session of its own, so the watchdog's kill of its process group
    /// reaches what it started too (VLC under runuser).
    init(_ executable: String, _ arguments: [String], user: String? = nil) throws {
        name = URL(fileURLWithPath: executable).lastPathComponent
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", user, "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// What it has written so far.
    var outputSoFar: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits up to `limit` for the end; a program still running then is killed, and `stopped`
    /// says so (for a client that hangs after it has done its work).
    func finishOrStop(limit: TimeInterval) throws -> (status: Int32, output: String, stopped: Bool) {
        do {
            let result = try finish(limit: limit)
            return (result.status, result.output, false)
        } catch let failure as Failure where failure.description.hasPrefix("\(name) still running") {
            return (-1, failure.description, true)
        }
    }

    /// Waits for the end. A program still running after `limit` is killed and the run fails, so
    /// a stuck client fails its test instead of hanging the whole run.
    func finish(limit: TimeInterval = 120) throws -> (status: Int32, output: String) {
        let process = process
        let watchdog = DispatchWorkItem { if process.isRunning { kill(-process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: watchdog)
        process.waitUntilExit()
        watchdog.cancel()
        try handle.close()
        defer { try? FileManager.default.removeItem(atPath: log) }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        if process.terminationReason == .uncaughtSignal, process.terminationStatus == SIGKILL {
            throw Failure("\(name) still running after \(Int(limit)) s: \(output.suffix(2000))")
        }
        return (process.terminationStatus, output)
    }
}

/// Runs a client program to completion (bounded: see `ClientRun.finish`).
func run(_ executable: String, _ arguments: [String], user: String? = nil, limit: TimeInterval = 120) throws -> (status: Int32, output: String) {
    try ClientRun(executable, arguments, user: user).finish(limit: limit)
}

/// Starts `count` runs of a client program at once, then waits for each.
func runConcurrently(_ count: Int, _ executable: String, _ arguments: (Int) -> [String]) throws -> [(status: Int32, output: String)] {
    let runs = try (0..<count).map { try ClientRun(executable, arguments($0)) }
    return try runs.map { try $0.finish() }
}

/// All interop suites, one test at a time: each runs real clients against a server process.
@Suite(.serialized) enum Interop {}

/// ffprobe's stream list and packet counts for a file.
func probe(_ path: String) throws -> (streams: [[String: Any]], duration: Double, startTime: Double) {
    let out = try run("/usr/bin/ffprobe", ["-v", "error", "-count_packets", "-show_streams", "-show_format", "-of", "json", path])
    guard out.status == 0, let json = try JSONSerialization.jsonObject(with: Data(out.output.utf8)) as? [String: Any],
          let streams = json["streams"] as? [[String: Any]], let format = json["format"] as? [String: Any] else {
        throw Failure("ffprobe failed on \(path): \(out.output)")
    }
    return (streams, Double(format["duration"] as? String ?? "0") ?? 0, Double(format["start_time"] as? String ?? "0") ?? 0)
}

/// Retries `condition` every 50 ms for up to `limit`: for what the server does after a signal
/// or a client's end, which the test is not told of.
func waitUntil(_ what: @autoclosure () -> String, limit: TimeInterval = 30, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(limit)
    while !condition() {
        guard Date() < deadline else { throw Failure("timed out after \(Int(limit)) s waiting for \(what())") }
        usleep(50_000)
    }
}

func temporaryFile(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("asfcast-\(UUID().uuidString)-\(name)").path
}

/// VLC remuxing `url` into an ASF file (`--sout file/asf`), run as an unprivileged user (VLC
/// refuses root) writing into a directory it may write; the file is removed with `body`'s end.
func withVLCRecording<T>(_ url: String, options: [String] = [], _ body: (_ result: (status: Int32, output: String), _ file: String) throws -> T) throws -> T {
    _ = try run("/usr/sbin/useradd", ["-m", "asfcast-vlc"])
    let dir = temporaryFile("vlc")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let out = dir + "/vlc.asf"
    let result = try run("/usr/bin/cvlc", ["-I", "dummy", "--play-and-exit", "--no-video-title-show"] + options + [url, "--sout", "file/asf:\(out)", "vlc://quit"],
                         user: "asfcast-vlc")
    return try body(result, out)
}
