import FarmCore
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Brings the files a job boots to local paths: local files are used in place, URLs are
/// downloaded once into a cache folder; checksums are verified when the job gives them.
public struct ArtifactCache: Sendable {
    /// The cache folder.
    public let folder: String
    /// The largest file downloaded, in bytes (default 512 MiB).
    public var maximumBytes: Int

    public init(folder: String, maximumBytes: Int = 512 << 20) {
        self.folder = folder
        self.maximumBytes = maximumBytes
    }

    /// The local path of `artifact`, downloading it if needed.
    public func localPath(for artifact: JobArtifact) async throws(JobError) -> String {
        if let path = artifact.localPath {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw .artifact(location: artifact.location, reason: "no such file")
            }
            if let expected = artifact.sha256 { try verify(path: path, expected: expected, location: artifact.location) }
            return path
        }
        let key = SHA256.hex(Array(artifact.location.utf8)).prefix(24)
        let name = URL(string: artifact.location)?.lastPathComponent ?? "file"
        let cached = (folder as NSString).appendingPathComponent("\(key)-\(name)")
        if FileManager.default.fileExists(atPath: cached) {
            // A cached file is reused only when it still matches (or nothing is promised).
            if let expected = artifact.sha256 {
                if (try? verify(path: cached, expected: expected, location: artifact.location)) != nil { return cached }
            } else {
                return cached
            }
        }
        guard let url = URL(string: artifact.location) else { throw .artifact(location: artifact.location, reason: "not a valid URL") }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(from: url)
        } catch {
            throw .artifact(location: artifact.location, reason: "download failed: \(error.localizedDescription)")
        }
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            throw .artifact(location: artifact.location, reason: "the server answered HTTP \(http.statusCode)")
        }
        guard data.count <= maximumBytes else {
            throw .artifact(location: artifact.location, reason: "\(data.count) bytes is over the limit of \(maximumBytes)")
        }
        if let expected = artifact.sha256 {
            let actual = SHA256.hex(data)
            guard actual == expected else {
                throw .artifact(location: artifact.location, reason: "SHA-256 is \(actual), the job expects \(expected)")
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let partial = cached + ".partial-\(getpid())"
            try data.write(to: URL(fileURLWithPath: partial))
            // Rename is atomic: a concurrent job never sees half a file.
            if rename(partial, cached) != 0 {
                throw JobError.artifact(location: artifact.location, reason: String(cString: strerror(errno)))
            }
        } catch {
            throw .artifact(location: artifact.location, reason: "cannot store it in \(folder): \(error)")
        }
        return cached
    }

    private func verify(path: String, expected: String, location: String) throws(JobError) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .artifact(location: location, reason: "cannot read \(path)") }
        defer { try? handle.close() }
        var hash = SHA256()
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            hash.update(chunk)
        }
        let actual = hash.finishHex()
        guard actual == expected else { throw .artifact(location: location, reason: "SHA-256 is \(actual), the job expects \(expected)") }
    }
}
