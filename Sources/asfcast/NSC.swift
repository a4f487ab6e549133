import ArgumentParser
import AsfcastServer
import Foundation
import Logging
import Multicast
import Streaming

struct NSCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nsc",
        abstract: "Write the .nsc (multicast announcement) of a multicast point, as the server serves it at the point's path plus .nsc.",
        discussion: """
            The point is one of the configuration's with a multicast: entry, named by its name or path. A broadcast of \
            files is announced from its files; a pushed or pulled point's header is known only while it is fed, so fetch \
            its .nsc from the running server instead (http://host/point.nsc).
            """)

    @Option(help: "The YAML configuration file.")
    var config = "config/asfcast.yaml"

    @Argument(help: "The point: its name or its path.")
    var point: String

    @Option(name: [.short, .customLong("output")], help: "Where to write it (default: standard output).")
    var output: String?

    @Option(help: "The host name players reach the server by, for the Unicast and Log URLs (default: the bind address, or this machine's name).")
    var host: String?

    func run() throws {
        do {
            let settings = try ServerConfiguration.load(path: config)
            guard let found = settings.points.first(where: { $0.name == point || $0.path == point || $0.path == "/" + point }) else {
                throw Failure(description: "\(config) has no point named \(point)")
            }
            guard let multicast = found.multicast else { throw Failure(description: "point \(found.name) has no multicast: entry") }
            guard case let .broadcast(files, _) = found.source else {
                throw Failure(description: "point \(found.name) is fed by an encoder: its header is known only while it is; fetch its .nsc from the running server")
            }
            let entries = try Server.broadcastEntries(files, mediaRoot: settings.mediaRoot, logger: Logger(label: "asfcast.nsc"))
            guard let first = entries.first else { throw Failure(description: "point \(found.name) has nothing to play") }
            let format = NSCFile.Format(streamingHeader: BroadcastPoint.streamingHeader(of: first.file.header), description: found.name)
            let name = host ?? (["0.0.0.0", "::"].contains(settings.bind) ? ProcessInfo.processInfo.hostName : settings.bind)
            func hostPort(_ port: Int, _ standard: Int) -> String { port == standard ? name : "\(name):\(port)" }
            let announcement = MulticastAnnouncement(point: found.name, path: found.path, settings: multicast, formats: [format],
                                                     httpHost: hostPort(settings.httpPort, 80), rtspHost: hostPort(settings.rtspPort, 554))
            let text = Data(announcement.nsc.text.utf8)
            if let output {
                try text.write(to: URL(fileURLWithPath: output))
            } else {
                FileHandle.standardOutput.write(text)
            }
        } catch let error as ServerConfiguration.Failure {
            FileHandle.standardError.write(Data("asfcast nsc: \(error)\n".utf8))
            throw ExitCode(2)
        } catch {
            FileHandle.standardError.write(Data("asfcast nsc: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }
}
