/// The points the admin API added and removed, laid over the configuration file's: a reload
/// reads the file again and these changes still apply, until the server stops. A point the API
/// added wins over a point of the same name the file gains later.
struct PointOverlay: Equatable {
    private(set) var added: [ServerConfiguration.Point] = []
    /// Points of the file the API removed.
    private(set) var removed: Set<String> = []

    mutating func add(_ point: ServerConfiguration.Point) {
        added.removeAll { $0.name == point.name }
        added.append(point)
        removed.remove(point.name)
    }

    /// Removes the point named `name`: the API's own, or one of `file`'s.
    mutating func remove(_ name: String, file: [ServerConfiguration.Point]) {
        added.removeAll { $0.name == name }
        if file.contains(where: { $0.name == name }) { removed.insert(name) }
    }

    /// The points served: the file's, less those removed or replaced, then the API's.
    func points(over file: [ServerConfiguration.Point]) -> [ServerConfiguration.Point] {
        file.filter { point in !removed.contains(point.name) && !added.contains { $0.name == point.name } } + added
    }
}
