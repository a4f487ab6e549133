import Foundation

/// Where an archive goes: a template with the variables of WMS's Archive Data Writer plug-in,
/// `<Y>` year, `<m>` month, `<d>` day, `<H>` hour, `<M>` minute, `<S>` second (local time) and
/// `<V>` the publishing point's name. A relative template is below the media root, so that the
/// default point serves the archives on demand, the one being written too.
public struct ArchivePath: Sendable, Equatable {
    public var template: String

    public init(_ template: String) {
        self.template = template
    }

    public func path(point: String, at date: Date, root: String) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: .current, from: date)
        func two(_ v: Int?) -> String { String(format: "%02d", v ?? 0) }
        let name = point.replacingOccurrences(of: "/", with: "_")
        let expanded = template
            .replacingOccurrences(of: "<Y>", with: String(format: "%04d", c.year ?? 0))
            .replacingOccurrences(of: "<m>", with: two(c.month))
            .replacingOccurrences(of: "<d>", with: two(c.day))
            .replacingOccurrences(of: "<H>", with: two(c.hour))
            .replacingOccurrences(of: "<M>", with: two(c.minute))
            .replacingOccurrences(of: "<S>", with: two(c.second))
            .replacingOccurrences(of: "<V>", with: name)
        return expanded.hasPrefix("/") ? expanded : root + "/" + expanded
    }
}
