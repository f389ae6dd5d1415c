import FarmCore
import FarmServer
import FarmStore
import Foundation
import Testing

/// The dashboard's pages on a live server over a store with two revisions, a power trace, a
/// panic and a console log full of markup and control bytes.
@Suite("Dashboard")
struct DashboardTests {
    static let hostileLog =
        "U-Boot 2023.01\r\n[    0.000000] Linux version 6.1.0\r\n[    0.100000] <script>alert('log')</script>\r\n"
        + "[    0.200000] \"><img src=x onerror=alert(1)>\r\n[    0.300000] \u{1B}[31mred\u{1B}[0m bell\u{07} nul\u{00} end\r\n"
        + "[    0.400000] WARNING: CPU: 0 PID: 1 at drivers/x.c:1 probe+0x1/0x2\r\n"
        + "[    0.500000] Kernel panic - not syncing: Attempted to kill init!\r\n"

    static func record(
        _ id: String, describe: String, board: String = "qemu-1", lab: String = "lab-a", status: BootStatus, time: String,
        bootTime: Double? = 3.2, energy: Double? = 9.5
    ) -> BootRecord {
        BootRecord(
            id: id, lab: lab, board: board, boardType: "qemu-arm64",
            revision: Revision(tree: "mainline", branch: "master", commit: "c-\(describe)", describe: describe),
            build: Build(arch: "arm64", defconfig: "defconfig", compiler: "gcc-12", kernelImageSizeBytes: 30_000_000),
            startedAt: time, finishedAt: time, status: status, stage: status == .pass ? .prompt : .userspace,
            reason: status == .pass ? "" : "Kernel panic - not syncing: Attempted to kill init!",
            bootTimeSeconds: status == .pass ? bootTime : nil,
            warnings: 1, stageTimes: [.power: 0, .bootloader: 0.2, .kernel: 1.5, .userspace: 2.8], energyJoules: energy,
            averagePowerWatts: 2.0, peakPowerWatts: 2.6)
    }

    /// Two revisions: v2 breaks qemu-1 (a panic), qemu-2 passes both; a board name with markup.
    static func populate(_ store: ResultStore) throws {
        var transcript = ConsoleTranscript()
        transcript.append(Array(hostileLog.utf8), at: 1_000_000)
        var trace = PowerTrace()
        for index in 0..<400 {
            try trace.append(PowerSample(timeNanoseconds: Int64(index) * 10_000_000, powerMicrowatts: index < 150 ? 1_500_000 : 2_500_000))
        }
        let power = BootPower(trace: trace, stageEnergyJoules: [.kernel: 4], lostSamples: 0, warnings: [])
        try store.insert(record("b-1", describe: "v1", status: .pass, time: "2026-11-01T10:00:00Z"))
        try store.insert(record("b-2", describe: "v1", board: "qemu-2", status: .pass, time: "2026-11-01T10:01:00Z"))
        try store.insert(record("b-3", describe: "v2", status: .fail, time: "2026-11-02T10:00:00Z"), log: transcript, power: power)
        try store.insert(record("b-4", describe: "v2", board: "qemu-2", status: .pass, time: "2026-11-02T10:01:00Z"))
        try store.insert(record("b-5", describe: "v2", board: "<b>odd</b>", lab: "lab&b", status: .pass, time: "2026-11-02T10:02:00Z"))
    }

    static func fixture() async throws -> ServerFixture {
        var fixture = try ServerFixture()
        try populate(fixture.store)
        fixture.web = try await WebAssets.load(directory: ServerFixture.webDirectory)
        return fixture
    }

    @Test("every page renders: revisions, regressions, a revision by arch and defconfig, a boot, a board, labs")
    func pagesRender() async throws {
        try await Self.fixture().run { client in
            let home = try await client.get("/")
            #expect(home.status == 200)
            #expect(home.text.contains("mainline / master"))
            #expect(home.text.contains("/revision?tree=mainline&amp;branch=master&amp;describe=v2"))
            #expect(home.text.contains("new failure"))

            let revision = try await client.get("/revision?tree=mainline&branch=master&describe=v2")
            #expect(revision.status == 200)
            #expect(revision.text.contains("<b>arm64</b>"))
            #expect(revision.text.contains("Boot regressions"))
            #expect(revision.text.contains("href=\"/boots/b-3\""))
            #expect(revision.text.contains("← older"))

            let boot = try await client.get("/boots/b-3")
            #expect(boot.status == 200)
            #expect(boot.text.contains("<svg class=\"chart\""))
            #expect(boot.text.contains("class=\"stage\""))
            #expect(boot.text.contains("href=\"#L7\""), "the panic line is linked from the top")
            #expect(boot.text.contains("id=\"L7\" class=\"line fatal\""))
            #expect(boot.text.contains("id=\"L6\" class=\"line warning\""))

            let board = try await client.get("/board?lab=lab-a&board=qemu-1")
            #expect(board.status == 200)
            #expect(board.text.contains("Boot time over the last boots"))
            #expect(board.text.contains("Energy per boot"))

            let labs = try await client.get("/labs")
            #expect(labs.text.contains("href=\"/labs/lab%26b\""))
            let lab = try await client.get("/labs/lab-a")
            #expect(lab.status == 200)
            #expect(lab.text.contains("qemu-2"))

            let filtered = try await client.get("/regressions?tree=mainline&branch=master&kind=fixed")
            #expect(filtered.status == 200)
            #expect(!filtered.text.contains("new failure"))
            let boots = try await client.get("/regressions?kind=boot")
            #expect(boots.text.contains("new failure"))
            #expect(try await client.get("/static/style.css").status == 200)
        }
    }

    @Test("a revision with many boots lists those that did not pass, and each group in full on request")
    func largeRevisionIsCondensed() async throws {
        let fixture = try await Self.fixture()
        for index in 0..<320 {
            let status: BootStatus = index % 100 == 7 ? .fail : .pass
            try fixture.store.insert(
                Self.record("many-\(index)", describe: "v3", board: "board-\(index)", status: status, time: "2026-11-03T10:00:00Z"))
        }
        try await fixture.run { client in
            let page = try await client.get("/revision?tree=mainline&branch=master&describe=v3")
            #expect(page.status == 200)
            #expect(page.text.contains("316 passing not listed"))
            #expect(page.text.contains("href=\"/boots/many-7\""))
            #expect(!page.text.contains("href=\"/boots/many-8\""))
            let group = try await client.get("/revision?tree=mainline&branch=master&describe=v3&arch=arm64&defconfig=defconfig")
            #expect(group.text.contains("href=\"/boots/many-8\""))
            #expect(group.text.contains("all groups"))
        }
    }

    @Test("a page rendered before is served again until the store changes, then rendered anew")
    func pagesAreKeptUntilTheStoreChanges() async throws {
        let fixture = try await Self.fixture()
        try await fixture.run { client in
            let uri = "/revision?tree=mainline&branch=master&describe=v2"
            let first = try await client.get(uri)
            #expect(try await client.get(uri).text == first.text, "the kept page is served")
            #expect(!first.text.contains("/boots/b-6"))
            try fixture.store.insert(Self.record("b-6", describe: "v2", board: "qemu-3", status: .pass, time: "2026-11-02T11:00:00Z"))
            let after = try await client.get(uri)
            #expect(after.text.contains("href=\"/boots/b-6\""), "a stale page was served after the store changed")
        }
    }

    @Test("console bytes and names are escaped: no markup, no control bytes reach the page")
    func escaping() async throws {
        try await Self.fixture().run { client in
            let boot = try await client.get("/boots/b-3")
            #expect(!boot.text.contains("<script>alert"))
            #expect(boot.text.contains("&lt;script&gt;alert(&#39;log&#39;)&lt;/script&gt;"))
            #expect(!boot.text.contains("<img src=x"))
            #expect(boot.text.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
            #expect(!boot.text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" })
            #expect(boot.text.contains("red bell nul end"))
            let revision = try await client.get("/revision?tree=mainline&branch=master&describe=v2")
            #expect(!revision.text.contains("<b>odd</b>"))
            #expect(revision.text.contains("&lt;b&gt;odd&lt;/b&gt;"))
            let raw = try await client.get("/boots/b-3/log")
            #expect(raw.text.contains("<script>"), "the raw log is plain text, byte for byte")
        }
    }

    @Test("filters with SQL metacharacters match nothing and change nothing")
    func sqlMetacharacters() async throws {
        let fixture = try await Self.fixture()
        try await fixture.run { client in
            let quote = "x'%20OR%20'1'='1"
            #expect(try await client.get("/regressions?tree=\(quote)").text.contains("Nothing matches"))
            #expect(try await client.get("/board?lab=\(quote)&board=b%22;DROP%20TABLE%20boots;--").status == 404)
            let list = try await client.get("/api/v1/boots?board=\(quote)")
            #expect(list.status == 200)
            #expect(list.text.contains("\"boots\":[]"))
            #expect(try await client.get("/revision?tree=mainline&branch=master&describe=v2'--").status == 404)
        }
        #expect(try fixture.store.count() == 5)
    }

    @Test("unknown pages, boots and filters answer with an HTML error page that says what is wrong")
    func errors() async throws {
        try await Self.fixture().run { client in
            let missing = try await client.get("/boots/nope")
            #expect(missing.status == 404)
            #expect(missing.text.contains("no boot &#39;nope&#39;"))
            let kind = try await client.get("/regressions?kind=bogus")
            #expect(kind.status == 400)
            #expect(kind.text.contains("kind: expected one of"))
            #expect(try await client.get("/revision").status == 400)
            #expect(try await client.get("/static/..%2Fboot.mustache").status == 404)
            #expect(try await client.get("/static/.hidden.css").status == 404)
        }
    }

    @Test("templates that do not parse or are missing are refused at load, naming the file")
    func badTemplates() async throws {
        let folder = NSTemporaryDirectory() + "bootfarm-web-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/templates", withIntermediateDirectories: true)
        try "{{#open}}never closed".write(toFile: folder + "/templates/home.mustache", atomically: true, encoding: .utf8)
        await #expect { try await WebAssets.load(directory: folder) } throws: { "\($0)".contains("home.mustache") }
        try "fine".write(toFile: folder + "/templates/home.mustache", atomically: true, encoding: .utf8)
        await #expect { try await WebAssets.load(directory: folder) } throws: { "\($0)".contains("missing header.mustache") }
    }

    @Test("headless Chromium shows every page without errors, and the screenshots are not blank")
    func browserScreenshots() async throws {
        let output = NSTemporaryDirectory() + "bootfarm-shots-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: output) }
        try await Self.fixture().run { client in
            let script = URL(fileURLWithPath: ServerFixture.webDirectory).deletingLastPathComponent().appendingPathComponent(
                "scripts/screenshots"
            ).path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, "--base", client.base, "--out", output, "--boot", "b-3"]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(message)")
        }
        for page in ["home", "regressions", "labs", "revision", "boot", "board", "lab"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: "\(output)/\(page).png")[.size] as? Int) ?? 0
            #expect(size > 5000, "\(page).png is \(size) bytes")
        }
    }
}
