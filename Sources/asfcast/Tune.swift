import ArgumentParser
import Foundation
import Multicast
import NIOCore
import NIOPosix
import WMSP

struct TuneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Receive a multicast stream (MS-MSB) announced by a .nsc, and write it as ASF.",
        discussion: """
            No player here plays MS-MSB by itself: tune joins the group, rebuilds lost packets from the FEC parity, and \
            writes the .nsc's header and then the packets from the first key frame, as a file holds them, for a player \
            or a file:
              asfcast tune http://host/live.nsc --interface 192.0.2.10 | ffplay -
              asfcast tune live.nsc -o recording.asf --duration 60
            When nothing arrives for --open-timeout seconds it plays the .nsc's Unicast URL instead (MS-MSB 3.2.3). \
            The counts (datagrams, packets, rebuilt, lost) go to standard error at the end.
            """)

    @Argument(help: "The .nsc: a file, or its http:// URL; or msbd://host[:port] for a point served over MSBD.")
    var nsc: String

    @Option(name: [.short, .customLong("output")], help: "Where to write the stream: a file, or - for standard output.")
    var output = "-"

    @Option(help: "The local address of the interface to join on (default: the .nsc's Multicast Adapter when it is local, else the first multicast interface).")
    var interface: String?

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Seconds to wait for the first datagram before rolling over to the Unicast URL (MS-MSB 3.2.2: 10-30).")
    var openTimeout = 20.0

    @Option(help: "Seconds without a packet after which the stream has ended (MS-MSB 3.2.4).")
    var endTimeout = 30.0

    @Flag(help: "Do not roll over to the Unicast URL when nothing arrives.")
    var noRollover = false

    func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        if nsc.lowercased().hasPrefix("msbd://") { return try await playMSBD() }
        let file: NSCFile
        do {
            file = try NSCFile(parsing: try await announcement(group: group))
        } catch let error as NSCParseError {
            fail("\(nsc): \(error)", code: 2)
        }
        for warning in file.warnings { note("\(nsc): \(warning)") }
        let sink = try OutputSink(output)
        var options = MulticastTuner.Options()
        options.interface = interface
        options.openTimeout = .milliseconds(Int64(openTimeout * 1000))
        options.endTimeout = .milliseconds(Int64(endTimeout * 1000))
        options.duration = duration.map { .milliseconds(Int64($0 * 1000)) }
        let (outcome, counts): (MulticastTuner.Outcome, MSBReceiver.Statistics)
        do {
            (outcome, counts) = try await MulticastTuner.tune(file, options: options, output: sink.write, warn: note)
        } catch let error as MulticastTuner.Failure {
            fail("\(error)", code: 1)
        }
        note("""
            tune \(file.ipAddress):\(file.ipPort): \(counts.datagrams) datagrams, \(counts.beacons) beacons, \(counts.packets) packets, \
            \(counts.parityPackets) parity, \(counts.recovered) rebuilt, \(counts.lost) lost, \(counts.unknownFormat) of unknown formats, \
            \(counts.malformed) malformed, \(counts.entryChanges) entry changes
            """)
        switch outcome {
        case .ended, .outputClosed:
            return
        case let .unknownFormat(id):
            fail("the stream goes on under Format \(id), which \(nsc) does not list (a new header): fetch the .nsc again", code: 1)
        case let .formatChanged(id):
            fail("the stream moved to Format \(id), whose streams one ASF output cannot carry on with: tune again", code: 1)
        case .nothingArrived:
            guard !noRollover, let unicast = file.unicastURL else {
                fail("nothing arrived on \(file.ipAddress):\(file.ipPort) within \(openTimeout) s", code: 1)
            }
            note("nothing arrived within \(openTimeout) s: rolling over to \(unicast)")
            do {
                try await UnicastRollover(url: unicast).play(group: group, duration: options.duration, to: sink)
            } catch {
                fail("rollover to \(unicast): \(error)", code: 1)
            }
        }
    }

    /// msbd://host[:7007]: the point served there, over the connection (MS-MSBD).
    private func playMSBD() async throws {
        guard let (host, port, _) = UnicastRollover.parts(of: nsc) else { fail("\(nsc) is not an msbd://host[:port] URL", code: 2) }
        // 7007 when the URL names none: the port MSBD servers listen on (MS-MSBD 2.1).
        let hasPort = nsc.dropFirst("msbd://".count).prefix { $0 != "/" }.contains(":")
        let sink = try OutputSink(output)
        do {
            let (packets, ended, next) = try await MSBDClient.play(host: host, port: hasPort ? port : 7007,
                                                                   duration: duration.map { .milliseconds(Int64($0 * 1000)) }, output: sink.write)
            note("MSBD \(host): \(packets) packets\(ended ? ", to the end of the stream" : "")")
            if let next { fail("the point moved to stream \(next), whose header one ASF output cannot carry on with: tune again", code: 1) }
        } catch {
            fail("MSBD \(nsc): \(error)", code: 1)
        }
    }

    /// The `.nsc`'s text, from its file or its URL.
    private func announcement(group: EventLoopGroup) async throws -> String {
        guard nsc.lowercased().hasPrefix("http://") else {
            do {
                return try String(contentsOfFile: nsc, encoding: .utf8)
            } catch {
                fail("cannot read \(nsc): \(error.localizedDescription)", code: 2)
            }
        }
        guard let (host, port, path) = UnicastRollover.parts(of: nsc) else { fail("\(nsc) is not an http://host[:port]/path URL", code: 2) }
        let response: WMSPClient.Response
        do {
            response = try await WMSPClient(group: group, host: host, port: port).request(path, pragmas: [])
        } catch {
            fail("cannot fetch \(nsc): \(error)", code: 1)
        }
        guard response.head.status == .ok else { fail("\(nsc): \(response.head.status.code) \(response.head.status.reasonPhrase)", code: 1) }
        return String(buffer: response.body)
    }

    private func note(_ message: String) {
        FileHandle.standardError.write(Data("asfcast tune: \(message)\n".utf8))
    }

    private func fail(_ message: String, code: Int32) -> Never {
        note(message)
        Foundation.exit(code)
    }
}
