import Foundation
import Inference
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@testable import Server

/// Finds the real model files the tests run against (`ASSIST_MODELS`, else the data-home layout).
///
/// Tests that need a model fail, not skip, when it is missing: CI pulls the models first.
enum TestModels {
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "model file \(path) is missing: run `assist models pull smollm2-135m minilm-l6-v2` (or set ASSIST_MODELS)"
        }
    }

    static var directory: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["ASSIST_MODELS"], !dir.isEmpty { return dir }
        if let home = env["ASSIST_HOME"], !home.isEmpty { return home + "/models" }
        if let data = env["XDG_DATA_HOME"], !data.isEmpty { return data + "/assist/models" }
        return NSHomeDirectory() + "/.local/share/assist/models"
    }

    static func path(_ relative: String) throws -> String {
        let path = directory + "/" + relative
        guard FileManager.default.fileExists(atPath: path) else { throw Missing(path: path) }
        return path
    }

    /// MiniLM, loaded once for all tests of the process.
    static func embedder() throws -> BertEmbedder {
        try sharedEmbedder.get()
    }

    /// The served name of the chat model the tests use.
    static let chatModelName = "smollm2-135m"

    /// SmolLM2-135M-Instruct on the built-in engine, loaded once for all tests of the process.
    static func chatGenerator() throws -> any TextGenerator {
        try sharedGenerator.get()
    }

    private static let sharedGenerator = Result { () throws -> any TextGenerator in
        try BuiltinGenerator(path: try path("smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"), modelID: chatModelName)
    }

    private static let sharedEmbedder = Result {
        try BertEmbedder(directory: URL(fileURLWithPath: try path("minilm-l6-v2")))
    }
}

/// A scratch folder removed when the test ends.
final class Scratch {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("server-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }
}

/// Plain HTTP calls with URLSession, each bounded by a timeout.
struct HTTPClient {
    let base: String
    var token: String?

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw Unexpected("body is not a JSON object: \(text.prefix(300))")
            }
            return object
        }
        /// The lines of an NDJSON body, each parsed.
        func lines() throws -> [[String: Any]] {
            try text.split(separator: "\n").map { line in
                guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw Unexpected("line is not a JSON object: \(line)")
                }
                return object
            }
        }
    }

    /// Generous timeouts: generation on a busy two-core machine can be slow, and a test must not fail for it.
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 900
        configuration.timeoutIntervalForResource = 1800
        return URLSession(configuration: configuration)
    }()

    func get(_ path: String) async throws -> Reply {
        try await send(path, method: "GET", body: nil)
    }

    func post(_ path: String, json: Any) async throws -> Reply {
        try await send(path, method: "POST", body: try JSONSerialization.data(withJSONObject: json))
    }

    func send(_ path: String, method: String, body: Data?, headers: [String: String] = [:]) async throws -> Reply {
        guard let url = URL(string: base + path) else { throw Unexpected("bad URL \(base + path)") }
        var request = URLRequest(url: url, timeoutInterval: 600)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await Self.session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw Unexpected("not an HTTP response") }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }
}

struct Unexpected: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A raw TCP connection to the server, for requests URLSession will not send (odd Host headers, half-sent
/// requests). Every read waits at most `timeout` seconds.
final class RawConnection {
    private let socket: Int32

    /// `timeout` is generous: the whole suite runs in parallel with model tests on 2 cores, and a reply
    /// that is merely slow must not read as a server that never answered.
    init(port: Int, timeout: Double = 60) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Unexpected("socket() failed") }
        var time = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(socket)
            throw Unexpected("connect to port \(port) failed")
        }
    }

    deinit { close(socket) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Unexpected("send failed") }
            sent += n
        }
    }

    /// Reads until the peer closes the connection or `timeout` passes without data; nil means it timed out
    /// with the connection still open.
    func readToClose() -> String? {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if n == 0 { return String(decoding: data, as: UTF8.self) }
            if n < 0 { return errno == ECONNRESET ? String(decoding: data, as: UTF8.self) : nil }
            data.append(contentsOf: buffer[0..<n])
        }
    }

    /// Reads one response head and body with `Content-Length`.
    func readResponse() throws -> (status: Int, body: String) {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let text = String(decoding: data, as: UTF8.self)
            if let headEnd = text.range(of: "\r\n\r\n") {
                let head = text[..<headEnd.lowerBound]
                let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                    return Int(parts[1].trimmingCharacters(in: .whitespaces))
                }.first ?? 0
                let body = String(text[headEnd.upperBound...])
                if body.utf8.count >= length { return (status, body) }
            }
            let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Unexpected("connection ended before a full response: \(text.prefix(200))") }
            data.append(contentsOf: buffer[0..<n])
        }
    }
}

/// Runs a Python script with the arguments given, bounded by `timeout` seconds; returns its stdout.
///
/// Waits without blocking Swift's cooperative threads (the server under test needs them).
func runPython(
    _ script: String, arguments: [String], in scratch: Scratch, environment extra: [String: String] = [:],
    timeout: Double = 900
) async throws -> String {
    let file = try scratch.write("script-\(UUID().uuidString).py", script)
    return try await runProcess("/usr/bin/env", arguments: ["python3", file] + arguments, environment: extra, timeout: timeout)
}

/// Runs a program to its end (at most `timeout` seconds) and returns its stdout; throws with stderr on failure.
func runProcess(
    _ executable: String, arguments: [String], environment extra: [String: String] = [:], timeout: Double
) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["NO_PROXY"] = "127.0.0.1,localhost"
    environment["no_proxy"] = "127.0.0.1,localhost"
    environment.merge(extra) { _, new in new }
    process.environment = environment
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    let exited = AsyncStream<Int32>.makeStream()
    process.terminationHandler = { exited.continuation.yield($0.terminationStatus) }
    try process.run()
    async let stdout = readAll(output.fileHandleForReading)
    async let stderr = readAll(errors.fileHandleForReading)
    let timedOut = Flag()
    let timer = Task {
        try await Task.sleep(for: .seconds(timeout))
        timedOut.set()
        process.terminate()
    }
    var status: Int32 = -1
    for await code in exited.stream {
        status = code
        break
    }
    timer.cancel()
    let out = String(decoding: await stdout, as: UTF8.self)
    let err = String(decoding: await stderr, as: UTF8.self)
    guard status == 0 else {
        throw Unexpected(
            "\(executable) \(arguments.joined(separator: " ")) exited with \(status)\(timedOut.isSet ? " (timed out)" : ""):\n"
                + "\(err.suffix(4000))\nstdout: \(out.suffix(1000))")
    }
    return out
}

/// A flag set from one task and read from another.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// Reads a pipe to its end on a GCD thread, not on the cooperative pool.
private func readAll(_ handle: FileHandle) async -> Data {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: handle.readDataToEndOfFile()) }
    }
}
