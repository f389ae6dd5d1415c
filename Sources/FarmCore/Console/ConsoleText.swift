/// Console bytes as text for people: what terminals would act on, taken out.
public enum ConsoleText {
    /// Removes CSI (`ESC [ … final`), OSC (`ESC ] … BEL` or `ESC ] … ESC \`) and two- or
    /// three-byte escape sequences such as `ESC ( B`.
    public static func removingEscapeSequences(_ raw: [UInt8]) -> [UInt8] {
        let escape: UInt8 = 0x1B
        guard raw.contains(escape) else { return raw }
        var result: [UInt8] = []
        result.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            guard byte == escape else {
                result.append(byte)
                index += 1
                continue
            }
            guard index + 1 < raw.count else { break }
            let kind = raw[index + 1]
            var next = index + 2
            switch kind {
            case UInt8(ascii: "["):
                while next < raw.count, (0x20...0x3F).contains(raw[next]) { next += 1 }
                if next < raw.count, (0x40...0x7E).contains(raw[next]) { next += 1 }
            case UInt8(ascii: "]"):
                while next < raw.count, raw[next] != 0x07, raw[next] != escape, raw[next] != UInt8(ascii: "\n") { next += 1 }
                if next < raw.count, raw[next] == 0x07 {
                    next += 1
                } else if next + 1 < raw.count, raw[next] == escape, raw[next + 1] == UInt8(ascii: "\\") {
                    next += 2
                }
            case 0x20...0x2F:
                next = min(raw.count, index + 3)
            default:
                break
            }
            index = next
        }
        return result
    }
}
