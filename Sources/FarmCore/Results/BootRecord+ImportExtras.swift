/// The parts of an imported record beyond the boot's own fields: its power trace and its tests.
///
/// `power`: `{"samples": [[t_ns, power_uw, voltage_uv, current_ua], …], "stage_energy_j":
/// {"kernel": 4.1, …}, "lost_samples": 0, "warnings": ["…"]}`: samples in time order, voltage
/// and current optional (null, or a pair `[t_ns, power_uw]`), every value a whole number.
/// `tests`: `[{"name": "…", "result": "pass" | "fail" | "skip", "measurement": 1.5, "units": "ms",
/// "output": "…"}, …]`.
extension BootRecord {
    static func decodePower(_ value: JSONValue, line: Int) throws(ImportError) -> BootPower? {
        if value == .null { return nil }
        guard case .object(let members) = value else {
            throw ImportError(line: line, field: "power", message: "expected an object, found \(value.kindName)")
        }
        var trace = PowerTrace()
        var stageEnergy: [Stage: Double] = [:]
        var lost = 0
        var warnings: [String] = []
        for (key, member) in members {
            let field = "power.\(key)"
            switch key {
            case "samples":
                guard case .array(let samples) = member else {
                    throw ImportError(line: line, field: field, message: "expected an array, found \(member.kindName)")
                }
                trace.reserveCapacity(samples.count)
                for (index, sample) in samples.enumerated() {
                    let decoded = try decodeSample(sample, line: line, field: "\(field)[\(index)]")
                    do {
                        try trace.append(decoded)
                    } catch {
                        throw ImportError(line: line, field: "\(field)[\(index)]", message: "\(error)")
                    }
                }
            case "stage_energy_j":
                guard case .object(let entries) = member else {
                    throw ImportError(line: line, field: field, message: "expected an object, found \(member.kindName)")
                }
                for (name, joules) in entries {
                    guard let stage = Stage(rawValue: name), case .number(let text) = joules, let value = Double(text), value >= 0 else {
                        throw ImportError(line: line, field: "\(field).\(name)", message: "expected a stage name with joules")
                    }
                    stageEnergy[stage] = value
                }
            case "lost_samples":
                guard case .number(let text) = member, let count = Int(text), count >= 0 else {
                    throw ImportError(line: line, field: field, message: "expected a whole number of samples")
                }
                lost = count
            case "warnings":
                guard case .array(let items) = member else {
                    throw ImportError(line: line, field: field, message: "expected an array of strings, found \(member.kindName)")
                }
                for item in items {
                    guard case .string(let text) = item else {
                        throw ImportError(line: line, field: field, message: "expected strings, found \(item.kindName)")
                    }
                    warnings.append(text)
                }
            default:
                throw ImportError(
                    line: line, field: field, message: "unknown field; expected samples, stage_energy_j, lost_samples, warnings")
            }
        }
        return BootPower(trace: trace, stageEnergyJoules: stageEnergy, lostSamples: lost, warnings: warnings)
    }

    private static func decodeSample(_ value: JSONValue, line: Int, field: String) throws(ImportError) -> PowerSample {
        guard case .array(let parts) = value, (2...4).contains(parts.count) else {
            throw ImportError(line: line, field: field, message: "expected [t_ns, power_uw, voltage_uv, current_ua]")
        }
        var numbers: [Int64?] = []
        for part in parts {
            switch part {
            case .null: numbers.append(nil)
            case .number(let text):
                guard let number = Int64(text) else {
                    throw ImportError(line: line, field: field, message: "expected whole numbers, found \(text)")
                }
                numbers.append(number)
            default:
                throw ImportError(line: line, field: field, message: "expected numbers, found \(part.kindName)")
            }
        }
        guard let time = numbers[0], let power = numbers[1] else {
            throw ImportError(line: line, field: field, message: "the time and the power must be numbers")
        }
        return PowerSample(
            timeNanoseconds: time, powerMicrowatts: power, voltageMicrovolts: numbers.count > 2 ? numbers[2] : nil,
            currentMicroamps: numbers.count > 3 ? numbers[3] : nil)
    }

    static func decodeTests(_ value: JSONValue, line: Int) throws(ImportError) -> [TestCase] {
        if value == .null { return [] }
        guard case .array(let items) = value else {
            throw ImportError(line: line, field: "tests", message: "expected an array, found \(value.kindName)")
        }
        var tests: [TestCase] = []
        for (index, item) in items.enumerated() {
            let field = "tests[\(index)]"
            guard case .object(let members) = item else {
                throw ImportError(line: line, field: field, message: "expected an object, found \(item.kindName)")
            }
            var test = TestCase(name: "", result: .skip)
            var sawResult = false
            for (key, member) in members {
                switch (key, member) {
                case ("name", .string(let text)) where !text.isEmpty: test.name = text
                case ("result", .string(let text)):
                    guard let result = TestResult(rawValue: text) else {
                        throw ImportError(line: line, field: "\(field).result", message: "expected pass, fail or skip, found '\(text)'")
                    }
                    test.result = result
                    sawResult = true
                case ("measurement", .number(let text)):
                    guard let number = Double(text), number.isFinite else {
                        throw ImportError(line: line, field: "\(field).measurement", message: "expected a number, found \(text)")
                    }
                    test.measurement = number
                case ("units", .string(let text)): test.units = text
                case ("output", .string(let text)): test.output = text
                case ("measurement", .null), ("units", .null): continue
                case ("name", _), ("result", _), ("measurement", _), ("units", _), ("output", _):
                    throw ImportError(line: line, field: "\(field).\(key)", message: "wrong type: \(member.kindName)")
                default:
                    throw ImportError(
                        line: line, field: "\(field).\(key)", message: "unknown field; expected name, result, measurement, units, output")
                }
            }
            if test.name.isEmpty { throw ImportError(line: line, field: "\(field).name", message: "missing (required)") }
            if !sawResult { throw ImportError(line: line, field: "\(field).result", message: "missing (required)") }
            tests.append(test)
        }
        return tests
    }

    /// `power` as the import format writes it.
    static func powerJSON(_ power: BootPower) -> String {
        var text = "{\"samples\":["
        for (index, sample) in power.trace.enumerated() {
            if index > 0 { text += "," }
            text += "[\(sample.timeNanoseconds),\(sample.powerMicrowatts)"
            if sample.voltageMicrovolts != nil || sample.currentMicroamps != nil {
                text += "," + (sample.voltageMicrovolts.map(String.init) ?? "null")
                text += "," + (sample.currentMicroamps.map(String.init) ?? "null")
            }
            text += "]"
        }
        text += "],\"stage_energy_j\":{"
        text += Stage.allCases.compactMap { stage in power.stageEnergyJoules[stage].map { "\"\(stage.rawValue)\":\(number($0))" } }
            .joined(separator: ",")
        text += "},\"lost_samples\":\(power.lostSamples),\"warnings\":["
        var first = true
        for warning in power.warnings {
            if !first { text += "," }
            first = false
            appendJSONString(warning, to: &text)
        }
        return text + "]}"
    }

    /// `tests` as the import format writes them.
    static func testsJSON(_ tests: [TestCase]) -> String {
        var text = "["
        for (index, test) in tests.enumerated() {
            if index > 0 { text += "," }
            text += "{\"name\":"
            appendJSONString(test.name, to: &text)
            text += ",\"result\":\"\(test.result.rawValue)\""
            if let measurement = test.measurement, measurement.isFinite { text += ",\"measurement\":\(number(measurement))" }
            if let units = test.units {
                text += ",\"units\":"
                appendJSONString(units, to: &text)
            }
            if !test.output.isEmpty {
                text += ",\"output\":"
                appendJSONString(test.output, to: &text)
            }
            text += "}"
        }
        return text + "]"
    }
}
