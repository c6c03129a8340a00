import Foundation
import TOMLKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A resolved configuration together with where each value came from.
public struct LoadedConfig: Sendable, Equatable {
    public var config: AssistConfig
    public var sources: [ConfigKey: ConfigSource]
    /// The config file that was (or would be) read.
    public var filePath: String
    public var fileExists: Bool
}

/// Reads, explains and edits the configuration (see `AssistConfig` for the file format).
///
/// Precedence, highest first: `flags` (what the command line gave), environment variables
/// (`ASSIST_<KEY>`), the file, defaults. The environment is injected so tests and embedders can control it.
public struct ConfigLoader: Sendable {
    public var environment: [String: String]
    public var flags: [ConfigKey: String]
    /// Relative paths in flags and environment variables are taken from here.
    public var currentDirectory: String

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, flags: [ConfigKey: String] = [:],
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.environment = environment
        self.flags = flags
        self.currentDirectory = currentDirectory
    }

    /// Loads the configuration in effect for `environment` (and `flags`).
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment, fileManager: FileManager = .default,
        flags: [ConfigKey: String] = [:]
    ) throws -> AssistConfig {
        try ConfigLoader(environment: environment, flags: flags).load(fileManager: fileManager)
    }

    /// The user's home directory: `$HOME`, else what the system says.
    public var homeDirectory: String {
        if let home = environment["HOME"], home.hasPrefix("/") { return home }
        return NSHomeDirectory()
    }

    /// The config file: `$XDG_CONFIG_HOME/assist/config.toml`, else `~/.config/assist/config.toml`.
    public var path: String {
        if let base = environment["XDG_CONFIG_HOME"], base.hasPrefix("/") { return base + "/assist/config.toml" }
        return homeDirectory + "/.config/assist/config.toml"
    }

    /// The default data directory: `$XDG_DATA_HOME/assist`, else `~/.local/share/assist`.
    var defaultHome: String {
        if let base = environment["XDG_DATA_HOME"], base.hasPrefix("/") { return base + "/assist" }
        return homeDirectory + "/.local/share/assist"
    }

    public func load(fileManager: FileManager = .default) throws -> AssistConfig {
        try resolve(fileManager: fileManager).config
    }

    /// Every key's value and the place it came from.
    public func resolve(fileManager: FileManager = .default) throws -> LoadedConfig {
        let fileText = try readFile(fileManager: fileManager)
        let fileValues = try fileText.map { try parseFile($0) } ?? [:]
        var values: [ConfigKey: ConfigValue] = [:]
        var sources: [ConfigKey: ConfigSource] = [:]

        // `home` first: the defaults of `models_dir` and `db` live under it.
        for key in [ConfigKey.home] + ConfigKey.allCases.filter({ $0 != .home }) {
            if let (value, source) = try explicitValue(for: key, fileValues: fileValues) {
                values[key] = value
                sources[key] = source
            } else if let (value, source) = defaultValue(for: key, home: values[.home]?.text ?? defaultHome) {
                values[key] = value
                sources[key] = source
            }
        }
        return LoadedConfig(
            config: Self.config(from: values), sources: sources, filePath: path, fileExists: fileText != nil)
    }

    /// The configuration in effect as TOML, each line commented with where its value came from; secrets
    /// are masked. What `assist config show` prints.
    public func show(fileManager: FileManager = .default) throws -> String {
        let loaded = try resolve(fileManager: fileManager)
        let values = Self.values(of: loaded.config)
        var lines = [
            "# assist configuration in effect",
            "# file: \(loaded.filePath)" + (loaded.fileExists ? "" : " (not created yet)"),
            "# precedence: flags > environment (ASSIST_<KEY>) > file > defaults",
            "",
        ]
        var body: [(String, String)] = []
        for key in ConfigKey.allCases {
            guard let value = values[key] else {
                body.append(("# \(key) is not set" + (key.whenUnset.map { ": \($0)" } ?? ""), ""))
                continue
            }
            let shown = key.isSecret ? ConfigValue.string("********").toml : value.toml
            body.append(("\(key) = \(shown)", "# \(loaded.sources[key] ?? .defaultValue)"))
        }
        let width = body.filter { !$0.1.isEmpty }.map(\.0.count).max() ?? 0
        for (line, comment) in body {
            lines.append(comment.isEmpty ? line : line.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + comment)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Checks `value` for `key` and writes it to the config file, keeping the file's other lines and
    /// comments. The file is replaced atomically and left readable by its owner only (0600), since it may
    /// hold keys. Returns what was done, and warns when a flag or environment variable still overrides it.
    @discardableResult
    public func set(_ key: String, _ value: String, fileManager: FileManager = .default) throws -> String {
        guard let configKey = ConfigKey(rawValue: key) else {
            throw ConfigError.unknownKey(key: key, source: .setCommand, suggestion: ConfigKey.closest(to: key))
        }
        let parsed: ConfigValue
        do {
            parsed = try configKey.parse(value, homeDirectory: homeDirectory, relativeTo: currentDirectory)
        } catch {
            throw ConfigError.invalidValue(key: configKey, value: value, source: .setCommand, reason: error.reason)
        }
        let existing = try readFile(fileManager: fileManager) ?? ""
        var expected = try parseFile(existing).mapValues(\.value)
        expected[configKey] = parsed
        let edited = Self.replacing(configKey, with: "\(configKey) = \(parsed.toml)", in: existing)
        try write(Self.verified(edited, expected: expected, loader: self), fileManager: fileManager)
        let shown = configKey.isSecret ? "(hidden)" : parsed.toml
        return "set \(configKey) = \(shown) in \(path)" + overrideNote(for: configKey)
    }

    /// Removes `key` from the config file, so that the environment or the default applies again.
    @discardableResult
    public func unset(_ key: String, fileManager: FileManager = .default) throws -> String {
        guard let configKey = ConfigKey(rawValue: key) else {
            throw ConfigError.unknownKey(key: key, source: .setCommand, suggestion: ConfigKey.closest(to: key))
        }
        guard let existing = try readFile(fileManager: fileManager) else { return "\(path) does not exist; nothing to unset" }
        var expected = try parseFile(existing).mapValues(\.value)
        guard expected.removeValue(forKey: configKey) != nil else { return "\(configKey) is not set in \(path)" }
        let edited = Self.replacing(configKey, with: nil, in: existing)
        try write(Self.verified(edited, expected: expected, loader: self), fileManager: fileManager)
        return "removed \(configKey) from \(path)" + overrideNote(for: configKey)
    }

    // MARK: - Reading

    private func readFile(fileManager: FileManager) throws -> String? {
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { throw ConfigError.unreadable(path: path, reason: "it is a directory") }
        guard let data = fileManager.contents(atPath: path) else {
            throw ConfigError.unreadable(path: path, reason: "permission denied or I/O error")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError.unreadable(path: path, reason: "it is not UTF-8 text")
        }
        return text
    }

    /// The file's values, checked: each key known, each value of the right type and valid.
    func parseFile(_ text: String) throws -> [ConfigKey: (value: ConfigValue, line: Int?)] {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError.syntax(
                path: path, line: error.source.begin.line, column: error.source.begin.column, message: error.description)
        }
        var values: [ConfigKey: (value: ConfigValue, line: Int?)] = [:]
        for name in table.keys {
            let line = Self.lineNumber(of: name, in: text)
            let source = ConfigSource.file(path: path, line: line)
            guard let key = ConfigKey(rawValue: name) else {
                throw ConfigError.unknownKey(key: name, source: source, suggestion: ConfigKey.closest(to: name))
            }
            guard let node = table[name] else { continue }
            let raw: String
            if case .toggle = key.kind {
                guard let flag = node.bool else {
                    throw ConfigError.wrongType(key: key, source: source, expected: "true or false", found: "\(node.type)")
                }
                raw = flag ? "true" : "false"
            } else if key.kind.isInteger {
                guard let number = node.int else {
                    throw ConfigError.wrongType(key: key, source: source, expected: "a whole number", found: "\(node.type)")
                }
                raw = String(number)
            } else {
                guard let string = node.string else {
                    throw ConfigError.wrongType(key: key, source: source, expected: "a string in quotes", found: "\(node.type)")
                }
                raw = string
            }
            do {
                values[key] = (try key.parse(raw, homeDirectory: homeDirectory, relativeTo: nil), line)
            } catch {
                throw ConfigError.invalidValue(key: key, value: raw, source: source, reason: error.reason)
            }
        }
        return values
    }

    private func explicitValue(
        for key: ConfigKey, fileValues: [ConfigKey: (value: ConfigValue, line: Int?)]
    ) throws -> (ConfigValue, ConfigSource)? {
        if let text = flags[key] {
            return (try checked(key, text, source: .flag), .flag)
        }
        for variable in key.environmentVariables {
            if let text = environment[variable], !text.isEmpty {
                let source = ConfigSource.environment(variable: variable)
                return (try checked(key, text, source: source), source)
            }
        }
        if let (value, line) = fileValues[key] {
            return (value, .file(path: path, line: line))
        }
        return nil
    }

    private func checked(_ key: ConfigKey, _ text: String, source: ConfigSource) throws -> ConfigValue {
        do {
            return try key.parse(text, homeDirectory: homeDirectory, relativeTo: currentDirectory)
        } catch {
            throw ConfigError.invalidValue(key: key, value: text, source: source, reason: error.reason)
        }
    }

    private func defaultValue(for key: ConfigKey, home: String) -> (ConfigValue, ConfigSource)? {
        switch key {
        case .home: return (.string(defaultHome), .defaultValue)
        case .modelsDir: return (.string(home + "/models"), .derived(from: .home))
        case .db: return (.string(home + "/index.sqlite"), .derived(from: .home))
        case .chatBackend, .embedBackend: return (.string(BackendKind.builtin.rawValue), .defaultValue)
        case .chatModel: return (.string("qwen2.5-coder-0.5b"), .defaultValue)
        case .embedModel: return (.string("minilm-l6-v2"), .defaultValue)
        case .ollamaURL: return (.string("http://127.0.0.1:11434"), .defaultValue)
        case .openaiURL: return (.string("http://127.0.0.1:1234/v1"), .defaultValue)
        case .threads: return (.integer(max(1, ProcessInfo.processInfo.activeProcessorCount)), .defaultValue)
        case .contextTokens: return (.integer(1000), .defaultValue)
        case .serveHost: return (.string("127.0.0.1"), .defaultValue)
        case .servePort: return (.integer(11435), .defaultValue)
        case .openaiAPIKey, .userEmail, .serveToken, .secondLook: return nil
        }
    }

    private func overrideNote(for key: ConfigKey) -> String {
        if flags[key] != nil { return " (note: a command-line flag overrides it for this run)" }
        if let variable = key.environmentVariables.first(where: { !(environment[$0] ?? "").isEmpty }) {
            return " (note: \(variable) is set in the environment and takes precedence over the file)"
        }
        return ""
    }

    // MARK: - Converting

    static func config(from values: [ConfigKey: ConfigValue]) -> AssistConfig {
        func string(_ key: ConfigKey) -> String? { values[key]?.text }
        func integer(_ key: ConfigKey) -> Int {
            if case .integer(let number) = values[key] { return number }
            return 0
        }
        func boolean(_ key: ConfigKey) -> Bool? {
            if case .boolean(let flag) = values[key] { return flag }
            return nil
        }
        return AssistConfig(
            home: string(.home) ?? "", modelsDir: string(.modelsDir) ?? "", db: string(.db) ?? "",
            chatBackend: BackendKind(rawValue: string(.chatBackend) ?? "") ?? .builtin,
            chatModel: string(.chatModel) ?? "",
            embedBackend: BackendKind(rawValue: string(.embedBackend) ?? "") ?? .builtin,
            embedModel: string(.embedModel) ?? "", ollamaURL: string(.ollamaURL) ?? "",
            openaiURL: string(.openaiURL) ?? "", openaiAPIKey: string(.openaiAPIKey), threads: integer(.threads),
            contextTokens: integer(.contextTokens), secondLook: boolean(.secondLook), userEmail: string(.userEmail), serveHost: string(.serveHost) ?? "",
            servePort: integer(.servePort), serveToken: string(.serveToken))
    }

    static func values(of config: AssistConfig) -> [ConfigKey: ConfigValue] {
        var values: [ConfigKey: ConfigValue] = [
            .home: .string(config.home), .modelsDir: .string(config.modelsDir), .db: .string(config.db),
            .chatBackend: .string(config.chatBackend.rawValue), .chatModel: .string(config.chatModel),
            .embedBackend: .string(config.embedBackend.rawValue), .embedModel: .string(config.embedModel),
            .ollamaURL: .string(config.ollamaURL), .openaiURL: .string(config.openaiURL),
            .threads: .integer(config.threads), .contextTokens: .integer(config.contextTokens),
            .serveHost: .string(config.serveHost), .servePort: .integer(config.servePort),
        ]
        if let key = config.openaiAPIKey { values[.openaiAPIKey] = .string(key) }
        if let email = config.userEmail { values[.userEmail] = .string(email) }
        if let token = config.serveToken { values[.serveToken] = .string(token) }
        if let secondLook = config.secondLook { values[.secondLook] = .boolean(secondLook) }
        return values
    }

    // MARK: - Editing

    /// The 1-based line where `key` is assigned (bare, "quoted" or 'quoted'), for error messages.
    static func lineNumber(of key: String, in text: String) -> Int? {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where assigns(key, line) {
            return index + 1
        }
        return nil
    }

    private static func assigns(_ key: String, _ line: Substring) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        for spelling in [key, "\"\(key)\"", "'\(key)'"] where trimmed.hasPrefix(spelling) {
            if trimmed.dropFirst(spelling.count).drop(while: { $0 == " " || $0 == "\t" }).first == "=" { return true }
        }
        return false
    }

    /// `text` with the line(s) assigning `key` replaced by `newLine` (or removed when it is nil); appended
    /// at the end when the key was not there.
    static func replacing(_ key: ConfigKey, with newLine: String?, in text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var placed = false
        var result: [String] = []
        for line in lines {
            if assigns(key.rawValue, line[...]) {
                if !placed, let newLine { result.append(newLine) }
                placed = true
            } else {
                result.append(line)
            }
        }
        if !placed, let newLine { result.append(newLine) }
        return result.isEmpty ? "" : result.joined(separator: "\n") + "\n"
    }

    /// `edited` if it parses to exactly `expected`; otherwise (a value spread over several lines, say) the
    /// file written afresh from `expected`, which loses comments but never the settings.
    static func verified(_ edited: String, expected: [ConfigKey: ConfigValue], loader: ConfigLoader) -> String {
        if let values = try? loader.parseFile(edited).mapValues(\.value), values == expected { return edited }
        var lines = ["# assist configuration (rewritten by `assist config set`)"]
        for key in ConfigKey.allCases {
            if let value = expected[key] { lines.append("\(key) = \(value.toml)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `text` to the config file atomically (a private temporary file renamed over it), mode 0600.
    /// A symlinked config file is written through to its target.
    private func write(_ text: String, fileManager: FileManager) throws {
        let target = (path as NSString).resolvingSymlinksInPath
        let directory = (target as NSString).deletingLastPathComponent
        do {
            try fileManager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ConfigError.writeFailed(path: path, reason: "cannot create \(directory): \(error.localizedDescription)")
        }
        let temporary = directory + "/.config.toml.\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        var failure: String?
        do {
            try handle.write(contentsOf: Data(text.utf8))
            try handle.synchronize()
        } catch {
            failure = error.localizedDescription
        }
        close(fd)
        if failure == nil, rename(temporary, target) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw ConfigError.writeFailed(path: path, reason: failure)
        }
    }
}
