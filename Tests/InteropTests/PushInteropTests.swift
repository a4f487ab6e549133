import ASF
import Foundation
import NIOCore
import Streaming
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Interop {
    /// Issue 16: an encoder pushes to the /push point of the shipped configuration (MS-WMHTTP),
    /// `asfcast push` being the encoder, and real players play it over every engine.
    @Suite
    struct PushInteropTests {
        static var demo: String { ServerProcess.root.appendingPathComponent("Media/demo.wmv").path }

        /// Waits until the server has logged `text` (the point's encoder connected, say).
        static func waitForLog(_ server: ServerProcess, _ text: String, limit: TimeInterval = 30) throws {
            try waitUntil("the server to log \"\(text)\": \(server.logText.suffix(2000))", limit: limit) { server.logText.contains(text) }
        }

        /// `asfcast push` of `input` to the /push point, running until it ends or is stopped.
        static func pusher(_ server: ServerProcess, _ arguments: [String]) throws -> ClientRun {
            try ClientRun(ServerProcess.asfcast, ["push", "http://\(server.url)/push"] + arguments)
        }

        /// Stops a run and everything it started (a shell pipeline's encoder too).
        static func stop(_ run: ClientRun) throws {
            kill(-run.process.processIdentifier, SIGTERM)
            _ = try run.finish()
        }

        /// What a player recorded: both streams, at least `seconds`, its first video payload a
        /// key frame, decoding without errors.
        static func expectPlayable(_ path: String, seconds: Double, _ what: String) throws {
            let received = try probe(path)
            #expect(received.streams.count == 2, "\(what)")
            #expect(received.duration >= seconds, "\(what): \(received.duration) s")
            #expect(try BroadcastInteropTests.videoKeyFlags(path).first == true, "\(what): the first video payload is not a key frame")
            let errors = try BroadcastInteropTests.decodeErrors(path)
            #expect(errors.isEmpty, "\(what): \(errors.prefix(600))")
        }

        /// ffmpeg records `seconds` of `url`: it ends well, and what it wrote is playable (one
        /// second short of `seconds` at least).
        static func expectFFmpegRecords(_ url: String, seconds: Int, _ what: String) throws {
            let recording = temporaryFile("recording.asf")
            defer { try? FileManager.default.removeItem(atPath: recording) }
            let played = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", url, "-t", "\(seconds)", "-c", "copy", "-f", "asf", "-y", recording])
            #expect(played.status == 0, "\(what): \(played.output)")
            try expectPlayable(recording, seconds: Double(seconds - 1), what)
        }

        /// ffmpeg players started at once, each recording 11 s of its input options to a file.
        static func startRecordings(_ players: [(name: String, input: [String])]) throws -> [(name: String, run: ClientRun, file: String)] {
            try players.map { player in
                let out = temporaryFile("record-\(player.name).asf")
                return (player.name, try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y"] + player.input
                    + ["-t", "11", "-c", "copy", "-f", "asf", out]), out)
            }
        }

        /// Each recording ended well and holds at least 10 s of playable content; removes them.
        static func expectEachPlayed(_ recordings: [(name: String, run: ClientRun, file: String)], _ what: String) throws {
            defer { for r in recordings { try? FileManager.default.removeItem(atPath: r.file) } }
            for recording in recordings {
                let result = try recording.run.finish()
                #expect(result.status == 0, "ffmpeg \(recording.name)\(what): \(result.output)")
                try expectPlayable(recording.file, seconds: 10, "ffmpeg \(recording.name)\(what)")
            }
        }

        @Test func aPushedFileIsPlayedOverEveryEngine() throws {
            let server = try ServerProcess()
            let pusher = try Self.pusher(server, ["--loop", Self.demo])
            try Self.waitForLog(server, "point push: 2 streams")
            let players: [(String, [String])] = [
                ("mmsh", ["-i", "mmsh://\(server.url)/push"]),
                ("rtsp-tcp", ["-rtsp_transport", "tcp", "-i", "rtsp://\(server.rtspURL)/push"]),
                ("rtsp-udp", ["-rtsp_transport", "udp", "-i", "rtsp://\(server.rtspURL)/push"]),
                ("mmst", ["-i", "mmst://\(server.mmsURL)/push"]),
            ]
            let recordings = try Self.startRecordings(players)
            // VLC, one protocol after the other while ffmpeg plays.
            for url in ["mmsh://\(server.url)/push", "mmst://\(server.mmsURL)/push"] {
                try withVLCRecording(url, options: ["--run-time", "14"]) { result, out in
                    #expect(result.status == 0, "VLC \(url): \(result.output)")
                    let received = try probe(out)
                    #expect(received.streams.count == 2, "VLC \(url)")
                    #expect(received.duration >= 10, "VLC \(url): \(received.duration) s")
                }
            }
            try Self.expectEachPlayed(recordings, "")
            try Self.stop(pusher)
        }

        /// The encoder's end is the end of its players' streams: ffmpeg over mmsh and RTSP ends
        /// by itself, the encoder exits 0, and a player that comes after finds nothing (404).
        @Test func theEncodersEndEndsThePlayersStreams() throws {
            let server = try ServerProcess()
            let pusher = try Self.pusher(server, [Self.demo])
            try Self.waitForLog(server, "point push: 2 streams")
            let outputs = ["mmsh", "rtsp"].map { temporaryFile("end-\($0).asf") }
            defer { for o in outputs { try? FileManager.default.removeItem(atPath: o) } }
            let players = [
                try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(server.url)/push", "-c", "copy", "-f", "asf", outputs[0]]),
                try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-rtsp_transport", "tcp", "-i", "rtsp://\(server.rtspURL)/push",
                                                  "-c", "copy", "-f", "asf", outputs[1]]),
            ]
            let pushed = try pusher.finish()
            #expect(pushed.status == 0, "asfcast push: \(pushed.output)")
            #expect(pushed.output.contains("pushed 2"), "the progress line: \(pushed.output)")
            for (player, out) in zip(players, outputs) {
                let result = try player.finish(limit: 60)
                #expect(result.status == 0, "\(result.output)")
                try Self.expectPlayable(out, seconds: 5, out)
            }
            // Their ends are counted: the server lists no player (a WMSP player of an ended
            // broadcast once stayed listed for good).
            try waitUntil("no player listed: \((try? AdminInteropTests.sessions(server)) ?? [])") {
                (try? AdminInteropTests.sessions(server))?.isEmpty == true
            }
            #expect(server.logText.contains("the encoder ended point push"))
            let late = try server.raw("GET /push HTTP/1.0\r\nUser-Agent: NSPlayer/7.10.0.3059\r\nPragma: xPlayStrm=1\r\n\r\n")
            #expect(late.hasPrefix("HTTP/1.0 404"), "\(late.prefix(80))")
        }

        /// A live encode on standard input (issue 16's pipeline) reaches 20 ffmpeg players.
        @Test func aLiveEncodeReachesTwentyPlayers() throws {
            let server = try ServerProcess()
            let encode = "/usr/bin/ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440 "
                + "-c:v wmv2 -b:v 300k -g 50 -c:a wmav2 -b:a 64k -f asf - | \(ServerProcess.asfcast) push http://\(server.url)/push -"
            let encoder = try ClientRun("/bin/sh", ["-c", encode])
            try Self.waitForLog(server, "point push: 2 streams")
            try BroadcastInteropTests.twentyClientsGetTenSeconds(of: "mmsh://\(server.url)/push")
            try Self.stop(encoder)
        }

        /// Digest on a push point (its users are the encoders'): without or with wrong
        /// credentials the encoder is refused (401), with the right ones it pushes; its
        /// PushStart needs none of its own; players are not asked.
        @Test func digestGuardsThePushPoint() throws {
            let server = try ServerProcess(config: "points:\n  - name: push\n    path: /push\n    push: true\n    users: {encoder: secret}\n")
            let setup = "POST /push HTTP/1.1\r\nContent-Type: application/x-wms-pushsetup\r\nUser-Agent: WMEncoder/11.0.5721.5145\r\n"
                + "Content-Length: 16\r\nCookie: push-id=0\r\n\r\nAutoDestroy: 1\r\n"
            let challenge = try server.raw(setup)
            #expect(challenge.hasPrefix("HTTP/1.1 401"), "\(challenge.prefix(80))")
            #expect(challenge.contains("WWW-Authenticate: Digest"), "\(challenge)")
            let without = try run(ServerProcess.asfcast, ["push", "http://\(server.url)/push", Self.demo])
            #expect(without.status == 1)
            #expect(without.output.contains("asks for credentials"), "\(without.output)")
            let wrong = try run(ServerProcess.asfcast, ["push", "--user", "encoder", "--password", "wrong", "http://\(server.url)/push", Self.demo])
            #expect(wrong.status == 1)
            #expect(wrong.output.contains("refused the credentials"), "\(wrong.output)")
            let pusher = try Self.pusher(server, ["--loop", "--user", "encoder", "--password", "secret", Self.demo])
            try Self.waitForLog(server, "point push: 2 streams")
            let player = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-t", "3", "-i", "mmsh://\(server.url)/push", "-f", "null", "-"])
            #expect(player.status == 0, "\(player.output)")
            try Self.stop(pusher)
        }

        /// tsukasa's encoder (PUSH.md 1.7) states no Content-Length on its PushStart and ends with a
        /// `$E` of no bytes: its body is the rest of the connection, players play it, and it ends.
        @Test func aPushStartWithoutALengthIsTheRestOfTheConnection() throws {
            let server = try ServerProcess()
            let file = try ASFFile(path: Self.demo)
            var body = ByteBuffer()
            func frame(_ letter: Character, _ payload: ByteBuffer) {
                body.writeInteger(UInt8(0x24))
                body.writeInteger(letter.asciiValue!)
                body.writeInteger(UInt16(payload.readableBytes), endianness: .little)
                body.writeImmutableBuffer(payload)
            }
            frame("H", BroadcastPoint.streamingHeader(of: file.header))
            for packet in try file.readPackets(0..<file.packetCount) { frame("D", packet) }
            let fd = try #require(ServerProcess.connectedSocket(port: server.port))
            defer { close(fd) }
            func send(_ bytes: ByteBuffer) {
                _ = bytes.withUnsafeReadableBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            }
            send(ByteBuffer(string: "POST /push HTTP/1.1\r\nHost: \(server.url)\r\nContent-Type: application/x-wms-pushstart\r\n"
                + "User-Agent: tsukasa\r\n\r\n"))
            send(body)
            try Self.waitForLog(server, "PushStart from tsukasa for point push")
            let player = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-t", "3", "-i", "mmsh://\(server.url)/push", "-f", "null", "-"])
            #expect(player.status == 0, "\(player.output)")
            send(ByteBuffer(bytes: [0x24, 0x45, 0, 0]))
            try Self.waitForLog(server, "the encoder ended point push")
        }

        /// Bodies no encoder sends, and pushes to the wrong place: each gets its error answer,
        /// and a player of another point goes on undisturbed.
        @Test func badPushesAreAnsweredWhileAPlayerPlaysOn() throws {
            let server = try ServerProcess()
            let out = temporaryFile("undisturbed.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let player = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(server.url)/live", "-t", "12",
                                                           "-c", "copy", "-f", "asf", out])
            func push(_ path: String, type: String = "pushstart", length: String? = "2147483647", extra: String = "", body: String) throws -> String {
                try server.raw("POST \(path) HTTP/1.1\r\nContent-Type: application/x-wms-\(type)\r\nUser-Agent: WMEncoder/9.0.0.3287\r\n"
                    + (length.map { "Content-Length: \($0)\r\n" } ?? "") + extra + "\r\n" + body)
            }
            let answers: [(String, String, String)] = [
                ("a first frame that is not $H", "400", try push("/push", body: "$D\u{4}\u{0}abcd")),
                ("garbage", "400", try push("/push", body: "hello, server")),
                ("a header that does not parse", "400", try push("/push", body: "$H\u{8}\u{0}12345678")),
                ("a $E of the wrong length", "400", try push("/push", body: "$E\u{2}\u{0}ab")),
                ("a chunked body", "411", try push("/push", length: nil, extra: "Transfer-Encoding: chunked\r\n", body: "0\r\n\r\n")),
                ("an unknown point", "404", try push("/nowhere", type: "pushsetup", length: "0", body: "")),
                ("a point that takes no pushes", "403", try push("/live", type: "pushsetup", length: "0", body: "")),
            ]
            for (what, status, answer) in answers {
                #expect(answer.hasPrefix("HTTP/1.1 \(status)"), "\(what): \(answer.prefix(80))")
                #expect(answer.contains("Server: Cougar/9.01.01.3841"), "\(what)")
            }
            let result = try player.finish()
            #expect(result.status == 0, "\(result.output)")
            try Self.expectPlayable(out, seconds: 11, "the /live player")
            #expect(!server.logText.contains("Fatal error"))
        }
    }
}

extension Interop.PushInteropTests {
    /// An encoder that vanishes (stopped without its `$E`: its connection drops) leaves its players waiting; one
    /// that comes back within the Idle-Timeout goes on with them; when none comes back, they
    /// get the end of the stream after it.
    @Test func playersWaitForAVanishedEncoderThenEnd() throws {
        let server = try ServerProcess(config: "push_idle_timeout_seconds: 10\npoints:\n  - name: push\n    path: /push\n    push: true\n")
        let first = try Self.pusher(server, ["--loop", Self.demo])
        try Self.waitForLog(server, "point push: 2 streams")
        let out = temporaryFile("vanished.asf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let player = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(server.url)/push", "-c", "copy", "-f", "asf", out])
        try Self.waitForLog(server, "play broadcast push")
        try Self.waitForSize(out, 100_000)
        kill(first.process.processIdentifier, SIGTERM)  // gone without its $E
        _ = try first.finish()
        try Self.waitForLog(server, "encoder connection lost")
        let second = try Self.pusher(server, ["--loop", Self.demo])
        try Self.waitForLog(server, "takes point push over")
        try Self.waitForSize(out, 200_000)
        kill(second.process.processIdentifier, SIGTERM)
        _ = try second.finish()
        let result = try player.finish()
        #expect(result.status == 0, "\(result.output)")
        #expect(server.logText.contains("point push ended: the encoder did not come back within 10 s"))
        #expect(!server.logText.contains("a new broadcast"), "the second encoder went on with the same broadcast")
        try Self.expectPlayable(out, seconds: 5, "the player of the vanished encoders")
    }

    /// Waits until the file a player records holds `bytes`.
    static func waitForSize(_ path: String, _ bytes: Int, limit: TimeInterval = 30) throws {
        try waitUntil("\(path) to reach \(bytes) bytes", limit: limit) {
            ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) >= bytes
        }
    }
}

extension Interop.PushInteropTests {
    /// With `push_creates_points`, a PushSetup to a path no point has makes a point there from
    /// its Template-URL (the template's encoders and all); with AutoDestroy it goes again at the
    /// end of the push. Without a usable template the PushSetup is refused (404).
    @Test func aPushSetupMakesAPointFromItsTemplate() throws {
        let server = try ServerProcess(config: "push_creates_points: true\npoints:\n  - name: studio\n    path: /studio\n    push: true\n    users: {encoder: secret}\n")
        let refused = try run(ServerProcess.asfcast, ["push", "http://\(server.url)/made", Self.demo])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.output.contains("404"), "no template: \(refused.output)")
        let unauthorized = try run(ServerProcess.asfcast, ["push", "--template", "/studio", "http://\(server.url)/made", Self.demo])
        #expect(unauthorized.status == 1 && unauthorized.output.contains("asks for credentials"), "the template's users: \(unauthorized.output)")
        let pusher = try ClientRun(ServerProcess.asfcast, ["push", "--template", "/studio", "--auto-remove", "--user", "encoder", "--password", "secret",
                                                            "http://\(server.url)/made", Self.demo])
        try Self.waitForLog(server, "point made: 2 streams")
        #expect(server.logText.contains("point made made from the template studio"))
        let player = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-t", "3", "-i", "mmsh://\(server.url)/made", "-f", "null", "-"])
        #expect(player.status == 0, "\(player.output)")
        #expect(try pusher.finish().status == 0)
        try Self.waitForLog(server, "point made removed (AutoDestroy)")
        let gone = try server.raw("POST /made HTTP/1.1\r\nContent-Type: application/x-wms-pushsetup\r\nContent-Length: 0\r\n\r\n")
        #expect(gone.hasPrefix("HTTP/1.1 404"), "\(gone.prefix(60))")
    }
}

extension Interop.PushInteropTests {
    /// `asfcast push` outlives its server: killed and started again on the same ports, the
    /// server gets the encoder back (it connects again, backing off) and plays to ffmpeg again.
    @Test func theEncoderComesBackToARestartedServer() throws {
        var server = try ServerProcess()
        let ports = (server.port, server.rtspPort, server.mmsPort)
        let pusher = try Self.pusher(server, ["--loop", Self.demo])
        try Self.waitForLog(server, "point push: 2 streams")
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        server = try ServerProcess(ports: ports)
        try Self.waitForLog(server, "point push: 2 streams")
        let player = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-t", "3", "-i", "mmsh://\(server.url)/push", "-f", "null", "-"])
        #expect(player.status == 0, "\(player.output)")
        try Self.stop(pusher)
    }
}
