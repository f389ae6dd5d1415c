/// ISO-8601 timestamps as records carry them: parsed strictly and normalised to UTC
/// (`2026-11-29T19:38:45Z`, fractions kept to milliseconds), so that text order is time order.
public enum ISOTimestamp {
    /// Seconds since 1970 of `text` (`YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`), or nil.
    public static func epochSeconds(_ text: String) -> Double? {
        var utf8 = Array(text.utf8)
        guard utf8.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = utf8[index]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        if utf8[10] == UInt8(ascii: " ") { utf8[10] = UInt8(ascii: "T") }
        guard utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"), utf8[10] == UInt8(ascii: "T"),
            utf8[13] == UInt8(ascii: ":"), utf8[16] == UInt8(ascii: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < utf8.count, utf8[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < utf8.count, utf8[index] >= 0x30 && utf8[index] <= 0x39 {
                fraction += Double(utf8[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offsetSeconds = 0
        if index == utf8.count {
            offsetSeconds = 0  // no zone: taken as UTC
        } else if utf8[index] == UInt8(ascii: "Z") || utf8[index] == UInt8(ascii: "z") {
            guard index + 1 == utf8.count else { return nil }
        } else if utf8[index] == UInt8(ascii: "+") || utf8[index] == UInt8(ascii: "-") {
            let sign = utf8[index] == UInt8(ascii: "-") ? -1 : 1
            guard utf8.count - index == 6, utf8[index + 3] == UInt8(ascii: ":"),
                let hours = number((index + 1)..<(index + 3)), let minutes = number((index + 4)..<(index + 6))
            else { return nil }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds) + fraction
    }

    /// True when `text` is already in the normalised form `YYYY-MM-DDTHH:MM:SSZ` with a valid date.
    public static func isCanonical(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { isCanonical(bytes: $0) } ?? (normalize(text) == text)
    }

    /// Whether `bytes` are a timestamp as `format` writes whole seconds: `YYYY-MM-DDTHH:MM:SSZ`.
    public static func isCanonical(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == 20, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54, bytes[13] == 0x3A, bytes[16] == 0x3A,
            bytes[19] == 0x5A
        else { return false }
        func number(_ range: Range<Int>) -> Int {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 0x30
                guard digit >= 0 && digit <= 9 else { return -1 }
                value = value * 10 + digit
            }
            return value
        }
        let month = number(5..<7)
        let day = number(8..<10)
        return number(0..<4) >= 0 && (1...12).contains(month) && (1...31).contains(day) && (0..<24).contains(number(11..<13))
            && (0..<60).contains(number(14..<16)) && (0..<61).contains(number(17..<19))
    }

    /// `text` in UTC, or nil when it is not an ISO-8601 timestamp.
    public static func normalize(_ text: String) -> String? {
        guard let seconds = epochSeconds(text) else { return nil }
        return format(seconds)
    }

    /// Formats seconds since 1970 as UTC ISO-8601 (milliseconds only when not whole).
    public static func format(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        let milliseconds = Int(((seconds - Double(whole)) * 1000).rounded())
        var days = whole / 86400
        var rest = whole % 86400
        if rest < 0 {
            rest += 86400
            days -= 1
        }
        let (year, month, day) = civilFromDays(days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var result =
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(rest / 3600, 2)):\(pad(rest % 3600 / 60, 2)):\(pad(rest % 60, 2))"
        if milliseconds > 0 && milliseconds < 1000 { result += ".\(pad(milliseconds, 3))" }
        return result + "Z"
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPart = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPart + 2) / 5 + 1
        let month = monthPart + (monthPart < 10 ? 3 : -9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
