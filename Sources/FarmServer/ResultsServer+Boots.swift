import FarmCore
import FarmStore
import Hummingbird
import NIOCore

extension ResultsServer {
    /// `POST /api/v1/boots`: stores a JSON array of boot records in one transaction.
    func submitBoots(_ request: Request, context: some RequestContext) async throws -> Response {
        let caller = try Caller.identify(authorization: request.headers[.authorization], store: store)
        if caller == .anonymous {
            throw APIError.unauthorized(message: "submitting needs a token: send 'Authorization: Bearer TOKEN'")
        }
        // Refuse a declared oversize body before reading any of it.
        if let length = request.headers[.contentLength].flatMap(Int.init), length > settings.maximumBodyBytes {
            throw APIError.bodyTooLarge(limitBytes: settings.maximumBodyBytes)
        }
        var request = request
        let body = try await request.collectBody(upTo: settings.maximumBodyBytes)
        return try await offload { try storeSubmission(Array(buffer: body), caller: caller) }
    }

    /// Decodes and stores a submitted body for `caller`, refusing records of other labs.
    func storeSubmission(_ body: [UInt8], caller: Caller) throws -> Response {
        let boots = try BootSubmission.decode(body)
        for (index, boot) in boots.enumerated() {
            try caller.requireWrite(lab: boot.record.lab, what: "record [\(index)] (\(boot.record.id))")
        }
        // A lab may not take over another lab's stored boot by reusing its id.
        let storedLabs = try store.labs(ofBootIDs: boots.map(\.record.id))
        for (index, boot) in boots.enumerated() {
            if let stored = storedLabs[boot.record.id] {
                try caller.requireWrite(lab: stored, what: "stored boot \(boot.record.id) (record [\(index)])")
            }
        }
        try store.submit(boots)
        return JSONResponse.make(["stored": boots.count, "ids": boots.map(\.record.id)], status: .ok)
    }

    /// `GET /api/v1/boots`: a page of boots, newest first, with the cursor of the next page.
    func listBoots(_ request: Request) throws -> Response {
        _ = try reader(request)
        var query = BootQuery()
        for field in BootQuery.Field.allCases {
            if let value = try parameter(request, field.rawValue) { query.equal[field] = value }
        }
        if let status = query.equal[.status], BootStatus(rawValue: status) == nil {
            throw APIError.invalidField(field: "status", message: "expected one of pass, fail, error, canceled, found '\(status)'")
        }
        query.since = try timestamp(request, "since")
        query.until = try timestamp(request, "until")
        if let text = try parameter(request, "limit") {
            guard let limit = Int(text), (1...BootQuery.maximumLimit).contains(limit) else {
                throw APIError.invalidField(
                    field: "limit", message: "expected a whole number from 1 to \(BootQuery.maximumLimit), found '\(text)'")
            }
            query.limit = limit
        }
        if let text = try parameter(request, "cursor") {
            guard let cursor = BootCursor(token: text) else {
                throw APIError.invalidField(
                    field: "cursor", message: "not a cursor this server gave out; use 'next_cursor' of the previous page")
            }
            query.after = cursor
        }
        // The same page while the store is unchanged is answered as written before (dashboards
        // and scripts poll the newest page); `Cache-Control: no-cache` asks for a fresh one.
        let key = request.uri.description
        let stamp = try store.changeStamp()
        if !(request.headers[.cacheControl] ?? "").contains("no-cache"), let kept = answers.value(key, stamp: stamp) {
            return JSONResponse.text(kept, contentType: "application/json")
        }
        let page = try store.boots(query)
        // Each boot in the import format, written from its typed fields: a page can be posted
        // back as it is, and no dictionary of `Any` is built per field.
        var text = "{\"boots\":[" + page.boots.map { $0.jsonLine() }.joined(separator: ",") + "]"
        if let next = page.next { text += ",\"next_cursor\":\"\(next.token)\"" }
        text += "}\n"
        answers.keep(text, key: key, stamp: stamp)
        return JSONResponse.text(text, contentType: "application/json")
    }

    /// `GET /api/v1/boots/{id}`: one boot with its console log as text.
    func showBoot(_ request: Request, id: String) throws -> Response {
        _ = try reader(request)
        guard let record = try store.boot(id: id) else { throw APIError.notFound(message: "no boot '\(id)'") }
        var object = record.jsonObject
        object["log"] = try store.log(bootID: id).map { String(decoding: $0.bytes, as: UTF8.self) }
        return JSONResponse.make(object)
    }

    /// `DELETE /api/v1/boots/{id}`: removes a boot of the caller's lab (any boot for admin).
    func deleteBoot(_ request: Request, id: String) throws -> Response {
        let caller = try Caller.identify(authorization: request.headers[.authorization], store: store)
        guard let lab = try store.labs(ofBootIDs: [id])[id] else { throw APIError.notFound(message: "no boot '\(id)'") }
        try caller.requireWrite(lab: lab, what: "boot \(id)")
        _ = try store.deleteBoot(id: id)
        return JSONResponse.make(["deleted": id])
    }

    /// Query parameter `name` as a canonical UTC ISO-8601 time.
    func timestamp(_ request: Request, _ name: String) throws -> String? {
        guard let text = try parameter(request, name) else { return nil }
        guard let normalized = ISOTimestamp.normalize(text) else {
            throw APIError.invalidField(field: name, message: "expected an ISO-8601 time such as 2026-01-31T12:00:00Z, found '\(text)'")
        }
        return normalized
    }
}
