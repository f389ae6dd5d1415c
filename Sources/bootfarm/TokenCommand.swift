import ArgumentParser
import FarmCore
import FarmServer
import FarmStore
import Foundation

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage the results server's API tokens.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it once, as the last line of standard output.",
            discussion: "The store keeps only a SHA-256 hash of the token: it cannot be shown again, only revoked.")

        @Option(help: "Results store (SQLite file); default under the user's data directory.") var db: String?
        @Option(help: "The lab whose boots the token may submit and delete.") var lab: String?
        @Flag(help: "A token that may do anything.") var admin = false

        func validate() throws {
            if admin == (lab != nil) { throw ValidationError("give either --lab NAME or --admin") }
            if let lab, lab.isEmpty { throw ValidationError("--lab must not be empty") }
        }

        func run() async throws {
            let store = try openStore(db)
            let secret = APITokenSecret.generate()
            let token = try store.addToken(secretSHA256: secret.sha256, role: admin ? .admin : .lab, lab: lab)
            print("created token \(token.id) (\(admin ? "admin" : "lab \(lab ?? "")")) in \(store.path); it is shown only now:")
            print(secret.text)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

        @Option(help: "Results store (SQLite file); default under the user's data directory.") var db: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let tokens = try openStore(db).tokens()
            if json {
                print(
                    JSONOutput.text(
                        tokens.map { token -> [String: Any] in
                            var object: [String: Any] = ["id": token.id, "role": token.role.rawValue, "created_at": token.createdAt]
                            object["lab"] = token.lab
                            object["revoked_at"] = token.revokedAt
                            return object
                        }, pretty: true))
                return
            }
            for token in tokens {
                let scope = token.role == .admin ? "admin" : "lab \(token.lab ?? "")"
                print("\(String(token.id).leftPadded(4))  \(token.createdAt)  \(scope)\(token.revokedAt.map { "  revoked \($0)" } ?? "")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: the server refuses it from then on.")

        @Option(help: "Results store (SQLite file); default under the user's data directory.") var db: String?
        @Argument(help: "The token's id, as 'token list' shows it.") var id: Int

        func run() async throws {
            let store = try openStore(db)
            guard try store.revokeToken(id: id) else {
                throw CLIError.usage(
                    "no valid token \(id) in \(store.path)", detail: "list tokens with: bootfarm token list --db \(store.path)")
            }
            print("revoked token \(id)")
        }
    }
}
