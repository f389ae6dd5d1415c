/// A lab, board type or job file that cannot be used, with the place to fix it.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file at fault (as given by the user).
    public var file: String
    /// 1-based line, when known.
    public var line: Int?
    /// 1-based column, when known.
    public var column: Int?
    /// Dotted key path inside the file, such as `boards.arm64-1.power.kind`; empty for the file.
    public var key: String
    /// What is wrong and what was expected.
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, key: String = "", message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// `FILE:LINE:COLUMN: KEY: MESSAGE`, the form editors and terminals link to.
    public var description: String {
        var place = file
        if let line {
            place += ":\(line)"
            if let column { place += ":\(column)" }
        }
        return key.isEmpty ? "\(place): \(message)" : "\(place): \(key): \(message)"
    }
}
