import ArgumentParser
import FarmCore
import FarmReports
import FarmStore
import Foundation

extension ResultsCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import boot records from a JSON Lines file (one object per line).",
            discussion: """
                Fields: id (optional; a record whose id is stored already is updated, never duplicated), \
                lab, board, board_type, arch, defconfig, compiler, tree, branch, commit, describe, \
                commit_time, started_at, finished_at, status (pass, fail, error, canceled), stage, reason, \
                boot_time_s, warnings, kernel_image_size, energy_j, avg_power_w, peak_power_w, stage_times, log, \
                power ({"samples": [[t_ns, power_uw, voltage_uv, current_ua], ...], "stage_energy_j": {...}, \
                "lost_samples": N, "warnings": [...]}), tests ([{"name", "result": pass|fail|skip, "measurement", \
                "units", "output"}, ...]).
                A file with a bad line imports nothing and every bad line is reported with its line \
                number and field; with --skip-bad the good lines are imported and the bad ones reported.
                """)

        @OptionGroup var store: StoreOptions
        @Argument(help: "The JSON Lines file.") var file: String
        @Flag(help: "Import the good lines of a file that has bad ones.") var skipBad = false
        @Flag(help: "Print the summary as JSON.") var json = false
        @Flag(name: .shortAndLong, help: "Print no progress.") var quiet = false

        func run() async throws {
            guard FileManager.default.fileExists(atPath: file) else { throw CLIError.usage("\(file): no such file") }
            let results = try store.openOrCreate()
            let start = Date()
            let showProgress = !quiet && !json
            let summary: ImportSummary
            do {
                summary = try results.importJSONLines(path: file, skipBad: skipBad) { count in
                    if showProgress {
                        printError("imported \(count) records (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)")
                    }
                }
            } catch let failure as ImportFailure {
                let detail = failure.errors.dropFirst().prefix(19).map { "\(file): \($0)" }.joined(separator: "\n")
                let more = failure.badLines > 20 ? "\n... and \(failure.badLines - 20) more bad lines" : ""
                throw CLIError.usage(
                    "\(failure)",
                    detail: detail + more + (detail.isEmpty && more.isEmpty ? "" : "\n")
                        + "fix the lines, or import the good ones with --skip-bad")
            } catch {
                throw CLIError.infrastructure("\(error)")
            }
            let seconds = Date().timeIntervalSince(start)
            if json {
                print(
                    JSONOutput.text([
                        "imported": summary.imported, "lines": summary.lines,
                        "rejected": summary.rejected.map { ["line": $0.line, "field": $0.field, "message": $0.message] },
                        "seconds": seconds,
                    ]))
            } else {
                for error in summary.rejected { printError("\(file): skipped \(error)") }
                print(
                    "imported \(summary.imported) of \(summary.lines) records in \(String(format: "%.2f", seconds)) s"
                        + (summary.rejected.isEmpty ? "" : " (\(summary.rejected.count) bad lines skipped)"))
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export boot records as JSON Lines, CSV or KCIDB.")

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case jsonl, csv, kcidb
        }

        @OptionGroup var store: StoreOptions
        @Option(help: "jsonl (the import format), csv, or kcidb (KCIDB v5 JSON).") var format: Format = .jsonl
        @Option(help: "KCIDB origin (the submitter's name), needed for --format kcidb.") var origin: String?
        @Option(help: "Only this tree.") var tree: String?
        @Option(help: "Only this branch.") var branch: String?
        @Option(help: "Only this revision (git describe).") var revision: String?
        @Option(help: "Only this lab.") var lab: String?
        @Flag(help: "Include console logs (JSON Lines only).") var withLogs = false
        @Option(name: .customLong("output"), help: "Write to this file instead of standard output.") var outputFile: String?

        func validate() throws {
            if format == .kcidb && origin == nil { throw ValidationError("--format kcidb needs --origin NAME") }
            if origin != nil && format != .kcidb { throw ValidationError("--origin applies to --format kcidb only") }
            if withLogs && format != .jsonl { throw ValidationError("--with-logs applies to --format jsonl only") }
            if let origin, origin.isEmpty || origin.contains(":") { throw ValidationError("--origin must be a non-empty name without ':'") }
        }

        func run() async throws {
            let results = try store.open()
            let filter = BootFilter(tree: tree, branch: branch, describes: revision.map { [$0] }, lab: lab)
            guard
                let output = outputFile.map({
                    FileManager.default.createFile(atPath: $0, contents: nil) ? FileHandle(forWritingAtPath: $0) : nil
                }) ?? FileHandle.standardOutput
            else {
                throw CLIError.usage("cannot write \(outputFile ?? "")")
            }
            var buffer = ""
            func flush(force: Bool = false) {
                if force || buffer.utf8.count > 1 << 20 {
                    output.write(Data(buffer.utf8))
                    buffer = ""
                }
            }
            switch format {
            case .jsonl:
                try results.forEachBootWithLog(filter) { record, log in
                    buffer += record.jsonLine(log: withLogs ? log : nil) + "\n"
                    flush()
                }
            case .csv:
                buffer = BootRecord.csvColumns.joined(separator: ",") + "\n"
                try results.forEachBoot(filter) { record in
                    buffer += record.csvRow + "\n"
                    flush()
                }
            case .kcidb:
                let records = try results.boots(filter)
                buffer = JSONOutput.text(KCIDBExport.document(records, origin: origin ?? ""), pretty: true) + "\n"
            }
            flush(force: true)
        }
    }
}
