import ArgumentParser
import Assistant
import Foundation
import Server

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the models and your index over HTTP: OpenAI- and Ollama-compatible routes, loopback only by default.",
        discussion: """
            Routes: /v1/models, /v1/chat/completions, /v1/embeddings, /api/tags, /api/chat, /api/generate,
            /api/embed, /api/version, /v1/assist/search, /v1/assist/ask. Binding anything but loopback needs
            serve_token in the config; clients then send `Authorization: Bearer <token>`.

            Example:
              assist serve --port 11435 &
              curl -s localhost:11435/v1/assist/search -d '{"query":"launch venue"}'
            """
    )

    @Option(help: "Address to bind (default: serve_host, 127.0.0.1).") var host: String?
    @Option(help: "Port (default: serve_port, 11435).") var port: Int?
    @Option(help: "Index file (default: $ASSIST_HOME/index.sqlite).") var db: String?

    func run() async throws {
        var flags: [ConfigKey: String] = [:]
        if let db { flags[.db] = db }
        let workspace = try Workspace.load(flags: flags)
        let bindHost = host ?? workspace.config.serveHost
        let (server, notices) = await AssistServer.make(
            workspace: workspace, host: bindHost, port: port ?? workspace.config.servePort, extraModels: [])
        let terminal = Terminal()
        for notice in notices { terminal.err(terminal.styled("note: ", .yellow, stderr: true) + notice) }
        try await server.run { boundPort in
            terminal.err("listening on http://\(bindHost):\(boundPort)  (Ctrl-C to stop)")
        }
    }
}

struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Run an MCP server on stdio over your index (tools: search_notes_and_mail, ask, get_document, index_status).",
        discussion: """
            Add it to an MCP client's configuration as the command `assist mcp`.
            """
    )

    @Option(help: "Index file (default: $ASSIST_HOME/index.sqlite).") var db: String?
    @Option(help: "Chat model for the ask tool (default: chat_model from the config).") var model: String?

    func run() async throws {
        var flags: [ConfigKey: String] = [:]
        if let db { flags[.db] = db }
        let workspace = try Workspace.load(flags: flags)
        let (server, notices) = try await AssistMCPServer.make(workspace: workspace, model: model)
        // stdout carries the protocol: everything for people goes to stderr.
        for notice in notices { Terminal().err("assist mcp: \(notice)") }
        try await server.run()
    }
}
