@testable import ASF
import Foundation
import NIOCore
import ServerTestSupport
import Testing

/// Mutated copies of the sample files must parse or fail with `ASFError`; nothing may trap.
/// Iterations are bounded for CI; the seed makes every failure reproducible.
struct MutationTests {
    static let iterations = 10_000

    /// Applies one random mutation: bit flips, extreme integers, truncation or a repeated chunk.
    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        let at = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<6, using: &rng) {
        case 0:
            bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
        case 1:
            bytes[at] = [0, 0xFF, 0x7F, 0x80, 1][Int.random(in: 0..<5, using: &rng)]
        case 2:
            let width = [2, 4, 8][Int.random(in: 0..<3, using: &rng)]
            let value: UInt64 = [0, 1, 0xFFFF, 0xFFFF_FFFF, UInt64.max, 24, 50][Int.random(in: 0..<7, using: &rng)]
            for i in 0..<width where at + i < bytes.count { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
        case 3:
            bytes.removeSubrange(at...)
        case 4:
            let length = min(Int.random(in: 1...64, using: &rng), bytes.count - at)
            bytes.insert(contentsOf: bytes[at..<at + length], at: at)
        default:
            for _ in 0..<Int.random(in: 2...16, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        }
        return bytes
    }

    /// Parses what a server parses: the header, the Data Object start, then packets.
    static func parseStream(_ bytes: [UInt8]) throws {
        let buffer = ByteBuffer(bytes: bytes)
        let header = try ASFHeader(parsing: buffer)
        let headerSize = header.bytes.readableBytes
        guard let dataStart = buffer.getSlice(at: headerSize, length: DataObjectHeader.size) else { return }
        _ = try DataObjectHeader(parsing: dataStart, origin: headerSize)
        guard let size = header.fileProperties.fixedPacketSize else { return }
        var at = headerSize + DataObjectHeader.size
        while let slice = buffer.getSlice(at: at, length: min(size, buffer.readableBytes - at)), slice.readableBytes > 0 {
            let packet = try DataPacket(parsing: slice, origin: at)
            for payload in packet.payloads { _ = try payload.subPayloads() }
            at += size
        }
    }

    @Test func mutatedStreamsNeverTrap() throws {
        var rng = SplitMix64(state: 0xA5F_CA57)
        var inputs = [[UInt8]]()
        for name in Samples.all {
            let file = try ASFFile(path: Samples.path(name))
            // Header, Data Object start and the first four packets: the parsers' whole surface.
            let raw = try Samples.bytes(name)
            inputs.append(Array(raw.getBytes(at: 0, length: file.dataOffset + 4 * file.packetSize)!))
        }
        var failures = 0
        for i in 0..<Self.iterations {
            let mutated = Self.mutate(inputs[i % inputs.count], &rng)
            do {
                try Self.parseStream(mutated)
            } catch is ASFError {
                failures += 1
            }
        }
        // Most mutations land in payload data, which parses either way; many must be caught.
        #expect(failures > Self.iterations / 20, "\(failures) rejected")
    }

    @Test func mutatedFilesNeverTrap() throws {
        var rng = SplitMix64(state: 0xF11E)
        let raw = Array(try Samples.bytes("demo.wmv").readableBytesView)
        let path = Samples.temporaryPath("mutated.wmv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        for _ in 0..<300 {
            // Mutate near the structures the reader trusts: the header and the trailing index.
            var mutated = raw
            for _ in 0..<3 {
                let region = Bool.random(using: &rng) ? 0..<1200 : (raw.count - 400)..<raw.count
                mutated[Int.random(in: region, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            try Data(mutated).write(to: URL(fileURLWithPath: path))
            do {
                let file = try ASFFile(path: path)
                _ = try FileReport(file)
                _ = try file.packetNumber(forTime: 7_000)
            } catch is ASFError {}
        }
    }
}
