import Foundation
import Mustache

/// The dashboard's page templates (`web/templates/*.mustache`) and static files (`web/static`).
public struct WebAssets: Sendable {
    /// The parsed templates, by file name without extension.
    let library: MustacheLibrary
    /// The files of `web/static` by name, with their content types (files of other types, and
    /// hidden ones, are not served).
    let staticFiles: [String: (contentType: String, data: Data)]
    /// The `web` folder.
    public let directory: String

    /// A `web` folder that cannot be used.
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Templates every page needs; a folder without them is refused at start, not at the first request.
    static let requiredTemplates = ["header", "footer", "home", "revision", "boot", "board", "labs", "lab", "regressions", "error"]

    /// Loads the templates and checks that every page has one.
    public static func load(directory: String) async throws -> WebAssets {
        let templates = (directory as NSString).appendingPathComponent("templates")
        let library: MustacheLibrary
        do {
            library = try await MustacheLibrary(directory: templates)
        } catch let error as MustacheLibrary.ParserError {
            throw LoadError(
                description: "\(templates)/\(error.filename): line \(error.context.lineNumber), column \(error.context.columnNumber): "
                    + "\(error.error)")
        }
        let missing = requiredTemplates.filter { library.getTemplate(named: $0) == nil }
        guard missing.isEmpty else {
            throw LoadError(description: "\(templates): missing \(missing.map { "\($0).mustache" }.joined(separator: ", "))")
        }
        return WebAssets(
            library: library, staticFiles: staticFiles(in: (directory as NSString).appendingPathComponent("static")), directory: directory)
    }

    static let contentTypes = [
        "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
    ]

    /// The servable files directly in `folder`.
    static func staticFiles(in folder: String) -> [String: (contentType: String, data: Data)] {
        var files: [String: (contentType: String, data: Data)] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.first != "." {
            guard let type = contentTypes[(name as NSString).pathExtension],
                let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(name))
            else { continue }
            files[name] = (type, data)
        }
        return files
    }

    /// The `web` folder to use: `explicit` if given, else the first `web` folder with templates
    /// found beside the executable or above it (a build tree), else `./web`.
    public static func locate(explicit: String?, executable: String = CommandLine.arguments.first ?? "") -> String? {
        if let explicit { return explicit }
        var candidates: [URL] = []
        var folder = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(folder.appendingPathComponent("web"))
            candidates.append(folder.appendingPathComponent("share/bootfarm/web"))
            folder.deleteLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("web"))
        return candidates.map(\.path).first { FileManager.default.fileExists(atPath: "\($0)/templates/home.mustache") }
    }

    /// Renders page `template` with `context`; the header and footer partials read `title` and `crumbs`.
    func render(_ template: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: template) ?? ""
    }
}
