import FarmCore
import Foundation

/// What an import did.
public struct ImportSummary: Sendable {
    /// Records stored (new or updated).
    public var imported = 0
    /// Lines that were not stored (with `skipBad`), or that made the import fail.
    public var rejected: [ImportError] = []
    /// Non-empty lines read.
    public var lines = 0
}

/// An import that stored nothing because some lines are bad.
public struct ImportFailure: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// The bad lines found (the first 100).
    public var errors: [ImportError]
    /// Bad lines in all.
    public var badLines: Int

    public var description: String {
        let first = errors.first.map { "\(file): \($0)" } ?? file
        return "\(first) (\(badLines) bad line\(badLines == 1 ? "" : "s"); nothing was imported)"
    }
}

extension ResultStore {
    /// Imports boot records from a JSON Lines file (one object per line; blank lines ignored).
    ///
    /// All or nothing by default: if any line is bad, nothing from the file is stored and the
    /// error lists the bad lines. With `skipBad`, good lines are stored and bad ones reported.
    /// A record whose `id` is already stored is updated, never duplicated; records without an id
    /// get a fresh one. Rows are written through one prepared statement inside one transaction.
    public func importJSONLines(
        path: String, skipBad: Bool = false, progress: (Int) -> Void = { _ in }
    ) throws -> ImportSummary {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw StoreError.cannotOpen(path: path, message: "cannot read the import file: \(error.localizedDescription)")
        }
        var summary = ImportSummary()
        var badLines = 0
        do {
            try locked { () throws(StoreError) in
                try database.transaction { () throws(StoreError) in
                    let insert = try database.prepare(BootRow.upsertSQL)
                    let insertLog = try database.prepare("INSERT OR REPLACE INTO boot_logs (boot_id, log, line_times) VALUES (?, ?, ?)")
                    var revisions: [String: BootRecord] = [:]
                    var failed = false
                    var stepError: StoreError?
                    data.withUnsafeBytes { raw in
                        guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return }
                        let count = raw.count
                        var start = 0
                        var lineNumber = 0
                        while start < count, stepError == nil {
                            var end = count
                            if let found = memchr(base + start, 0x0A, count - start) {
                                end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                            }
                            lineNumber += 1
                            let line = UnsafeBufferPointer(start: base + start, count: end - start)
                            start = end + 1
                            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                            summary.lines += 1
                            let imported: ImportedBoot
                            do {
                                let value: JSONValue
                                do {
                                    value = try JSONParser.parse(buffer: line)
                                } catch {
                                    throw ImportError(line: lineNumber, field: "", message: "not valid JSON: \(error)")
                                }
                                imported = try BootRecord.decodeImport(value, line: lineNumber) { UUID().uuidString.lowercased() }
                            } catch let error as ImportError {
                                badLines += 1
                                if summary.rejected.count < 100 { summary.rejected.append(error) }
                                if !skipBad { failed = true }
                                continue
                            } catch {
                                continue
                            }
                            if failed { continue }  // keep reading to report every bad line
                            do {
                                insert.reset()
                                BootRow.bind(imported.record, to: insert)
                                try insert.step()
                                if let log = imported.log {
                                    insertLog.reset()
                                    var transcript = ConsoleTranscript()
                                    transcript.append(log, at: 0)
                                    insertLog.bind(1, imported.record.id)
                                    insertLog.bind(2, blob: transcript.bytes)
                                    insertLog.bind(3, blob: transcript.packedLineTimes)
                                    try insertLog.step()
                                }
                            } catch let error as StoreError {
                                stepError = error
                                return
                            } catch {
                                return
                            }
                            let revisionKey =
                                "\(imported.record.revision.tree)\u{1}\(imported.record.revision.branch)\u{1}\(imported.record.revision.describe)"
                            if let known = revisions[revisionKey] {
                                if imported.record.startedAt < known.startedAt { revisions[revisionKey] = imported.record }
                            } else {
                                revisions[revisionKey] = imported.record
                            }
                            summary.imported += 1
                            if summary.imported % 100_000 == 0 { progress(summary.imported) }
                        }
                    }
                    if let stepError { throw stepError }
                    if failed { throw StoreError.rolledBack(reason: "bad lines in \(path)") }
                    let revision = try database.prepare(BootRow.insertRevisionSQL)
                    for record in revisions.values {
                        revision.reset()
                        BootRow.bindRevision(record, to: revision)
                        try revision.step()
                    }
                }
            }
        } catch StoreError.rolledBack {
            throw ImportFailure(file: path, errors: summary.rejected, badLines: badLines)
        }
        return summary
    }
}
