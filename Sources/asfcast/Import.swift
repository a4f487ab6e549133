import ArgumentParser
import Foundation
import MediaImport

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remux a media file libavformat can read into ASF.",
        discussion: "Audio and video are copied, not re-encoded; a codec ASF cannot carry is an error. Several video streams make a multi-bit-rate file.")

    @Argument(help: "The input medium.")
    var input: String

    @Argument(help: "The ASF file to write.")
    var output: String

    func run() throws {
        do {
            let report = try MediaImporter.importFile(input, to: output)
            print("\(output): \(report.carried.joined(separator: ", "))")
            if !report.skipped.isEmpty { print("left out: \(report.skipped.joined(separator: ", "))") }
            if report.addedBitrateExclusion { print("added a bit-rate mutual exclusion over the video streams") }
        } catch let error as LibAVError {
            FileHandle.standardError.write(Data("asfcast import: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
