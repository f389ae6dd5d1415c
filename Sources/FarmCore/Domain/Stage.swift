/// How far a boot got, in order.
public enum Stage: String, Sendable, Codable, CaseIterable, Comparable {
    /// The board is being powered (no console output yet).
    case power
    /// The bootloader is running (U-Boot banner seen, or being driven).
    case bootloader
    /// The kernel is running (`Linux version` seen).
    case kernel
    /// The kernel started the first user-space process (`Run /init`).
    case userspace
    /// The expected shell prompt appeared.
    case prompt
    /// Tests run after the prompt.
    case tests

    private var order: Int { Stage.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.order < rhs.order }
}
