import Foundation

/// The line that runs a test definition at a board's shell prompt, and the pattern that tells the
/// command has finished.
///
/// The line is POSIX `sh` (busybox `ash` is the target):
///
///     printf 'BFTEST-%s-START\n' TOKEN; ( eval 'COMMAND' ) </dev/null; printf 'BFTEST-%s-END-%d-%s\n' TOKEN $? TOKEN TOKEN $? TOKEN
///
/// - The markers are assembled by `printf` at run time, so the shell's echo of the typed line
///   shows `BFTEST-%s-START` and never the marker itself.
/// - The command runs through `eval` of a single-quoted string inside a subshell: any quoting,
///   `;`, pipes, `&&`, a trailing `#` comment or an `exit` stay inside it, a syntax error in it
///   becomes exit status 2 instead of swallowing the end marker, and `$?` is its exit status.
/// - Standard input is `/dev/null`, so a command that reads input cannot swallow what is typed
///   next.
/// - The end marker repeats the token after the status, so a match of `endPattern` means the
///   status arrived whole; and it is printed twice, so a kernel message spliced into one copy
///   (which breaks it for the line-by-line console pattern) still leaves the other to match.
public struct ShellTestCommand: Sendable, Equatable {
    /// The test to run.
    public let definition: TestDefinition
    /// Letters and digits that make this run's markers unique.
    public let token: String
    /// Matches the end marker (`BFTEST-TOKEN-END-STATUS-TOKEN`) within one console line.
    public let endPattern: ConsolePattern

    /// Prepares `definition` to run with markers made from `token`; nil when `token` is empty or
    /// holds anything but ASCII letters and digits.
    public init?(definition: TestDefinition, token: String) {
        guard !token.isEmpty, token.utf8.allSatisfy(Self.isTokenByte) else { return nil }
        guard let pattern = try? ConsolePattern.regex("BFTEST-\(token)-END-[0-9]+-\(token)") else { return nil }
        self.definition = definition
        self.token = token
        self.endPattern = pattern
    }

    /// A fresh token: `sequenceNumber` in base 36 followed by four random base-36 digits, so
    /// markers differ between commands of one boot and between boots.
    public static func makeToken(sequenceNumber: Int) -> String {
        let digits = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        let random = String((0..<4).map { _ in digits[Int.random(in: 0..<digits.count)] })
        return String(max(0, sequenceNumber), radix: 36) + random
    }

    /// The text to type at the shell prompt, ending in `\n`.
    public var line: String {
        let start = "printf 'BFTEST-%s-START\\n' \(token)"
        let run = "( eval \(Self.singleQuoted(definition.command)) ) </dev/null"
        let end = "printf 'BFTEST-%s-END-%d-%s\\n' \(token) $? \(token) \(token) $? \(token)"
        return "\(start); \(run); \(end)\n"
    }

    /// The start marker as the command prints it.
    var startMarker: String { "BFTEST-\(token)-START" }

    /// The end marker up to the exit status.
    var endMarkerPrefix: String { "BFTEST-\(token)-END-" }

    /// `text` as one single-quoted shell word: each `'` becomes `'\''`.
    static func singleQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): true
        default: false
        }
    }
}
