import FarmCore

/// A `POST /api/v1/boots` body: a JSON array of boot records in the import format, each with an
/// optional `log`.
enum BootSubmission {
    /// Decodes `body`; errors say where the JSON breaks or which record and field is wrong.
    static func decode(_ body: [UInt8]) throws(APIError) -> [ImportedBoot] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            let (line, column) = position(ofByte: error.column - 1, in: body)
            throw .malformedJSON(line: line, column: column, message: error.message)
        }
        guard case .array(let items) = value else {
            throw .invalidField(field: "body", message: "expected a JSON array of boot records, found \(value.kindName)")
        }
        var boots: [ImportedBoot] = []
        boots.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do {
                boots.append(try BootRecord.decodeImport(item, line: index + 1))
            } catch {
                let field = error.field.isEmpty ? "[\(index)]" : "[\(index)].\(error.field)"
                throw .invalidField(field: field, message: error.message)
            }
        }
        return boots
    }

    /// The 1-based line and column of byte `offset` (0-based) in `bytes`.
    static func position(ofByte offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for index in 0..<min(max(0, offset), bytes.count) where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }
}
