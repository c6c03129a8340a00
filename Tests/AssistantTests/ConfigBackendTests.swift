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

    @Test func theSecondLookFollowsTheChatModelUnlessSet() throws {
        let home = try TemporaryHome()
        let unset = try home.loader(["ASSIST_CONTEXT_TOKENS": "3000"]).load()
        #expect(unset.secondLook == nil)
        let workspace = Workspace(config: unset)
        #expect(workspace.askOptions().secondLook, "the built-in default model gets a second look")
        #expect(workspace.askOptions().maxPromptTokens == 3000)
        #expect(!workspace.askOptions(model: "ollama:llama3.2").secondLook)
        #expect(!workspace.askOptions(model: "openai:local").secondLook)
        let remote = try home.loader(["ASSIST_CHAT_BACKEND": "ollama"]).load()
        #expect(!Workspace(config: remote).askOptions().secondLook)
        #expect(Workspace(config: remote).askOptions(model: "builtin:smollm2-135m").secondLook)

        // Set, it holds for every model: `true` in the file, `off` in the environment.
        try home.writeConfig("chat_backend = \"ollama\"\nsecond_look = true\n")
        let forced = try home.loader().resolve()
        #expect(forced.config.secondLook == true)
        #expect(forced.sources[.secondLook] == .file(path: home.configPath, line: 2))
        #expect(Workspace(config: forced.config).askOptions().secondLook)
        #expect(!Workspace(config: try home.loader(["ASSIST_SECOND_LOOK": "off"]).load()).askOptions().secondLook)

        try home.writeConfig("second_look = \"yes\"\n")
        #expect(throws: ConfigError.wrongType(key: .secondLook, source: .file(path: home.configPath, line: 1),
            expected: "true or false", found: "string")) { try home.loader().load() }
        try home.writeConfig("")
        #expect {
            try home.loader(["ASSIST_SECOND_LOOK": "maybe"]).load()
        } throws: { error in
            "\(error)".contains("ASSIST_SECOND_LOOK") && "\(error)".contains("true or false")
        }
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
