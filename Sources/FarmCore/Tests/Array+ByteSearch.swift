extension Array where Element == UInt8 {
    /// The first offset at or after `start` where `needle` begins, or nil.
    func firstOffset(of needle: [UInt8], from start: Int = 0) -> Int? {
        guard let first = needle.first, count >= needle.count else { return nil }
        var offset = Swift.max(0, start)
        while offset <= count - needle.count {
            if self[offset] == first, self[offset..<(offset + needle.count)].elementsEqual(needle) { return offset }
            offset += 1
        }
        return nil
    }

    /// The last offset before `end` where `needle` begins, or nil.
    func lastOffset(of needle: [UInt8], before end: Int) -> Int? {
        guard !needle.isEmpty else { return nil }
        var offset = Swift.min(end, count) - needle.count
        while offset >= 0 {
            if self[offset..<(offset + needle.count)].elementsEqual(needle) { return offset }
            offset -= 1
        }
        return nil
    }
}
