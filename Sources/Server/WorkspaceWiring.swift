import Assistant
import Foundation
import Index
import Inference

/// Builds the servers from the user's configuration the way the CLI's other commands build their parts
/// (`Workspace`), so `assist serve` and `assist mcp` are a few lines each.
///
/// Parts that are missing do not stop the servers: without the embedding model, embeddings are off and
/// search is keyword-only; without an index, `assist serve` has no search or ask. Each such gap comes back
/// as a notice for the CLI to print on stderr.
extension AssistServer {
    /// `assist serve`: chat with `chat_model` (and `extraModels`), embeddings with `embed_model`, search and
    /// ask over the index at `db`, listening on `host`/`port` or `serve_host`/`serve_port`.
    public static func make(
        workspace: Workspace, host: String? = nil, port: Int? = nil, extraModels: [String] = []
    ) async -> (server: AssistServer, notices: [String]) {
        var configuration = ServerConfiguration(workspace.config)
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        var notices: [String] = []
        let embedder = await loadEmbedder(workspace, notices: &notices)
        var store: IndexStore?
        do {
            store = try workspace.openStore(embedder: embedder, create: false)
        } catch {
            notices.append("search and ask are off: \(error)")
        }
        var ask: AskHandler?
        if let store { ask = workspaceAskHandler(workspace, store: store) }
        let server = AssistServer(
            configuration: configuration,
            generatorProvider: { name in try await workspace.makeGenerator(override: name) },
            models: [workspace.config.chatModel] + extraModels, embedder: embedder, retriever: store, ask: ask)
        return (server, notices)
    }
}

extension AssistMCPServer {
    /// `assist mcp`: the tools over the index at `db`, `ask` with `chat_model` (or `model`). Throws
    /// `StoreError.missingIndex` when there is no index yet (the tools would have nothing to read).
    public static func make(workspace: Workspace, model: String? = nil) async throws -> (
        server: AssistMCPServer, notices: [String]
    ) {
        var notices: [String] = []
        let embedder = await loadEmbedder(workspace, notices: &notices)
        let store = try workspace.openStore(embedder: embedder, create: false)
        let server = AssistMCPServer(
            library: store, chatModel: model ?? workspace.config.chatModel,
            generatorProvider: { name in try await workspace.makeGenerator(override: name) },
            ask: workspaceAskHandler(workspace, store: store, model: model))
        return (server, notices)
    }
}

/// The configured embedder, or nil with a notice saying what is off and how to fix it.
private func loadEmbedder(_ workspace: Workspace, notices: inout [String]) async -> (any Embedder)? {
    do {
        return try await workspace.makeEmbedder()
    } catch {
        notices.append(
            "embeddings are off and search is keyword-only: \(error) "
                + "(run `assist models pull \(workspace.config.embedModel)`)")
        return nil
    }
}

/// Answers with `Workspace.makeAsker`: the configured prompts, prompt budget and second look for `model`
/// (nil: `chat_model`), and the embedder as relevance judge.
private func workspaceAskHandler(_ workspace: Workspace, store: IndexStore, model: String? = nil) -> AskHandler {
    let options = workspace.askOptions(model: model)
    return { request, generator in
        workspace.makeAsker(store: store, generator: generator, options: request.options(options)).ask(request.question)
    }
}
