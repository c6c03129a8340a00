import Foundation
import Testing

@testable import Inference

/// Locates the MiniLM model and the reference fixtures for the embedding tests.
enum EmbeddingTestSupport {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The models folder, searched like the application does: `ASSIST_MODELS`, `$ASSIST_HOME/models`,
    /// `$XDG_DATA_HOME/assist/models`, `~/.local/share/assist/models`.
    static func modelsDirectory() -> URL {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["ASSIST_MODELS"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let home = env["ASSIST_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent("models")
        }
        if let data = env["XDG_DATA_HOME"], !data.isEmpty {
            return URL(fileURLWithPath: data).appendingPathComponent("assist/models")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/assist/models")
    }

    static func miniLMDirectory() throws -> URL {
        let dir = modelsDirectory().appendingPathComponent("minilm-l6-v2")
        let weights = dir.appendingPathComponent("model.safetensors").path
        try #require(
            FileManager.default.fileExists(atPath: weights),
            "MiniLM model missing at \(weights): run `assist models pull minilm-l6-v2` or set ASSIST_MODELS")
        return dir
    }

    /// `ASSIST_FIXTURES`, else `shared/fixtures` beside the package (or beside its worktree folder).
    static func fixturesDirectory() throws -> URL {
        let env = ProcessInfo.processInfo.environment
        var candidates: [URL] = []
        if let dir = env["ASSIST_FIXTURES"], !dir.isEmpty { candidates.append(URL(fileURLWithPath: dir)) }
        candidates.append(packageRoot.appendingPathComponent("../shared/fixtures").standardizedFileURL)
        candidates.append(packageRoot.appendingPathComponent("../../shared/fixtures").standardizedFileURL)
        let found = candidates.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("minilm-embeddings.json").path)
        }
        return try #require(found, "fixtures not found in \(candidates.map(\.path)); set ASSIST_FIXTURES")
    }

    struct FixtureCase: Decodable {
        let text: String
        let token_ids: [Int32]
        let embedding: [Float]
    }

    struct Fixture: Decodable {
        let model: String
        let cases: [FixtureCase]
    }

    static func miniLMFixture() throws -> Fixture {
        let url = try fixturesDirectory().appendingPathComponent("minilm-embeddings.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count else { return -2 }
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return dot / max(1e-30, (na * nb).squareRoot())
    }
}
