import ArgumentParser
import ASF
import Foundation
import Logging
import MediaImport
import NIOCore
import NIOPosix
import Push
import Streaming

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push a file, a playlist or a live ASF stream to a publishing point, as Windows Media Encoder does.",
        discussion: """
            The exchange is Windows Media Encoder's (MS-WMHTTP), so the server may be Asfcast or Windows Media Services. \
            Packets go out in real time by their send times. INPUT is an ASF file, a .wsx playlist, any medium libavformat \
            reads (remuxed into ASF first), or - for a live ASF stream on standard input:
              ffmpeg -re -f lavfi -i testsrc2 -f lavfi -i sine -c:v wmv2 -c:a wmav2 -f asf - | asfcast push http://host/live -
            The exit status is 0 only when the input was pushed to its end.
            """)

    @Argument(help: "The publishing point: http://host[:port]/point.")
    var url: String

    @Argument(help: "An ASF file, a .wsx playlist, another medium, or - (ASF on standard input).")
    var input: String

    @Flag(help: "Start the file or playlist again at its end, for ever.")
    var loop = false

    @Option(help: "User name, when the point asks for one (HTTP Digest or Basic).")
    var user: String?

    @Option(help: "Password of --user.")
    var password: String?

    @Option(help: "Where the point does not exist, ask the server to make it with the settings of this one (Template-URL).")
    var template: String?

    @Flag(help: "Ask the server to remove the point when the push ends (AutoDestroy).")
    var autoRemove = false

    @Flag(help: "No progress line.")
    var quiet = false

    func run() throws {
        var logger = Logger(label: "asfcast.push")
        logger.logLevel = .notice
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let credentials = user.map { Credentials(user: $0, password: password ?? "") }
        do {
            let client = try PushClient(url: url, credentials: credentials, group: group, logger: logger)
            client.setupBody = PushSetupBody(templateURL: template, autoDestroy: autoRemove)
            let progress = ProgressLine(quiet: quiet)
            if input == "-" {
                let stdin = FileHandle.standardInput
                var source = try StreamedInput(ASFStreamReader { count in try Self.read(count, from: stdin) })
                try client.run(&source, progress: progress.show)
            } else {
                var source = try SourceInput(SplicedSource(entries: try entries(), loops: loop))
                try client.run(&source, progress: progress.show)
            }
            progress.finish()
        } catch let error as PushClient.Failure {
            FileHandle.standardError.write(Data("asfcast push: \(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as ASFError {
            FileHandle.standardError.write(Data("asfcast push: \(input): \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// The input's files: a playlist's entries, the file, or the remux of another medium.
    private func entries() throws -> [SplicedSource.Entry] {
        if input.lowercased().hasSuffix(".wsx") {
            let root = (input as NSString).deletingLastPathComponent
            let logger = Logger(label: "asfcast.push")
            return try Playlist(parsing: Data(contentsOf: URL(fileURLWithPath: input)))
                .openEntries(relativeTo: input, root: root.isEmpty ? "." : root, logger: logger)
        }
        if ASFFile.startsWithHeader(path: input) { return [SplicedSource.Entry(file: try ASFFile(path: input))] }
        let remux = NSTemporaryDirectory() + "asfcast-push-\(getpid()).asf"
        do {
            _ = try MediaImporter.importFile(input, to: remux)
        } catch {
            throw PushClient.Failure(description: "\(input): \(error)")
        }
        defer { unlink(remux) }
        return [SplicedSource.Entry(file: try ASFFile(path: remux))]
    }

    /// Exactly `count` bytes of a pipe, fewer only at its end.
    private static func read(_ count: Int, from handle: FileHandle) throws -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(count)
        while out.readableBytes < count {
            guard let data = try handle.read(upToCount: count - out.readableBytes), !data.isEmpty else { break }
            out.writeBytes(data)
        }
        return out
    }
}

/// "pushed 12.3 s, 512 kbit/s, to Cougar/9.01.01.3841": in place on a terminal, every ten
/// seconds otherwise.
final class ProgressLine {
    private let quiet: Bool
    private let terminal = isatty(2) != 0
    private var lastLine = Date.distantPast
    private var shown = false
    private var last: String?

    init(quiet: Bool) {
        self.quiet = quiet
    }

    func show(_ p: PushClient.Progress) {
        guard !quiet else { return }
        let text = String(format: "pushed %.1f s, %.0f kbit/s, to %@%@", p.secondsPushed, p.bitsPerSecond / 1000,
                          p.server.isEmpty ? "the server" : p.server, p.reconnects > 0 ? ", \(p.reconnects) reconnects" : "")
        last = text
        if terminal {
            FileHandle.standardError.write(Data("\r\(text)\u{1B}[K".utf8))
            shown = true
        } else if Date().timeIntervalSince(lastLine) >= 10 {
            lastLine = Date()
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    /// The last figures, on a line of their own.
    func finish() {
        if shown {
            FileHandle.standardError.write(Data("\n".utf8))
        } else if !quiet, let last {
            FileHandle.standardError.write(Data("\(last)\n".utf8))
        }
    }
}
