/// Escaping for HTML and XML text and attribute values.
public enum MarkupEscaping {
    /// `text` with `& < > " '` replaced by entities and control characters (other than tab and
    /// newline) dropped, so console bytes can never become markup.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) || scalar.value == 0xFFFE
                    || scalar.value == 0xFFFF
                {
                    continue
                }
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
