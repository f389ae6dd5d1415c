import ArgumentParser
import FarmCore
import FarmReports
import FarmStore
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Find regressions at a revision and print (or mail) the boot report.",
        discussion: """
            Regressions: a key (tree, branch, arch, defconfig, compiler, board type, board, lab) that \
            passed before and fails now; fixed, flaky (pass/fail alternating, never reported as a \
            regression), conflicts between labs, infrastructure errors (never failures), boot time \
            and energy above the key's noise, kernel size growth and new warnings.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, email, json, html, markdown, atom
    }

    @Option(help: "Kernel tree.") var tree: String
    @Option(help: "Branch of the tree.") var branch: String
    @Option(help: "The revision (git describe) to report; default the newest.") var revision: String?
    @Option(help: "Output format: \(Format.allCases.map(\.rawValue).joined(separator: ", ")).") var format: Format = .text
    @Option(help: "Send the e-mail report to this SMTP server (HOST:PORT).") var smtp: String?
    @Option(help: "Recipient of the e-mail report, repeatable.") var to: [String] = []
    @Option(help: "Sender of the e-mail report.") var from: String = "bootfarm <bootfarm@localhost>"
    @OptionGroup var store: ResultsCommand.StoreOptions
    @Option(help: "Earlier revisions examined for history.") var history: Int = 10
    @Option(help: "Pass/fail changes within the history that make a key flaky.") var flakyTransitions: Int = 3
    @Option(help: "Passing samples needed before boot time or energy are judged.") var minimumSamples: Int = 5
    @Option(help: "Noise widths (scaled MAD) above the median a boot time or energy must be.") var noiseFactor: Double = 5
    @Option(help: "Relative boot-time rise that is reported, in percent.") var bootTimePercent: Double = 10
    @Option(help: "Relative energy rise that is reported, in percent.") var energyPercent: Double = 10
    @Option(help: "Kernel image growth that is reported, in percent.") var kernelSizePercent: Double = 2
    @Option(name: .customLong("output"), help: "Write the report to this file instead of standard output.") var outputFile: String?

    func validate() throws {
        if smtp != nil && to.isEmpty { throw ValidationError("--smtp needs at least one --to address") }
        if !to.isEmpty && smtp == nil { throw ValidationError("--to needs --smtp HOST:PORT to send through") }
        if smtp != nil && format != .email {
            throw ValidationError("--smtp sends the e-mail report; it contradicts --format \(format.rawValue)")
        }
        if let smtp, SMTPClient(address: smtp) == nil { throw ValidationError("--smtp '\(smtp)': expected HOST:PORT") }
        if history < 1 { throw ValidationError("--history must be at least 1") }
        if flakyTransitions < 2 { throw ValidationError("--flaky-transitions must be at least 2") }
        if minimumSamples < 2 { throw ValidationError("--minimum-samples must be at least 2") }
        for (name, value) in [
            ("--noise-factor", noiseFactor), ("--boot-time-percent", bootTimePercent), ("--energy-percent", energyPercent),
            ("--kernel-size-percent", kernelSizePercent),
        ] where !(value >= 0) || !value.isFinite {
            throw ValidationError("\(name) must be a non-negative number")
        }
    }

    func run() async throws {
        var settings = RegressionSettings()
        settings.historyRevisions = history
        settings.flakyTransitions = flakyTransitions
        settings.minimumSamples = minimumSamples
        settings.noiseFactor = noiseFactor
        settings.bootTimeRelative = bootTimePercent / 100
        settings.energyRelative = energyPercent / 100
        settings.kernelSizePercent = kernelSizePercent
        let results = try store.open()
        let report: RegressionReport
        do {
            report = try ReportBuilder(store: results, settings: settings).build(tree: tree, branch: branch, describe: revision)
        } catch let error as ReportError {
            throw CLIError.usage("\(error)")
        }
        let text: String
        switch format {
        case .text: text = TextReport.render(report)
        case .json: text = JSONReport.render(report)
        case .html: text = HTMLReport.render(report)
        case .markdown: text = MarkdownReport.render(report)
        case .atom: text = AtomFeed.render(report)
        case .email:
            let message = EmailMessage(report: report, from: from, to: to.isEmpty ? ["kernel-boot-reports@localhost"] : to)
            if let smtp, let client = SMTPClient(address: smtp) {
                do { try client.send(message) } catch { throw CLIError.infrastructure("\(error)", detail: "the report was not sent") }
                printError("sent \"\(message.subject)\" to \(to.joined(separator: ", ")) through \(smtp)")
                return
            }
            text = message.rendered
        }
        if let outputFile {
            do { try text.write(toFile: outputFile, atomically: true, encoding: .utf8) } catch {
                throw CLIError.usage("cannot write \(outputFile): \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
