import FarmCore
import FarmDrivers

extension ConsoleExpectation {
    /// The match, or nil when the wait timed out.
    var match: ConsoleMatch? {
        if case .matched(let match, _) = self { match } else { nil }
    }

    /// The text received up to the match, or nil when the wait timed out.
    var output: String? {
        if case .matched(_, let output) = self { output } else { nil }
    }
}
