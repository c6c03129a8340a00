import Foundation

/// KV caches of prompt prefixes kept on disk, so that a fixed system prompt is run through the model once and
/// not at every start of a short-lived process such as `assist ask`.
///
/// A file is named by the SHA-256 of the model's fingerprint and the prefix's token ids, and repeats both
/// inside, so a stale or foreign file is never used: a changed model, prompt or template gives another name,
/// and a file whose contents disagree with its name is ignored. Files are written atomically with mode 0600
/// in a 0700 folder (they are derived from the user's prompts). Loading reads the file into the session's
/// cache (about 12 KiB per token for a 0.5B model), far cheaper than recomputing it.
public struct PromptPrefixCache: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    static let magic: [UInt8] = Array("AKVP0001".utf8)

    /// The file that holds `tokens` of the model with `fingerprint`.
    public func fileURL(fingerprint: String, tokens: ArraySlice<Int32>) -> URL {
        directory.appendingPathComponent(SHA256.hex(of: Self.header(fingerprint: fingerprint, tokens: tokens)) + ".kv")
    }

    /// The saved cache bytes for exactly this prefix and model, or nil when there is none (or it is damaged).
    public func load(fingerprint: String, tokens: ArraySlice<Int32>, bytesPerPosition: Int) -> [UInt8]? {
        let url = fileURL(fingerprint: fingerprint, tokens: tokens)
        guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else { return nil }
        let header = Self.header(fingerprint: fingerprint, tokens: tokens)
        let payload = tokens.count * bytesPerPosition
        guard data.count == header.count + payload, data.prefix(header.count).elementsEqual(header) else { return nil }
        return Array(data.suffix(payload))
    }

    /// Saves `cache` (from `InferenceSession.exportCache`) for this prefix and model.
    public func store(fingerprint: String, tokens: ArraySlice<Int32>, cache: [UInt8]) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let url = fileURL(fingerprint: fingerprint, tokens: tokens)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        var data = Data(Self.header(fingerprint: fingerprint, tokens: tokens))
        data.append(contentsOf: cache)
        guard manager.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        if rename(temporary.path, url.path) != 0 {
            try? manager.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }

    /// Magic, fingerprint and token ids: what a file must start with to be used for this prefix.
    static func header(fingerprint: String, tokens: ArraySlice<Int32>) -> [UInt8] {
        var out = magic
        func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out += $0 } }
        let print = Array(fingerprint.utf8)
        append(UInt32(print.count))
        out += print
        append(UInt32(tokens.count))
        for token in tokens { append(UInt32(bitPattern: token)) }
        return out
    }
}

/// How a generation's prompt was processed, reported with its first piece.
public struct PrefillReport: Sendable, Equatable {
    /// Tokens in the whole prompt (chat template included).
    public var promptTokens: Int
    /// Tokens taken from a cache instead of being run: the prefix shared with the previous conversation,
    /// or a saved prompt prefix.
    public var reusedTokens: Int
    /// Of `reusedTokens`, how many came from a prefix saved on disk.
    public var restoredTokens: Int
    /// Wall time of the prefill, restoring included.
    public var seconds: Double

    public init(promptTokens: Int, reusedTokens: Int, restoredTokens: Int, seconds: Double) {
        self.promptTokens = promptTokens
        self.reusedTokens = reusedTokens
        self.restoredTokens = restoredTokens
        self.seconds = seconds
    }
}
