import Assistant
import Foundation
import Server

// A stand-in for `assist mcp` used by the Server tests until the CLI runs AssistMCPServer itself:
// `assist-mcp-testhost --db PATH --models DIR` serves the index at PATH on stdin/stdout, wired exactly as
// `AssistMCPServer.make(workspace:)` wires it, with SmolLM2 and MiniLM from DIR and no config file.

func value(after flag: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

guard let db = value(after: "--db"), let models = value(after: "--models") else {
    FileHandle.standardError.write(Data("usage: assist-mcp-testhost --db PATH --models DIR\n".utf8))
    exit(2)
}

do {
    var environment = ProcessInfo.processInfo.environment
    // Flags and defaults only: no config file of the machine running the tests.
    environment["XDG_CONFIG_HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("assist-no-config").path
    let workspace = try Workspace.load(
        flags: [
            .db: db, .modelsDir: models, .chatBackend: "builtin", .chatModel: "smollm2-135m",
            .embedBackend: "builtin", .embedModel: "minilm-l6-v2",
        ],
        environment: environment)
    let (server, notices) = try await AssistMCPServer.make(workspace: workspace)
    for notice in notices { FileHandle.standardError.write(Data("assist-mcp-testhost: \(notice)\n".utf8)) }
    try await server.run()
} catch {
    FileHandle.standardError.write(Data("assist-mcp-testhost: \(error)\n".utf8))
    exit(1)
}
