import Assistant
import Foundation
import Inference
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback port nothing listens on: bound to learn a free number, then closed again.
func unusedLoopbackPort() throws -> Int {
    struct NoPort: Error {}
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw NoPort() }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { throw NoPort() }
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite struct ConfigBackendTests {
    @Test func modelNamesMayNameTheirBackend() {
        #expect(ModelChoice(parsing: "ollama:qwen2.5-coder:0.5b", defaultBackend: .builtin)
            == ModelChoice(backend: .ollama, model: "qwen2.5-coder:0.5b"))
        #expect(ModelChoice(parsing: "openai:local-model", defaultBackend: .ollama)
            == ModelChoice(backend: .openai, model: "local-model"))
        #expect(ModelChoice(parsing: "qwen2.5:0.5b", defaultBackend: .ollama) == ModelChoice(backend: .ollama, model: "qwen2.5:0.5b"))
        #expect(ModelChoice(parsing: "/models/x.gguf", defaultBackend: .builtin) == ModelChoice(backend: .builtin, model: "/models/x.gguf"))
        #expect(ModelChoice(parsing: "ollama:", defaultBackend: .builtin) == ModelChoice(backend: .builtin, model: "ollama:"))
    }

    @Test func theConfiguredBackendAndModelAreUsedUnlessOverridden() throws {
        let home = try TemporaryHome()
        let config = try home.loader(["ASSIST_CHAT_BACKEND": "ollama", "ASSIST_CHAT_MODEL": "llama3.2"]).load()
        #expect(config.chatChoice() == ModelChoice(backend: .ollama, model: "llama3.2"))
        #expect(config.chatChoice(override: "builtin:smollm2-135m") == ModelChoice(backend: .builtin, model: "smollm2-135m"))
        #expect(config.embedChoice() == ModelChoice(backend: .builtin, model: "minilm-l6-v2"))
    }

    @Test func builtinModelsAreNotConnectedHereAndADownServerIsNamed() async throws {
        let home = try TemporaryHome()
        let url = "http://127.0.0.1:\(try unusedLoopbackPort())"
        let config = try home.loader(["ASSIST_OLLAMA_URL": url]).load()
        #expect(try await config.connectRemoteGenerator(config.chatChoice()) == nil)
        #expect(try await config.connectRemoteEmbedder(config.embedChoice()) == nil)
        do {
            _ = try await config.connectRemoteGenerator(ModelChoice(backend: .ollama, model: "m"))
            Issue.record("connecting to a closed port succeeded")
        } catch let error as RemoteBackendError {
            #expect("\(error)".hasPrefix("cannot reach Ollama at \(url) — is `ollama serve` running?"))
        }
    }
}
