import ArgumentParser
import FarmCore
import FarmStore
import Foundation

struct ResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Inspect the boots recorded in a results store.",
        subcommands: [List.self, Show.self, Import.self, Export.self]
    )

    struct StoreOptions: ParsableArguments {
        @Option(help: "Results store (SQLite file); default under the user's data directory.")
        var db: String?

        func open() throws -> ResultStore {
            let path = db ?? ResultStore.defaultPath
            if db != nil, !FileManager.default.fileExists(atPath: path) {
                throw CLIError.usage("\(path): no such results store", detail: "record boots into it with: bootfarm boot --db \(path) ...")
            }
            do { return try ResultStore(path: path) } catch { throw CLIError.usage("\(error)") }
        }

        /// Opens the store, creating it when it does not exist yet.
        func openOrCreate() throws -> ResultStore {
            let path = db ?? ResultStore.defaultPath
            do { return try ResultStore(path: path) } catch { throw CLIError.usage("\(error)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the newest boots.")

        @OptionGroup var store: StoreOptions
        @Option(help: "Only boots of this board.") var board: String?
        @Option(help: "How many boots at most.") var limit: Int = 20
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let records = try store.open().recentBoots(limit: limit, board: board)
            if json {
                print(JSONOutput.text(records.map(\.jsonObject), pretty: true))
                return
            }
            for record in records { print("\(record.startedAt)  \(record.id.prefix(8))  \(ResultLine.text(record))") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one boot, optionally with its console log.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The boot's id (or a unique prefix of it).") var id: String
        @Flag(help: "Write the console log, byte for byte, to standard output.") var log = false
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if log && json { throw ValidationError("--log and --json contradict each other; use one") }
        }

        func run() async throws {
            let results = try store.open()
            var record = try results.boot(id: id)
            if record == nil {
                let matches = try results.recentBoots(limit: 100_000, includeSuperseded: true).filter { $0.id.hasPrefix(id) }
                if matches.count > 1 { throw CLIError.usage("boot id prefix '\(id)' is ambiguous (\(matches.count) boots)") }
                record = matches.first
            }
            guard let record else { throw CLIError.usage("no boot '\(id)' in the results store") }
            if log {
                let transcript = try results.log(bootID: record.id)
                FileHandle.standardOutput.write(Data(transcript?.bytes ?? []))
                return
            }
            if json {
                print(JSONOutput.text(record.jsonObject, pretty: true))
                return
            }
            print(ResultLine.text(record))
            print("id \(record.id)  lab \(record.lab)  board type \(record.boardType)  arch \(record.build.arch)")
            print("started \(record.startedAt)  finished \(record.finishedAt ?? "-")")
            for stage in Stage.allCases {
                if let time = record.stageTimes[stage] { print(String(format: "  %-10@ %7.2f s", stage.rawValue, time)) }
            }
        }
    }
}
