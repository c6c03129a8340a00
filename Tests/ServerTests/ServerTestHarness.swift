import Assistant
import Foundation
import Index
import Inference
import Ingest
import Testing

@testable import Server

/// Starts a server on 127.0.0.1 with a free port for one test and always stops it afterwards.
func withServer<T>(
    configuration: ServerConfiguration = ServerConfiguration(host: "127.0.0.1", port: 0),
    models: [String] = [TestModels.chatModelName],
    generator: @escaping AssistServer.GeneratorProvider = { _ in try TestModels.chatGenerator() },
    embedder: (any Embedder)? = nil, retriever: (any Retriever)? = nil,
    _ body: (RunningAssistServer, HTTPClient) async throws -> T
) async throws -> T {
    let server = AssistServer(
        configuration: configuration, generatorProvider: generator, models: models, embedder: embedder,
        retriever: retriever)
    let running = try await server.start()
    let client = HTTPClient(base: running.baseURL, token: configuration.token)
    do {
        let value = try await body(running, client)
        await running.stop()
        return value
    } catch {
        await running.stop()
        throw error
    }
}

/// A small real index: three notes and a two-message mbox, embedded with MiniLM.
func makeIndex(in scratch: Scratch) throws -> IndexStore {
    try scratch.write(
        "notes/garden.md",
        """
        ---
        title: Garden plan
        tags: [garden]
        date: 2026-03-01
        ---

        # Garden plan

        ## Tomatoes
        Plant the tomato seedlings in the raised bed by the south fence in early May.
        Water them every second morning.

        ## Herbs
        Basil goes next to the tomatoes; rosemary stays in the clay pot.
        """)
    try scratch.write(
        "notes/bike.md",
        """
        ---
        title: Bike maintenance
        date: 2026-02-10
        ---

        # Bike maintenance

        The rear brake pads were replaced on 2026-02-10. Chain oil: every 300 km.
        """)
    try scratch.write(
        "notes/recipes.md",
        """
        # Pancakes

        Two eggs, 250 ml milk, 120 g flour, a pinch of salt. Rest the batter for 20 minutes.
        """)
    try scratch.write(
        "mail/inbox.mbox",
        """
        From ana@example.org Tue Mar  3 10:00:00 2026
        From: Ana Silva <ana@example.org>
        To: dana@example.org
        Subject: Venue for the spring meetup
        Date: Tue, 03 Mar 2026 10:00:00 +0000
        Message-ID: <venue-1@example.org>
        Content-Type: text/plain; charset=utf-8

        The spring meetup will be held at the Old Library hall on April 18th, starting at 6 pm.

        From bo@example.org Wed Mar  4 09:00:00 2026
        From: Bo Chen <bo@example.org>
        To: dana@example.org
        Subject: Re: Venue for the spring meetup
        Date: Wed, 04 Mar 2026 09:00:00 +0000
        Message-ID: <venue-2@example.org>
        In-Reply-To: <venue-1@example.org>
        References: <venue-1@example.org>
        Content-Type: text/plain; charset=utf-8

        Great, I will bring the projector and the extension cords.

        """)
    let embedder = try TestModels.embedder()
    let store = try IndexStore(path: scratch.path("db/index.sqlite"), embedder: embedder)
    let report = try store.sync(
        [scratch.path("notes"), scratch.path("mail/inbox.mbox")], options: SyncOptions(tokenCounter: EmbedderTokens(embedder: embedder)))
    guard report.failed.isEmpty, report.added == 5 else {
        throw Unexpected("indexing the test corpus failed: \(report)")
    }
    return store
}

/// The embedder's own token count, so chunks fit MiniLM's window.
struct EmbedderTokens: TokenCounting {
    let embedder: any Embedder
    func countTokens(_ text: String) -> Int { embedder.countTokens(text) }
}

/// All server tests, one at a time: they share one loaded model, and on a two-core machine parallel
/// generations would only slow each other down.
@Suite(.serialized)
enum ServerSuite {}
