import Foundation
import Testing

@testable import FarmCore

@Suite("Job files: decoding, validation against the lab, error positions")
struct JobSpecTests {
    static let lab = """
        name: job-lab
        board_types: boards
        boards:
          a1:
            type: qemu-arm64
            power: {kind: qemu}
            console: {kind: qemu-pty}
          a2:
            type: qemu-arm64
            power: {kind: qemu}
            console: {kind: qemu-pty}
          u1:
            type: qemu-arm64-uboot
            power: {kind: qemu}
            console: {kind: qemu-pty}
        """

    func setUp() throws -> (TemporaryLab, LabConfig) {
        let folder = try TemporaryLab()
        let file = folder.folder.appendingPathComponent("lab.yaml").path
        let lab = try LabConfig.decode(try ConfigNode.parse(Self.lab, file: file), file: file)
        for name in ["Image", "ramdisk.cpio.gz"] {
            try Data("x".utf8).write(to: folder.folder.appendingPathComponent(name))
        }
        return (folder, lab)
    }

    func decode(_ yaml: String, _ folder: TemporaryLab, _ lab: LabConfig) throws(ConfigError) -> JobSpec {
        let file = folder.folder.appendingPathComponent("job.yaml").path
        return try JobSpec.decode(try ConfigNode.parse(yaml, file: file), file: file, lab: lab)
    }

    @Test func aFullJobDecodesWithPathsRelativeToItsFile() throws {
        let (folder, lab) = try setUp()
        let spec = try decode(
            """
            board_type: qemu-arm64
            all_boards: true
            kernel: Image
            ramdisk: {path: ramdisk.cpio.gz, sha256: "\(String(repeating: "ab", count: 32))"}
            dtb: {url: "https://example.org/board.dtb"}
            prompt: "/ # "
            bootargs: quiet
            timeouts: {kernel: 30, userspace: 20}
            timeout_s: 120
            priority: 7
            retries: 1
            confirm_failures: 2
            revision: {tree: mainline, branch: master, commit: abc, describe: v6.1, commit_time: "2024-05-01T12:00:00Z"}
            build: {arch: arm64, defconfig: defconfig, compiler: gcc-12}
            tests:
              - {name: uname, command: uname -a}
              - {name: ls, command: "ls /", timeout_s: 5}
            """, folder, lab)
        #expect(spec.target == .boardType("qemu-arm64", allBoards: true))
        #expect(spec.kernel.location == folder.folder.appendingPathComponent("Image").standardized.path)
        #expect(spec.ramdisk?.sha256 == String(repeating: "ab", count: 32))
        #expect(spec.dtb?.isRemote == true)
        #expect(spec.stageTimeouts == [.kernel: 30, .userspace: 20])
        #expect(spec.timeoutSeconds == 120 && spec.priority == 7 && spec.retries == 1 && spec.confirmFailures == 2)
        #expect(spec.revision.describe == "v6.1" && spec.build.compiler == "gcc-12")
        #expect(
            spec.tests == [
                TestDefinition(name: "uname", command: "uname -a", timeoutSeconds: 60),
                TestDefinition(name: "ls", command: "ls /", timeoutSeconds: 5),
            ])
        // What the queue stores comes back the same.
        let copy = try JSONDecoder().decode(JobSpec.self, from: try JSONEncoder().encode(spec))
        #expect(copy == spec)
    }

    @Test func aBoardAndItsOwnTypeAgree() throws {
        let (folder, lab) = try setUp()
        let spec = try decode("board: u1\nboard_type: qemu-arm64-uboot\nkernel: Image\n", folder, lab)
        #expect(spec.target == .board("u1"))
    }

    @Test(arguments: [
        ("board: a1\nboard_type: qemu-arm64-uboot\nkernel: Image\n", 2, "board_type", "contradicts"),
        ("board_type: qemu-x86-uboot\nkernel: Image\n", 1, "board_type", "no board of type 'qemu-x86-uboot'"),
        ("board_type: nonsense\nkernel: Image\n", 1, "board_type", "no board of type"),
        ("board: z9\nkernel: Image\n", 1, "board", "no board 'z9'"),
        ("board_type: qemu-arm64\nkernel: missing-Image\n", 2, "kernel", "no such file"),
        ("board_type: qemu-arm64\nkernel: Image\ntimeout_s: -5\n", 3, "timeout_s", "positive"),
        ("board_type: qemu-arm64\nkernel: Image\ntimeouts: {kernel: 0}\n", 3, "timeouts.kernel", "positive"),
        ("board_type: qemu-arm64\nkernel: Image\ntimeouts: {boot: 5}\n", 3, "timeouts.boot", "unknown stage"),
        ("board_type: qemu-arm64\nkernel: Image\nretries: 11\n", 3, "retries", "0 to 10"),
        ("board_type: qemu-arm64\nkernel: {path: Image, sha256: abc}\n", 2, "kernel.sha256", "64 hexadecimal"),
        ("board_type: qemu-arm64\nkernel: ftp://host/Image\n", 2, "kernel", "unsupported URL scheme"),
        ("board: a1\nall_boards: true\nkernel: Image\n", 2, "all_boards", "needs board_type"),
        ("kernel: Image\n", 1, "", "names a 'board' or a 'board_type'"),
        ("board_type: qemu-arm64\nkernel: Image\ncolour: red\n", 3, "colour", "unknown key"),
        (
            "board_type: qemu-arm64\nkernel: Image\ntests:\n  - {name: a, command: x}\n  - {name: a, command: y}\n", 5, "tests.1.name",
            "two tests"
        ),
    ])
    func badJobFilesNameTheLineAndKey(yaml: String, line: Int, key: String, words: String) throws {
        let (folder, lab) = try setUp()
        let error = try #require(throws: ConfigError.self) { try decode(yaml, folder, lab) }
        #expect(error.line == line, "\(error)")
        #expect(error.key == key, "\(error)")
        #expect(error.message.contains(words), "\(error)")
        #expect(error.description.hasPrefix(folder.folder.appendingPathComponent("job.yaml").path + ":\(line)"))
    }
}

@Suite("SHA-256 against the standard's test vectors")
struct SHA256Tests {
    @Test func knownDigests() {
        #expect(SHA256.hex(Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func feedingInPiecesGivesTheSameDigest() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hash = SHA256()
        for start in stride(from: 0, to: bytes.count, by: 37) { hash.update(bytes[start..<min(bytes.count, start + 37)]) }
        #expect(hash.finishHex() == SHA256.hex(bytes))
    }
}
