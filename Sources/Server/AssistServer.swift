import Assistant
import Foundation
import Hummingbird
import HummingbirdCore
import Index
import Inference
import Logging
import NIOCore
import ServiceLifecycle

/// `assist serve`: an HTTP server speaking OpenAI's and Ollama's APIs over the user's local models, plus
/// `/v1/assist/search` and `/v1/assist/ask` over the user's index.
///
/// ```swift
/// let server = AssistServer(
///     configuration: ServerConfiguration(config), generatorProvider: { name in try loadModel(name) },
///     models: ["smollm2-135m"], embedder: embedder, retriever: store)
/// try await server.run { port in print("listening on http://127.0.0.1:\(port)") }   // until SIGINT/SIGTERM
/// ```
///
/// Each model is loaded by `generatorProvider` on its first request and kept; its generations run one at
/// a time in arrival order (others wait, up to `maxQueuedGenerations`, then get 503). See `RequestGuard`
/// for the token, Host and Origin rules, and `ServerConfiguration` for body size and idle limits.
public struct AssistServer: Sendable {
    /// Loads the chat model with a served name (called once per name), e.g. `Workspace.makeGenerator(override:)`.
    public typealias GeneratorProvider = @Sendable (String) async throws -> any TextGenerator

    public let configuration: ServerConfiguration
    let services: ServerServices

    /// - Parameters:
    ///   - models: served model names; the first is used when a request names none.
    ///   - embedder: answers `/v1/embeddings` and `/api/embed`; nil makes them 501.
    ///   - retriever: answers `/v1/assist/search`; nil makes it 501.
    ///   - ask: answers `/v1/assist/ask`; nil uses `standardAskHandler(retriever:)` when there is a retriever.
    public init(
        configuration: ServerConfiguration, generatorProvider: @escaping GeneratorProvider, models: [String],
        embedder: (any Embedder)?, retriever: (any Retriever)?, ask: AskHandler? = nil
    ) {
        self.configuration = configuration
        self.services = ServerServices(
            configuration: configuration,
            models: ModelPool(
                names: models, queueLimit: configuration.maxQueuedGenerations, provider: generatorProvider),
            embedder: embedder,
            embedGate: ExclusiveGate(limit: configuration.maxQueuedGenerations),
            retriever: retriever,
            ask: ask ?? retriever.map { standardAskHandler(retriever: $0) })
    }

    /// Serves until SIGINT or SIGTERM, then finishes open responses and returns.
    ///
    /// Throws `ServerError` before binding when the configuration is unsafe or invalid; `onListening`
    /// receives the bound port (useful with port 0).
    public func run(onListening: (@Sendable (Int) -> Void)? = nil) async throws {
        try validate()
        let application = makeApplication { port in onListening?(port) }
        let group = ServiceGroup(
            configuration: .init(
                services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: application.logger))
        try await group.run()
    }

    /// Starts serving in the background and returns once the port is bound (for tests and embedding).
    public func start() async throws -> RunningAssistServer {
        try validate()
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let application = makeApplication { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [application], logger: application.logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        for await port in ports {
            return RunningAssistServer(host: configuration.host, port: port, group: group, task: task)
        }
        do {
            try await task.value
        } catch {
            throw ServerError.didNotStart(String(describing: error))
        }
        throw ServerError.didNotStart("it stopped before listening")
    }

    private func validate() throws {
        try configuration.validate()
        guard !services.models.names.isEmpty else { throw ServerError.noModels }
    }

    func makeApplication(onListening: @escaping @Sendable (Int) -> Void) -> some ApplicationProtocol {
        let router = Router(context: AssistRequestContext.self)
        // Middleware first: it applies to the routes added after it, and to unknown paths.
        router.add(middleware: RequestGuard(token: configuration.token, maxBodyBytes: configuration.maxBodyBytes))
        OpenAIRoutes.add(to: router, services: services)
        OllamaRoutes.add(to: router, services: services)
        AssistRoutes.add(to: router, services: services)
        router.get("/") { _, _ in
            try JSONBody.response(["name": "assist", "status": "ok"])
        }

        var logger = Logger(label: "assist.serve") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = .notice
        let idle = TimeAmount.milliseconds(Int64(max(0.05, configuration.idleTimeoutSeconds) * 1000))
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "assist",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}

/// A server started with `AssistServer.start()`.
public struct RunningAssistServer: Sendable {
    public let host: String
    /// The bound port (the real one when the configuration asked for 0).
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, Error>

    /// `http://host:port`, with IPv6 hosts in brackets.
    public var baseURL: String {
        host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }

    /// Stops accepting connections, lets responses in progress finish, and waits until the server is down.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
