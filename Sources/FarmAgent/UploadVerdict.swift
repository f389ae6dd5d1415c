import Foundation

/// What a results server's answer to an upload means for the boots sent: the one place HTTP
/// statuses become outbox decisions.
enum UploadVerdict: Sendable, Equatable {
    /// The server stored every boot of the request.
    case stored
    /// The server refused the request for what it carries (400, 403, 413 and other 4xx): some
    /// boot in it is at fault, or the request was too large.
    case refused(String)
    /// The server refused the token (401).
    case unauthorized(String)
    /// Nothing at that address takes uploads (404, 405): the URL is wrong.
    case wrongAddress(String)
    /// The server cannot take boots now (no answer, 5xx, 408, 429): try again later.
    case unavailable(String)

    /// The verdict on an HTTP answer with `status` and `body`.
    init(status: Int, body: Data) {
        let message = "HTTP \(status): \(Self.serverMessage(body))"
        switch status {
        case 200..<300: self = .stored
        case 401: self = .unauthorized(message)
        case 404, 405: self = .wrongAddress(message)
        case 408, 429: self = .unavailable(message)
        case 400..<500: self = .refused(message)
        default: self = .unavailable(message)
        }
    }

    /// The `error` of the server's JSON error body, or the start of the body as text.
    static func serverMessage(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let error = object["error"] as? String {
            return error
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "no message" : text.replacingOccurrences(of: "\n", with: " ")
    }
}
