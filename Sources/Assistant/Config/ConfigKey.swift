import Foundation

/// One configuration key, named as in the TOML file.
public enum ConfigKey: String, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    case home
    case modelsDir = "models_dir"
    case db
    case chatBackend = "chat_backend"
    case chatModel = "chat_model"
    case embedBackend = "embed_backend"
    case embedModel = "embed_model"
    case ollamaURL = "ollama_url"
    case openaiURL = "openai_url"
    case openaiAPIKey = "openai_api_key"
    case threads
    case contextTokens = "context_tokens"
    case secondLook = "second_look"
    case userEmail = "user_email"
    case serveHost = "serve_host"
    case servePort = "serve_port"
    case serveToken = "serve_token"

    public var description: String { rawValue }

    /// What kind of value a key holds, which decides how text is checked and how the file spells it.
    enum Kind {
        case path, backend, name, url, secret, integer(ClosedRange<Int>), email, host, toggle

        var isInteger: Bool {
            if case .integer = self { return true }
            return false
        }
    }

    var kind: Kind {
        switch self {
        case .home, .modelsDir, .db: return .path
        case .chatBackend, .embedBackend: return .backend
        case .chatModel, .embedModel: return .name
        case .ollamaURL, .openaiURL: return .url
        case .openaiAPIKey, .serveToken: return .secret
        case .threads: return .integer(1...1024)
        case .contextTokens: return .integer(128...1_000_000)
        case .servePort: return .integer(1...65535)
        case .secondLook: return .toggle
        case .userEmail: return .email
        case .serveHost: return .host
        }
    }

    /// Environment variables that set this key, the first set one winning: `ASSIST_<KEY>`, and for
    /// `models_dir` also the shorter `ASSIST_MODELS` that the rest of the tooling uses.
    public var environmentVariables: [String] {
        let canonical = "ASSIST_" + rawValue.uppercased()
        return self == .modelsDir ? [canonical, "ASSIST_MODELS"] : [canonical]
    }

    /// What leaving the key out means, when that is more than "nothing".
    var whenUnset: String? {
        self == .secondLook ? "on for built-in chat models, off for ollama: and openai: ones" : nil
    }

    /// Secrets are not printed by `show()`.
    var isSecret: Bool {
        if case .secret = kind { return true }
        return false
    }

    /// What a valid value looks like, for error messages.
    var expectation: String {
        switch kind {
        case .path: return "an absolute path (or one starting with ~/)"
        case .backend: return "one of " + BackendKind.allCases.map(\.rawValue).joined(separator: ", ")
        case .name: return "a model name on one line"
        case .url: return "an http:// or https:// URL"
        case .secret: return "a non-empty string on one line"
        case .integer(let range): return "a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .email: return "an email address like me@example.org"
        case .host: return "a host name or IP address"
        case .toggle: return "true or false"
        }
    }

    /// The known key closest in spelling to `text`, to suggest on a typo.
    static func closest(to text: String) -> ConfigKey? {
        let lowered = text.lowercased().replacingOccurrences(of: "-", with: "_")
        if let exact = ConfigKey(rawValue: lowered) { return exact }
        let scored = allCases.map { ($0, editDistance(lowered, $0.rawValue)) }.min { $0.1 < $1.1 }
        guard let (key, distance) = scored, distance <= max(2, key.rawValue.count / 3) else { return nil }
        return key
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A checked configuration value, as the file stores it.
enum ConfigValue: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case boolean(Bool)

    var text: String {
        switch self {
        case .string(let value): return value
        case .integer(let value): return String(value)
        case .boolean(let value): return value ? "true" : "false"
        }
    }

    /// The value as TOML source: a basic string with escapes, or an integer.
    var toml: String {
        switch self {
        case .integer, .boolean: return text
        case .string(let value):
            var out = "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        out += String(format: "\\u%04X", scalar.value)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
    }
}

extension ConfigKey {
    /// Checks `text` for this key and returns the value to use. Paths have `~` expanded with `homeDirectory`;
    /// relative paths are taken from `relativeTo`, or rejected when it is nil (values in the file).
    /// Throws a short reason; callers wrap it in a `ConfigError` that says where the value came from.
    func parse(_ raw: String, homeDirectory: String, relativeTo base: String?) throws(ValueProblem) -> ConfigValue {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { throw ValueProblem("is empty; expected \(expectation)") }
        guard !text.contains(where: \.isNewline) else { throw ValueProblem("spans several lines; expected \(expectation)") }
        switch kind {
        case .path:
            var path = text
            if path == "~" {
                path = homeDirectory
            } else if path.hasPrefix("~/") {
                path = (homeDirectory as NSString).appendingPathComponent(String(path.dropFirst(2)))
            } else if path.hasPrefix("~") {
                throw ValueProblem("uses ~user, which is not supported; expected \(expectation)")
            }
            if !path.hasPrefix("/") {
                guard let base else { throw ValueProblem("is a relative path; expected \(expectation)") }
                path = (base as NSString).appendingPathComponent(path)
            }
            return .string((path as NSString).standardizingPath)
        case .backend:
            guard let kind = BackendKind(rawValue: text.lowercased()) else {
                throw ValueProblem("is not a backend; expected \(expectation)")
            }
            return .string(kind.rawValue)
        case .name, .secret:
            return .string(text)
        case .url:
            var trimmed = text
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = url.host, !host.isEmpty
            else { throw ValueProblem("is not a URL this can use; expected \(expectation)") }
            return .string(trimmed)
        case .integer(let range):
            guard let number = Int(text) else { throw ValueProblem("is not a whole number; expected \(expectation)") }
            guard range.contains(number) else { throw ValueProblem("is out of range; expected \(expectation)") }
            return .integer(number)
        case .email:
            let parts = text.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !text.contains(where: \.isWhitespace) else {
                throw ValueProblem("is not an email address; expected \(expectation)")
            }
            return .string(text)
        case .host:
            guard !text.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                throw ValueProblem("is not a host; expected \(expectation)")
            }
            return .string(text)
        case .toggle:
            // Environment variables and flags are text; accept the spellings shells and users reach for.
            switch text.lowercased() {
            case "true", "yes", "on", "1": return .boolean(true)
            case "false", "no", "off", "0": return .boolean(false)
            default: throw ValueProblem("is not a yes or no; expected \(expectation)")
            }
        }
    }
}

/// Why a value was refused, before it is known where it came from.
struct ValueProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
