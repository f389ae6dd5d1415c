import ArgumentParser
import FarmCore
import FarmDrivers
import Foundation

extension LabCommand {
    /// `bootfarm lab discover`: the lab equipment plugged into this machine, each with the line
    /// to paste into a lab file.
    struct Discover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the USB serial adapters, relay boards and power meters attached here, with lab file match rules.",
            discussion: """
                Devices are listed with libudev when udevd runs, else read from /sys. Each comes with a \
                resource line that matches it by udev properties (USB serial number, or the physical \
                path ID_PATH when it has none), which stay the same when /dev names change.
                """)

        @Flag(help: "Print the devices as JSON.")
        var json = false

        @Option(
            name: .customLong("sysfs"),
            help: ArgumentHelp("Read the sysfs tree at ROOT instead (such as a copy of /sys).", valueName: "ROOT"))
        var sysfsRoot: String?

        func run() async throws {
            let discovery = sysfsRoot.map { DeviceDiscovery(method: .sysfs, sysfsRoot: $0) } ?? DeviceDiscovery.automatic()
            let report: DiscoveryReport
            do throws(DiscoveryError) {
                report = try discovery.discover()
            } catch {
                switch error {
                case .sysfsMissing:
                    throw CLIError.usage(error.description, detail: "give --sysfs the folder sysfs is mounted on, such as /sys")
                case .udevFailed:
                    throw CLIError.infrastructure(error.description, detail: "retry with: bootfarm lab discover --sysfs /sys")
                }
            }
            if json {
                print(JSONOutput.text(Self.jsonObject(report), pretty: true))
            } else {
                print(Self.text(report), terminator: "")
            }
        }

        /// How the devices were found, for the first line of the listing.
        static func methodLine(_ report: DiscoveryReport) -> String {
            switch report.method {
            case .sysfs:
                return
                    "Found by reading sysfs at \(report.sysfsRoot) (ID_* properties derived from sysfs attributes as udev would set them)."
            case .udev where report.udevdRunning:
                return "Found with libudev (udevd is running)."
            case .udev:
                return "Found with libudev (udevd is not running: ID_* properties derived from sysfs attributes as udev would set them)."
            }
        }

        /// The listing: a method line, then one section per kind found, each device on a line
        /// followed by its lab file line.
        static func text(_ report: DiscoveryReport) -> String {
            var text = methodLine(report) + "\n"
            if report.found.isEmpty {
                let seen = report.devices.count
                return text
                    + "No USB serial adapters, relay boards or power meters found (\(seen) device\(seen == 1 ? "" : "s") looked at).\n"
            }
            let titles: [DiscoveredDevice.Kind: String] = [
                .serialAdapter: "USB serial adapters", .relayBoard: "Relay boards", .powerMeter: "Power meters",
            ]
            for kind in DiscoveredDevice.Kind.allCases {
                let found = report.found(kind)
                if found.isEmpty { continue }
                text += "\n\(titles[kind] ?? kind.rawValue)\n"
                let nameWidth = found.map(\.name.count).max() ?? 0
                for item in found {
                    var line = item.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  \(item.model)"
                    if let channels = item.relayChannels { line += ", \(channels) channel\(channels == 1 ? "" : "s")" }
                    if item.kind != .powerMeter {
                        line += item.device.serialShort.map { "  serial \($0)" } ?? "  no serial number"
                    }
                    line += item.device.pathID.map { "  path \($0)" } ?? ""
                    text += line + "\n  \(item.labSnippet)\n"
                    if let note = item.note { text += "  note: \(note)\n" }
                }
            }
            return text
        }

        static func jsonObject(_ report: DiscoveryReport) -> [String: Any] {
            func optional(_ value: Any?) -> Any { value ?? NSNull() }
            let devices: [[String: Any]] = report.found.map { item in
                let device = item.device
                var match: [String: Any] = [:]
                for condition in item.match.conditions { match[condition.key] = condition.value }
                if !item.match.ancestorConditions.isEmpty {
                    var parent: [String: String] = [:]
                    for condition in item.match.ancestorConditions { parent[condition.key] = condition.value }
                    match["parent"] = parent
                }
                return [
                    "kind": item.kind.rawValue, "name": item.name, "model": item.model, "devnode": optional(device.devNode),
                    "subsystem": optional(device.subsystem), "devpath": device.devicePath, "id_path": optional(device.pathID),
                    "serial": optional(device.serialShort), "vendor_id": optional(device.vendorID), "model_id": optional(device.modelID),
                    "interface_number": optional(device.interfaceNumber), "driver": optional(device.nearestDriver),
                    "relay_channels": optional(item.relayChannels), "note": optional(item.note), "match": match,
                    "snippet": item.labSnippet, "properties": device.properties,
                ]
            }
            return [
                "method": report.method.rawValue, "sysfs_root": report.sysfsRoot, "udevd_running": report.udevdRunning,
                "devices_seen": report.devices.count, "devices": devices,
            ]
        }
    }
}
