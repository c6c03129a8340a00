import Assistant
import Foundation
import Index
import Inference
import MCP

/// `assist mcp`: a Model Context Protocol server on stdin/stdout over the user's index.
///
/// Tools: `search_notes_and_mail`, `ask`, `get_document`, `index_status` (see `MCPTools`). The chat model
/// is loaded on the first `ask`, not at start, so clients that only search start instantly; concurrent
/// `ask` calls run one at a time. Nothing but protocol messages is written to stdout.
///
/// ```swift
/// let store = try IndexStore(path: config.db, embedder: embedder, create: false)
/// try await AssistMCPServer(library: store, chatModel: config.chatModel, generatorProvider: { try loadModel($0) }).run()
/// ```
public struct AssistMCPServer: Sendable {
    public static let serverName = "assist"

    let tools: MCPTools
    let version: String

    /// - Parameters:
    ///   - chatModel: the model `ask` uses; nil (or no provider) makes `ask` answer with a tool error.
    ///   - generatorProvider: loads `chatModel`, once, on the first `ask`.
    ///   - ask: answers questions; nil uses `standardAskHandler(retriever: library)`.
    public init(
        library: any DocumentLibrary, chatModel: String?, generatorProvider: AssistServer.GeneratorProvider?,
        ask: AskHandler? = nil, version: String = "0.1.0"
    ) {
        var models: ModelPool?
        if let chatModel, let generatorProvider {
            // A waiting line as long as any client plausibly fills; beyond it, calls fail fast.
            models = ModelPool(names: [chatModel], queueLimit: 16, provider: generatorProvider)
        }
        self.tools = MCPTools(library: library, models: models, ask: ask ?? standardAskHandler(retriever: library))
        self.version = version
    }

    /// Serves on stdin/stdout until the client closes stdin.
    public func run() async throws {
        let server = await makeServer()
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
        await server.stop()
    }

    /// A configured MCP server, not yet started (tests start it on an in-memory transport).
    func makeServer() async -> MCP.Server {
        let server = MCP.Server(
            name: Self.serverName, version: version,
            instructions: "Search and cite the user's own Markdown notes and email. Use search_notes_and_mail "
                + "to find passages, get_document to read one in full, and ask for a cited answer.",
            capabilities: .init(tools: .init(listChanged: false)))
        let tools = self.tools
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: MCPTools.definitions)
        }
        await server.withMethodHandler(CallTool.self) { params in
            await tools.call(params.name, arguments: params.arguments ?? [:])
        }
        return server
    }
}
