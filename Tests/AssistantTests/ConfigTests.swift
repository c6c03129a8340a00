import Assistant
import Foundation
import Testing

/// A throwaway home directory with a config file path under it, removed when the test ends.
struct TemporaryHome: ~Copyable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "assist-config-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    var configPath: String { path + "/.config/assist/config.toml" }

    func writeConfig(_ text: String) throws {
        try FileManager.default.createDirectory(
            atPath: path + "/.config/assist", withIntermediateDirectories: true)
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func readConfig() throws -> String { try String(contentsOfFile: configPath, encoding: .utf8) }

    func loader(_ extra: [String: String] = [:], flags: [ConfigKey: String] = [:]) -> ConfigLoader {
        ConfigLoader(environment: ["HOME": path].merging(extra) { $1 }, flags: flags, currentDirectory: "/work/here")
    }
}

@Suite struct ConfigTests {
    @Test func defaultsFollowTheDataDirectoryConventions() throws {
        let home = try TemporaryHome()
        let loader = home.loader()
        #expect(loader.path == home.path + "/.config/assist/config.toml")
        let loaded = try loader.resolve()
        let config = loaded.config
        #expect(!loaded.fileExists)
        #expect(config.home == home.path + "/.local/share/assist")
        #expect(config.modelsDir == config.home + "/models")
        #expect(config.db == config.home + "/index.sqlite")
        #expect(config.logsDirectory == config.home + "/logs")
        #expect(config.chatBackend == .builtin)
        #expect(config.chatModel == "qwen2.5-coder-0.5b")
        #expect(config.embedBackend == .builtin)
        #expect(config.embedModel == "minilm-l6-v2")
        #expect(config.ollamaURL == "http://127.0.0.1:11434")
        #expect(config.openaiURL == "http://127.0.0.1:1234/v1")
        #expect(config.openaiAPIKey == nil && config.userEmail == nil && config.serveToken == nil)
        #expect(config.serveHost == "127.0.0.1" && config.servePort == 11435)
        #expect(config.threads >= 1 && config.contextTokens == 1000)
        #expect(loaded.sources[.db] == .derived(from: .home))
        #expect(loaded.sources[.chatModel] == .defaultValue)
    }

    @Test func xdgDirectoriesAreHonoured() throws {
        let home = try TemporaryHome()
        let loader = home.loader(["XDG_CONFIG_HOME": home.path + "/cfg", "XDG_DATA_HOME": home.path + "/data"])
        #expect(loader.path == home.path + "/cfg/assist/config.toml")
        #expect(try loader.load().home == home.path + "/data/assist")
        // A relative XDG variable is invalid by the spec and ignored.
        #expect(home.loader(["XDG_CONFIG_HOME": "cfg"]).path == home.configPath)
    }

    @Test func flagsBeatEnvironmentBeatFileBeatDefaults() throws {
        let home = try TemporaryHome()
        try home.writeConfig(
            """
            # my settings
            chat_backend = "ollama"
            chat_model = "file-model"
            embed_model = "file-embed"
            threads = 3
            home = "~/assist-data"
            """)
        let loader = home.loader(
            ["ASSIST_CHAT_MODEL": "env-model", "ASSIST_EMBED_MODEL": "env-embed", "ASSIST_MODELS": "/models/here",
             "ASSIST_CONTEXT_TOKENS": "4096"],
            flags: [.chatModel: "flag-model"])
        let loaded = try loader.resolve()
        #expect(loaded.config.chatModel == "flag-model")
        #expect(loaded.sources[.chatModel] == .flag)
        #expect(loaded.config.embedModel == "env-embed")
        #expect(loaded.sources[.embedModel] == .environment(variable: "ASSIST_EMBED_MODEL"))
        #expect(loaded.config.chatBackend == .ollama)
        #expect(loaded.sources[.chatBackend] == .file(path: home.configPath, line: 2))
        #expect(loaded.config.threads == 3)
        #expect(loaded.config.contextTokens == 4096)
        #expect(loaded.config.home == home.path + "/assist-data")
        #expect(loaded.config.db == home.path + "/assist-data/index.sqlite")
        #expect(loaded.config.modelsDir == "/models/here")
        #expect(loaded.sources[.modelsDir] == .environment(variable: "ASSIST_MODELS"))

        // ASSIST_HOME moves the derived defaults; relative environment paths start at the current directory.
        let moved = try home.loader(["ASSIST_HOME": "data", "ASSIST_MODELS_DIR": "/m"]).load()
        #expect(moved.home == "/work/here/data")
        #expect(moved.db == "/work/here/data/index.sqlite")
        #expect(moved.modelsDir == "/m")
    }

    @Test func aSyntaxErrorNamesTheFileAndLine() throws {
        let home = try TemporaryHome()
        try home.writeConfig("chat_model = \"a\"\n\nthreads = = 4\n")
        #expect {
            try home.loader().load()
        } throws: { error in
            guard case .syntax(let path, let line, _, _) = error as? ConfigError else { return false }
            return path == home.configPath && line == 3
                && "\(error)".hasPrefix("\(home.configPath):3:")
        }
    }

    @Test func anUnknownKeyIsRefusedWithASuggestion() throws {
        let home = try TemporaryHome()
        try home.writeConfig("threads = 2\nchat_modle = \"x\"\n")
        #expect(throws: ConfigError.unknownKey(key: "chat_modle", source: .file(path: home.configPath, line: 2),
            suggestion: .chatModel)) { try home.loader().load() }

        try home.writeConfig("[chat]\nmodel = \"x\"\n")
        do {
            _ = try home.loader().load()
            Issue.record("a [chat] section was accepted")
        } catch let error as ConfigError {
            #expect("\(error)".contains("unknown setting 'chat'"))
            #expect("\(error)".contains("no [sections]"))
        }
    }

    @Test func wrongTypesAndBadValuesNameTheKeyAndLine() throws {
        let home = try TemporaryHome()
        try home.writeConfig("threads = \"four\"\n")
        #expect(throws: ConfigError.wrongType(key: .threads, source: .file(path: home.configPath, line: 1),
            expected: "a whole number", found: "string")) { try home.loader().load() }

        try home.writeConfig("\nchat_backend = \"olama\"\n")
        do {
            _ = try home.loader().load()
            Issue.record("a misspelt backend was accepted")
        } catch let error as ConfigError {
            guard case .invalidValue(.chatBackend, "olama", .file(_, 2), _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect("\(error)".contains("one of builtin, ollama, openai"))
        }

        try home.writeConfig("db = \"relative/index.sqlite\"\n")
        #expect(throws: ConfigError.self) { try home.loader().load() }

        try home.writeConfig("")
        #expect {
            try home.loader(["ASSIST_SERVE_PORT": "70000"]).load()
        } throws: { error in
            "\(error)".contains("environment ASSIST_SERVE_PORT") && "\(error)".contains("serve_port")
        }
        #expect(throws: ConfigError.self) { try home.loader(["ASSIST_OLLAMA_URL": "localhost:11434"]).load() }
        #expect(throws: ConfigError.self) { try home.loader(["ASSIST_USER_EMAIL": "not an address"]).load() }
    }

    @Test func setWritesAPrivateFileAtomicallyAndKeepsComments() throws {
        let home = try TemporaryHome()
        let loader = home.loader()
        let message = try loader.set("chat_backend", "ollama")
        #expect(message.contains(home.configPath))
        #expect(try home.readConfig() == "chat_backend = \"ollama\"\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: home.configPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        try home.writeConfig("# my notes about models\nchat_model = \"old\"   # trailing\nthreads = 2\n")
        try loader.set("chat_model", "new \"quoted\" \\ name")
        try loader.set("serve_port", "8080")
        #expect(try home.readConfig() == """
            # my notes about models
            chat_model = "new \\"quoted\\" \\\\ name"
            threads = 2
            serve_port = 8080

            """)
        let config = try loader.load()
        #expect(config.chatModel == "new \"quoted\" \\ name")
        #expect(config.servePort == 8080)
        #expect(config.threads == 2)
        #expect(((try FileManager.default.attributesOfItem(atPath: home.configPath))[.posixPermissions] as? NSNumber)?
            .intValue == 0o600)
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.path + "/.config/assist") == ["config.toml"])
    }

    @Test func setRefusesBadKeysAndValuesWithoutTouchingTheFile() throws {
        let home = try TemporaryHome()
        try home.writeConfig("threads = 2\n")
        let loader = home.loader()
        #expect(throws: ConfigError.unknownKey(key: "chat-model", source: .setCommand, suggestion: .chatModel)) {
            try loader.set("chat-model", "x")
        }
        #expect(throws: ConfigError.self) { try loader.set("threads", "0") }
        #expect(throws: ConfigError.self) { try loader.set("chat_backend", "gpt") }
        #expect(throws: ConfigError.self) { try loader.set("chat_model", "two\nlines") }
        #expect(try home.readConfig() == "threads = 2\n")
    }

    @Test func setResolvesRelativePathsAndWarnsAboutOverrides() throws {
        let home = try TemporaryHome()
        let loader = home.loader(["ASSIST_CHAT_MODEL": "from-env"])
        try loader.set("db", "sub/index.sqlite")
        #expect(try loader.load().db == "/work/here/sub/index.sqlite")
        let message = try loader.set("chat_model", "from-file")
        #expect(message.contains("ASSIST_CHAT_MODEL is set in the environment"))
        #expect(try loader.load().chatModel == "from-env")
        #expect(try home.loader().load().chatModel == "from-file")
        try loader.unset("chat_model")
        #expect(try home.loader().load().chatModel == "qwen2.5-coder-0.5b")
        #expect(try !home.readConfig().contains("chat_model"))
    }

    @Test func setRewritesAValueSpreadOverSeveralLines() throws {
        let home = try TemporaryHome()
        // A TOML multi-line string whose value is one line ("qwen-coder"): the line edit alone would break it.
        try home.writeConfig("chat_model = \"\"\"\nqwen\\\n   -coder\"\"\"\nthreads = 2\n")
        #expect(try home.loader().load().chatModel == "qwen-coder")
        try home.loader().set("chat_model", "single")
        let config = try home.loader().load()
        #expect(config.chatModel == "single")
        #expect(config.threads == 2)
    }

    @Test func showExplainsEachValueAndHidesSecrets() throws {
        let home = try TemporaryHome()
        try home.writeConfig("chat_backend = \"openai\"\nopenai_api_key = \"sk-very-secret\"\n")
        let shown = try home.loader(["ASSIST_THREADS": "6"]).show()
        #expect(shown.contains("# file: \(home.configPath)\n"))
        #expect(shown.contains("chat_backend = \"openai\""))
        #expect(shown.contains("# \(home.configPath):1"))
        #expect(shown.contains("threads = 6"))
        #expect(shown.contains("# environment ASSIST_THREADS"))
        #expect(shown.contains("openai_api_key = \"********\""))
        #expect(!shown.contains("sk-very-secret"))
        #expect(shown.contains("# user_email is not set"))
        #expect(shown.contains("db = \"\(home.path)/.local/share/assist/index.sqlite\""))
    }

    @Test func showPrintsTOMLThatLoadsBackToTheSameConfiguration() throws {
        let home = try TemporaryHome()
        let loader = home.loader(["ASSIST_CHAT_BACKEND": "ollama", "ASSIST_USER_EMAIL": "me@example.org", "ASSIST_SECOND_LOOK": "no"])
        let expected = try loader.load()
        try home.writeConfig(try loader.show())
        let reloaded = try home.loader().resolve()
        #expect(reloaded.config == expected)
        #expect(reloaded.sources[.chatBackend] == .file(path: home.configPath, line: 8))
    }

    @Test func configRoundTripsThroughCodableWithSnakeCaseKeys() throws {
        let home = try TemporaryHome()
        let config = try home.loader().load()
        let json = try JSONEncoder().encode(config)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["chat_backend"] as? String == "builtin")
        #expect(object["serve_port"] as? Int == 11435)
        #expect(try JSONDecoder().decode(AssistConfig.self, from: json) == config)
    }
}
