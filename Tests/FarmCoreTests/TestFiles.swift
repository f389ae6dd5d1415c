import FarmCore
import Foundation

/// Paths of files that ship with the repository, found from this source file.
enum TestFiles {
    /// The repository's root folder.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Recorded console logs of real boots.
    static let logs = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/logs")

    /// The bytes of the recorded log `name` (such as `arm64-uboot-good.log`).
    static func log(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: logs.appendingPathComponent(name)))
    }

    /// The text of a file under the repository root.
    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent(relativePath), encoding: .utf8)
    }
}

/// A scratch folder holding a lab file and a `boards/` folder, removed when released.
final class TemporaryLab {
    let folder: URL
    var boardsFolder: URL { folder.appendingPathComponent("boards") }

    /// Creates the folder and copies the repository's board types into `boards/`.
    init(copyingRealBoardTypes: Bool = true) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("farmcore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("boards"), withIntermediateDirectories: true)
        if copyingRealBoardTypes {
            let source = TestFiles.repositoryRoot.appendingPathComponent("boards")
            for name in try FileManager.default.contentsOfDirectory(atPath: source.path) where name.hasSuffix(".yaml") {
                try FileManager.default.copyItem(
                    at: source.appendingPathComponent(name), to: boardsFolder.appendingPathComponent(name))
            }
        }
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Writes a board type file `boards/NAME.yaml` and returns its path.
    @discardableResult
    func writeBoardType(_ name: String, _ yaml: String) throws -> String {
        let url = boardsFolder.appendingPathComponent("\(name).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Decodes `yaml` as the lab file `lab.yaml` of the folder (without writing it).
    func decodeLab(_ yaml: String) throws(ConfigError) -> LabConfig {
        let file = folder.appendingPathComponent("lab.yaml").path
        return try LabConfig.decode(try ConfigNode.parse(yaml, file: file), file: file)
    }

    /// Writes `yaml` as the lab file `NAME` in the folder and returns its path.
    func writeLab(_ yaml: String, name: String = "lab.yaml") throws -> String {
        let url = folder.appendingPathComponent(name)
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

/// The 1-based number of the first line of `text` that contains `fragment`, and the 1-based
/// column where the fragment starts.
func position(of fragment: String, in text: String, occurrence: Int = 1) -> (line: Int, column: Int)? {
    var seen = 0
    for (index, line) in text.components(separatedBy: "\n").enumerated() {
        guard let range = line.range(of: fragment) else { continue }
        seen += 1
        if seen == occurrence {
            return (index + 1, line.unicodeScalars.distance(from: line.unicodeScalars.startIndex, to: range.lowerBound) + 1)
        }
    }
    return nil
}
