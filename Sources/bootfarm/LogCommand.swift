import ArgumentParser
import FarmCore
import FarmDrivers
import Foundation

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Scan and analyze console logs with the same engine the boards use.",
        subcommands: [Scan.self, Analyze.self]
    )

    struct Scan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count pattern matches in a console log, splitting and timestamping lines as a live console does.")

        @Argument(help: "The log file (raw console bytes).")
        var file: String

        @Option(name: .customLong("pattern"), help: "A pattern (regular expression), repeatable.")
        var patterns: [String] = []

        @Flag(help: "Print the counts as JSON.")
        var json = false

        func validate() throws {
            if patterns.isEmpty { throw ValidationError("give at least one --pattern") }
        }

        func run() async throws {
            var compiled: [ConsolePattern] = []
            for pattern in patterns {
                do { compiled.append(try ConsolePattern.regex(pattern)) } catch { throw CLIError.usage("--pattern: \(error)") }
            }
            let descriptor = open(file, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw CLIError.usage("\(file): cannot open the log file: \(String(cString: strerror(errno)))")
            }
            defer { close(descriptor) }
            var transcript = ConsoleTranscript()
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
            transcript.reserveCapacity(size)
            var scanner = ConsoleScanner()
            var counts = Array(repeating: 0, count: compiled.count)
            var chunk = [UInt8](repeating: 0, count: 65536)
            let start = BootClock.monotonicNanoseconds()
            // Read as a console does: 64 KiB at a time, each chunk stamped on arrival and scanned.
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                chunk.withUnsafeBufferPointer { buffer in
                    transcript.append(UnsafeBufferPointer(rebasing: buffer[0..<count]), at: BootClock.monotonicNanoseconds() - start)
                }
                while let match = scanner.next(in: transcript, patterns: compiled) { counts[match.patternIndex] += 1 }
            }
            let seconds = Double(BootClock.monotonicNanoseconds() - start) / 1e9
            let megabytes = Double(transcript.bytes.count) / 1e6
            if json {
                let matches = Dictionary(uniqueKeysWithValues: zip(patterns, counts).map { ($0.0, $0.1) })
                print(
                    JSONOutput.text([
                        "bytes": transcript.bytes.count, "lines": transcript.lineCount, "seconds": seconds,
                        "megabytes_per_second": seconds > 0 ? megabytes / seconds : 0, "matches": matches,
                    ]))
                return
            }
            print(
                String(
                    format: "%d bytes, %d lines in %.3f s (%.1f MB/s)", transcript.bytes.count, transcript.lineCount, seconds,
                    seconds > 0 ? megabytes / seconds : 0))
            for (pattern, count) in zip(patterns, counts) { print("\(count)\t\(pattern)") }
        }
    }

    struct Analyze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report the stages, fatal events, warnings and boot time found in a console log.")

        @Argument(help: "The log file (raw console bytes).")
        var file: String

        @Flag(help: "Print the analysis as JSON.")
        var json = false

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError.usage("\(file): cannot read the log file")
            }
            var transcript = ConsoleTranscript()
            transcript.append(data, at: 0)
            var analyzer = LogAnalyzer()
            analyzer.consume(transcript, includingOpenLine: true)
            let analysis = analyzer.analysis
            func events(_ list: [KernelEvent]) -> [[String: Any]] {
                list.map { ["kind": $0.kind.rawValue, "line": $0.lineIndex + 1, "message": $0.message, "stage": $0.stage.rawValue] }
            }
            if json {
                var object: [String: Any] = [
                    "stage": analysis.stage.rawValue, "lines": transcript.lineCount,
                    "fatal_events": events(analysis.fatalEvents), "warnings": events(analysis.warnings),
                ]
                object["last_kernel_timestamp"] = analysis.lastKernelTimestamp
                object["kernel_version"] = analysis.kernelVersionLine
                object["bootloader"] = analysis.bootloaderBanner
                print(JSONOutput.text(object, pretty: true))
                return
            }
            print("stage reached: \(analysis.stage.rawValue)")
            if let banner = analysis.bootloaderBanner { print("bootloader: \(banner)") }
            if let version = analysis.kernelVersionLine { print("kernel: \(version)") }
            if let last = analysis.lastKernelTimestamp { print(String(format: "last kernel timestamp: %.6f s", last)) }
            print("warnings: \(analysis.warnings.count)")
            for event in analysis.fatalEvents {
                print("line \(event.lineIndex + 1): \(event.kind.rawValue) in \(event.stage.rawValue): \(event.message)")
            }
        }
    }
}
