import FarmCore
import Hummingbird
import NIOCore

/// Builds responses with bodies written by `JSONOutput`, the serialiser every bootfarm JSON output shares.
enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        text(JSONOutput.text(object) + "\n", contentType: "application/json", status: status)
    }

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
