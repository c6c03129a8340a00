import Foundation
import Testing

/// `assist` needs no network: the whole pipeline runs with the network cut, and only the server and the
/// configured remote backends contain code that can open a socket at all.
@Suite struct OfflineTests {
    /// index (with MiniLM vectors) → ask (SmolLM2) → search, inside a network namespace with no interfaces up.
    @Test func indexAskAndSearchRunWithTheNetworkCut() throws {
        guard let cut = Namespaces.wrapper("-n") ?? Namespaces.wrapper("-rn") else {
            // Not a pass in disguise: say plainly that the environment forbids the check.
            print("OfflineTests: skipped — this machine does not allow `unshare -n` or `unshare -rn`")
            return
        }
        guard AssistCLI.modelsFolder != nil else {
            Issue.record("the real models are needed (smollm2-135m, minilm-l6-v2): set ASSIST_MODELS")
            return
        }
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        try scratch.write("notes/boat.md", text: "# Boat\n\nThe sailing boat is moored at pier 9 in Lisbon since May 2026.\n")
        let mbox = try scratch.write("mail/inbox.mbox", text: """
            From harbour@example.org Tue Mar  5 10:30:00 2026
            From: Harbour Office <harbour@example.org>
            Subject: Mooring fee
            Message-ID: <fee@example.org>
            Date: Tue, 5 Mar 2026 10:30:00 +0000

            The mooring fee for pier 9 is 240 euros per month, due on the first.

            """)
        // The cut is real: inside, the only network interface is the (down) loopback.
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: cut[0])
        probe.arguments = Array(cut.dropFirst())
            + ["/bin/sh", "-c", "test \"$(tail -n +3 /proc/self/net/dev | cut -d: -f1 | tr -d ' ')\" = lo"]
        try probe.run()
        probe.waitUntilExit()
        #expect(probe.terminationStatus == 0, "the namespace has interfaces other than loopback")

        let index = try cli.run(["index", "--json", "--db", scratch.db, scratch.path("notes"), mbox], wrapper: cut)
        #expect(index.status == 0, "\(index.summary)")
        #expect((try index.json()["embedded"] as? Int ?? 0) > 0, "vectors were computed offline")
        let search = try cli.run(["search", "--json", "--db", scratch.db, "where is the boat moored"], wrapper: cut)
        #expect(search.status == 0, "\(search.summary)")
        #expect((try search.json()["results"] as? [Any])?.isEmpty == false)
        let ask = try cli.run(
            ["ask", "--json", "--model", "smollm2-135m", "--db", scratch.db, "How much is the mooring fee?"], wrapper: cut)
        #expect(ask.status == 0, "\(ask.summary)")
        #expect((try ask.json()["answer"] as? String)?.isEmpty == false)
    }

    /// Every source file that can open a socket, resolve a name or link a networking library, with why it
    /// may. A new one fails this test until someone decides it belongs here.
    static let allowedNetworkCode: [String: String] = [
        "Sources/Inference/Remote/": "configured remote backends (Ollama, OpenAI-compatible), never used unless configured",
        "Sources/Assistant/Config/BackendChoice.swift": "connects the remote backends named in the config",
        "Sources/Server/": "`assist serve` (loopback unless a token is configured) and `assist mcp` (stdio)",
        "Sources/assist/ServerCommands.swift": "the serve and mcp commands",
    ]

    static let networkMarkers = [
        "URLSession", "URLRequest", "socket(", "getaddrinfo", "gethostbyname", "connect(", "import NIO",
        "import Hummingbird", "import MCP", "import FoundationNetworking", "import Network",
    ]

    @Test func onlyTheServerAndRemoteBackendsContainNetworkCode() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let sources = repository + "/Sources"
        let files = try #require(FileManager.default.enumerator(atPath: sources)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") || $0.hasSuffix(".c") || $0.hasSuffix(".h") || $0.hasSuffix(".inc") }
        #expect(files.count > 50, "the source tree was found at \(sources)")
        var networkFiles: [String] = []
        for file in files {
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            let hits = Self.networkMarkers.filter { text.contains($0) }
            guard !hits.isEmpty else { continue }
            let relative = "Sources/" + file
            networkFiles.append(relative)
            let allowed = Self.allowedNetworkCode.keys.contains { relative == $0 || ($0.hasSuffix("/") && relative.hasPrefix($0)) }
            #expect(allowed, "\(relative) uses \(hits) but is not one of the places allowed to reach the network")
        }
        #expect(networkFiles.contains { $0.hasPrefix("Sources/Server/") }, "the audit sees the server's network code")
    }
}
