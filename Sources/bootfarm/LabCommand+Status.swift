import ArgumentParser
import FarmCore
import FarmStore
import Foundation

extension LabCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the lab's boards as its agent keeps them: state, health, current job.")

        @Option(help: "The lab file (YAML).") var lab: String
        @Option(help: "Results store and job queue (SQLite file).") var db: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let labConfig = try loadLab(lab, checkDevices: false)
            let store = try openStore(db)
            let statuses = try store.boardStatuses(lab: labConfig.name)
            let agent = try store.agent(lab: labConfig.name)
            let alive = agent.map { kill($0.pid, 0) == 0 } ?? false
            let queued = try store.jobs(lab: labConfig.name, states: [.queued], limit: 1_000_000).count
            let boards = labConfig.boards.map { statuses[$0.name] ?? BoardStatus(lab: labConfig.name, board: $0.name) }
            if json {
                var object: [String: Any] = [
                    "lab": labConfig.name, "queued_jobs": queued, "agent_running": alive,
                    "boards": zip(labConfig.boards, boards).map { config, status in
                        var item = status.jsonObject
                        item["type"] = config.type.name
                        return item
                    },
                ]
                if let agent { object["agent"] = ["pid": Int(agent.pid), "started_at": agent.startedAt, "heartbeat": agent.heartbeat] }
                print(JSONOutput.text(object, pretty: true))
                return
            }
            let agentText =
                if let agent {
                    alive ? "agent running (pid \(agent.pid), since \(agent.startedAt))" : "agent not running (last pid \(agent.pid) gone)"
                } else {
                    "no agent running"
                }
            print("lab \(labConfig.name): \(agentText); \(queued) job\(queued == 1 ? "" : "s") queued")
            let width = max(5, labConfig.boards.map(\.name.count).max() ?? 0)
            for (config, status) in zip(labConfig.boards, boards) {
                var line =
                    "  \(config.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(status.state.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) health \(status.health.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0))"
                if let job = status.currentJob { line += " job \(job)" }
                if !status.note.isEmpty { line += "  \(status.note)" }
                print(line)
            }
        }
    }

    struct Board: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a board out of service by hand, or bring it back.",
            discussion: """
                --maintenance on keeps the agent from giving the board jobs (a running job finishes \
                first). --maintenance off returns it to service; a board that was offline is \
                health-checked before its next job.
                """)

        @Argument(help: "The board's name in the lab file.") var name: String
        @Option(help: "The lab file (YAML).") var lab: String
        @Option(help: "on or off.") var maintenance: String
        @Option(help: "Why (shown by lab status).") var note: String?
        @Option(help: "Results store and job queue (SQLite file).") var db: String?
        @Flag(help: "Print the board's new state as JSON.") var json = false

        func validate() throws {
            guard maintenance == "on" || maintenance == "off" else {
                throw ValidationError("--maintenance takes on or off, not '\(maintenance)'")
            }
        }

        func run() async throws {
            let labConfig = try loadLab(lab, checkDevices: false)
            guard labConfig.board(named: name) != nil else {
                throw CLIError.usage(
                    "no board '\(name)' in lab \(labConfig.name) (\(lab))",
                    detail: "boards: \(labConfig.boards.map(\.name).joined(separator: ", "))")
            }
            let store = try openStore(db)
            var status = try store.boardStatuses(lab: labConfig.name)[name] ?? BoardStatus(lab: labConfig.name, board: name)
            if maintenance == "on" {
                status.state = .maintenance
                status.note = note ?? "maintenance"
            } else {
                if status.state == .offline || status.health == .failing {
                    status.health = .suspect
                    status.healthFailures = 0
                }
                if status.state == .maintenance || status.state == .offline { status.state = .idle }
                status.note = note ?? "back in service"
            }
            try store.save(status)
            if json {
                print(JSONOutput.text(status.jsonObject, pretty: true))
            } else {
                print("\(name): \(status.state.rawValue), health \(status.health.rawValue)")
            }
        }
    }
}
