import FarmCore

/// The secret half of an API token: what a client sends as `Authorization: Bearer …`.
///
/// Only `sha256` is ever stored, so a copy of the store does not let anyone submit results.
public struct APITokenSecret: Sendable, Equatable {
    /// The secret as clients send it: `bft_` and 64 hex digits (256 random bits).
    public let text: String

    public init(text: String) { self.text = text }

    /// A new secret from the system's random number generator.
    public static func generate() -> APITokenSecret {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let digits = Array("0123456789abcdef")
        return APITokenSecret(text: "bft_" + String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] }))
    }

    /// SHA-256 of the secret's UTF-8 bytes, in lower-case hex: what the store keeps.
    public var sha256: String { SHA256.hex(Array(text.utf8)) }
}
