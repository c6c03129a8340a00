import Foundation

/// Where a configuration value came from, for `assist config show` and for error messages.
public enum ConfigSource: Sendable, Equatable, CustomStringConvertible {
    case flag
    case environment(variable: String)
    case file(path: String, line: Int?)
    case defaultValue
    /// Default that follows another key, e.g. `db` under `home`.
    case derived(from: ConfigKey)
    /// An argument of `assist config set`.
    case setCommand

    public var description: String {
        switch self {
        case .flag: return "command-line flag"
        case .environment(let variable): return "environment \(variable)"
        case .file(let path, let line): return line.map { "\(path):\($0)" } ?? path
        case .defaultValue: return "default"
        case .derived(let key): return "default, under \(key)"
        case .setCommand: return "assist config set"
        }
    }
}

/// What is wrong with the configuration, naming the file and line, variable or flag, and the key.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case syntax(path: String, line: Int, column: Int, message: String)
    case unknownKey(key: String, source: ConfigSource, suggestion: ConfigKey?)
    case wrongType(key: ConfigKey, source: ConfigSource, expected: String, found: String)
    case invalidValue(key: ConfigKey, value: String, source: ConfigSource, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read the config file \(path): \(reason)"
        case .syntax(let path, let line, let column, let message):
            return "\(path):\(line):\(column): not valid TOML: \(message) — fix the file, or move it away to start over"
        case .unknownKey(let key, let source, let suggestion):
            var text = "\(source): unknown setting '\(key)'"
            if let suggestion { text += " — did you mean '\(suggestion)'?" }
            text += " Settings are flat keys at the top level (no [sections]); `assist config show` lists them all"
            return text
        case .wrongType(let key, let source, let expected, let found):
            return "\(source): \(key) should be \(expected), but it is \(found)"
        case .invalidValue(let key, let value, let source, let reason):
            let shown = key.isSecret ? "(hidden)" : "'\(value)'"
            return "\(source): \(key) = \(shown) \(reason)"
        case .writeFailed(let path, let reason):
            return "cannot write the config file \(path): \(reason)"
        }
    }
}
