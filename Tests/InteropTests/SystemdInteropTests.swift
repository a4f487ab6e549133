import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Interop {
    /// Issue 18 §5: what systemd hears from a Type=notify server, read from a NOTIFY_SOCKET the
    /// test opens: READY=1 once it listens, STATUS= lines with the players connected and the
    /// rate they are sent, WATCHDOG=1 when the unit's WatchdogSec (WATCHDOG_USEC) asks for it,
    /// and STOPPING=1 when SIGTERM stops it.
    @Suite
    struct SystemdInteropTests {
        @Test
        func notifiesReadinessStatusKeepAlivesAndStopping() throws {
            let socket = try NotifySocket()
            let server = try ServerProcess(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000"])
            let first = try socket.next()
            #expect(first.contains("READY=1"), "\(first)")
            #expect(first.contains("STATUS=0 players, 0.00 Mbit/s"), "\(first)")

            // Three ffmpegs play the shipped /live broadcast for 6 s of its stream, over WMSP,
            // RTSP and MMS: each engine counts its player.
            let players = try ["mmsh://\(server.url)/live", "rtsp://\(server.rtspURL)/live", "mmst://\(server.mmsURL)/live"].map {
                try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", $0, "-t", "6", "-c", "copy", "-f", "asf", "-y", "/dev/null"])
            }
            var keepAlives = 0
            var playing: String?
            while playing == nil {
                let message = try socket.next()
                if message.contains("WATCHDOG=1") { keepAlives += 1 }
                if message.contains("STATUS=3 players, "), !message.contains(" 0.00 Mbit/s") { playing = message }
            }
            for player in players {
                let played = try player.finish()
                #expect(played.status == 0, "\(played.output)")
            }
            // The players' ends are counted: none is left.
            var message = ""
            while !message.contains("STATUS=0 players") {
                message = try socket.next()
                if message.contains("WATCHDOG=1") { keepAlives += 1 }
            }
            #expect(keepAlives > 0, "no WATCHDOG=1 under WATCHDOG_USEC")

            server.stop()
            var stopping = false
            while !stopping, let message = try? socket.next() { stopping = message.contains("STOPPING=1") }
            #expect(stopping, "no STOPPING=1 after SIGTERM")
        }
    }

    /// Issue 18 §5: socket activation (sd_listen_fds(3)), as config/asfcast.socket hands ports
    /// 80, 554 and 1755 to an unprivileged server: systemd-socket-activate holds two ports below
    /// 1024 and the MMS port, and the server, run as nobody, serves ffmpeg over WMSP, RTSP and MMS
    /// from those sockets, which it could not have bound itself.
    @Suite
    struct SocketActivationInteropTests {
        @Test
        func anUnprivilegedServerServesFromThePassedSockets() throws {
            let server = try ServerProcess(config: Self.live, socketActivation: true)
            for (what, port) in [("HTTP (WMSP)", server.port), ("RTSP", server.rtspPort), ("MMS", server.mmsPort)] {
                #expect(server.logText.contains("\(what) takes systemd's socket on port \(port)"), "\(server.logText)")
            }
            for url in ["mmsh://\(server.url)/live", "rtsp://\(server.rtspURL)/live", "mmst://\(server.mmsURL)/live"] {
                let file = temporaryFile("activated.asf")
                defer { try? FileManager.default.removeItem(atPath: file) }
                let played = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", url, "-t", "3", "-c", "copy", "-f", "asf", "-y", file])
                #expect(played.status == 0, "\(url): \(played.output)")
                let received = try probe(file)
                #expect(received.streams.count == 2 && received.duration >= 2.5, "\(url): \(received.streams.count) streams, \(received.duration) s")
            }
        }

        /// A passed socket no listener uses is a .socket unit that does not match the
        /// configuration: the server refuses to start and names the port.
        @Test
        func aSocketNoListenerUsesStopsTheStart() throws {
            let extra = try ServerProcess.freePort()
            let config = temporaryFile("asfcast.yaml")
            try "points: []\n".write(toFile: config, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: config) }
            // Foundation waits for it blocking once it closed Foundation's descriptor (see
            // ServerProcess): short here, as the server stops at once.
            let activate = try ClientRun("/usr/bin/systemd-socket-activate",
                                         ["-l", "127.0.0.1:\(extra)", ServerProcess.asfcast, "serve", "--config", config, "--bind", "127.0.0.1",
                                          "--http-port", "\(try ServerProcess.freePort())", "--rtsp-port", "\(try ServerProcess.freePort())",
                                          "--mms-port", "\(try ServerProcess.freePort())"])
            // The first connection starts the server.
            try waitUntil("systemd-socket-activate listening on \(extra)") { ServerProcess.connect(port: extra) }
            let started = try activate.finish()
            #expect(started.status == 1, "\(started.output)")
            #expect(started.output.contains("systemd passed sockets on port \(extra), which no listener uses"), "\(started.output)")
        }

        static let live = """
            points:
              - name: live
                path: /live
                broadcast: [demo.wmv]
            """
    }

    /// Issue 18 §7: with standard error the journal (JOURNAL_STREAM), each line is the level as a
    /// syslog priority prefix and the message, without the time the journal keeps itself.
    @Suite
    struct JournalInteropTests {
        @Test
        func linesForTheJournalHaveAPriorityAndNoTime() throws {
            let server = try ServerProcess(journal: true)
            server.stop()
            let lines = server.logText.split(separator: "\n")
            let serving = try #require(lines.first { $0.contains("serving ") }, "\(server.logText)")
            #expect(serving.hasPrefix("<6>info asfcast:"), "\(serving)")
            #expect(lines.allSatisfy { $0.range(of: "^<[0-7]>[a-z]+ ", options: .regularExpression) != nil }, "\(server.logText)")
            #expect(!server.logText.contains(String(Calendar.current.component(.year, from: Date()))), "a date in \(server.logText)")
        }
    }

    /// A datagram socket at a path of its own, as systemd's notification socket.
    final class NotifySocket {
        let path = temporaryFile("notify.sock")
        private let fd: Int32

        init() throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
                for (i, byte) in path.utf8.prefix(sunPath.count - 1).enumerated() { sunPath[i] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
            }
            guard bound else { throw Failure("cannot bind \(path): errno \(errno)") }
            // The server's messages come every half second here: 10 s without one is a failure.
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit {
            close(fd)
            unlink(path)
        }

        /// The next message; throws after 10 s without one.
        func next() throws -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { throw Failure("no message on the notify socket for 10 s") }
            return String(decoding: buffer[0..<n], as: UTF8.self)
        }
    }
}
