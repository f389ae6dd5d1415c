import Foundation

/// A folder under /tmp removed when the value goes away. Kept short: QMP sockets live in it and
/// Unix socket paths are limited to 107 bytes.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = "/tmp/bootfarm-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `name` inside the folder.
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}
