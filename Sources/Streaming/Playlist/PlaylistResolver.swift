import ASF
import Foundation
import Logging

extension Playlist {
    /// The playlist's entries as files: `src` is resolved against the playlist's directory and
    /// must stay inside `root`; an entry that cannot be opened is skipped and logged.
    public func openEntries(relativeTo playlistPath: String, root: String, logger: Logger) -> [SplicedSource.Entry] {
        let directory = (playlistPath as NSString).deletingLastPathComponent
        let points = PublishingPoints([PublishingPoint(name: "playlist", path: "/", kind: .onDemand(directory: root))])
        var opened: [String: ASFFile] = [:]
        var result = [SplicedSource.Entry]()
        for entry in entries {
            guard !entry.source.contains("://") else {
                logger.notice("playlist entry \(entry.source) skipped: only files are supported")
                continue
            }
            let absolute = entry.source.hasPrefix("/") ? entry.source : directory + "/" + entry.source
            guard let rootReal = realpathString(root), let full = realpathString(absolute), full.hasPrefix(rootReal + "/"),
                  case let .file(_, path) = points.lookup(String(full.dropFirst(rootReal.count))) else {
                logger.notice("playlist entry \(entry.source) skipped: no such file in the media root")
                continue
            }
            do {
                let file = try opened[path] ?? ASFFile(path: path)
                opened[path] = file
                result.append(.init(file: file, clipBegin: entry.clipBegin, clipEnd: entry.clipEnd))
            } catch {
                logger.notice("playlist entry \(entry.source) skipped: \(error)")
            }
        }
        return result
    }
}

func realpathString(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
