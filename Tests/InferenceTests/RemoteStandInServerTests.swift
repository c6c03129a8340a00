import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A minimal HTTP/1.1 server on 127.0.0.1 and an ephemeral port, standing in for Ollama or an
/// OpenAI-compatible server in tests. Plain POSIX sockets on one background thread: it accepts a
/// connection, reads one request (headers plus `Content-Length` body), asks the handler what to send,
/// writes it (optionally pausing between pieces, to test streaming and timeouts) and closes the connection
/// (`Connection: close`, body delimited by the close). Every wait is bounded, and `stop()` ends the thread.
final class StandInServer: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [String: String]  // lower-cased names
        var body: Data
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    struct Response: Sendable {
        var status: Int = 200
        var contentType = "application/json"
        /// Written one after another, with `pause` seconds between them.
        var pieces: [String] = []
        var pause: Double = 0
        /// Raw bytes to write instead of `pieces` (to split a UTF-8 character between writes).
        var bytePieces: [Data]? = nil
        /// Send the body with `Transfer-Encoding: chunked`, one chunk per piece, as Ollama's Go server does.
        var chunked = false

        static func json(_ object: Any, status: Int = 200) -> Response {
            let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
            return Response(status: status, pieces: [String(decoding: data, as: UTF8.self)])
        }
    }

    struct SetupFailed: Error, CustomStringConvertible {
        let step: String
        var description: String { "stand-in server: \(step) failed (errno \(errno))" }
    }

    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let handler: @Sendable (Request) -> Response
    private let lock = NSLock()
    private var stopping = false
    private var received: [Request] = []
    private let finished = DispatchSemaphore(value: 0)

    /// Requests seen so far, in arrival order.
    var requests: [Request] { lock.withLock { received } }

    init(handler: @escaping @Sendable (Request) -> Response) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SetupFailed(step: "socket") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw SetupFailed(step: "bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw SetupFailed(step: "getsockname")
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in
            self.serve()
            self.finished.signal()
        }
        thread.start()
    }

    /// Stops accepting, waits (bounded) for the serving thread to end, and closes the socket.
    func stop() {
        lock.withLock { stopping = true }
        _ = finished.wait(timeout: .now() + 10)
        close(listener)
    }

    /// A port on 127.0.0.1 on which nothing listens (bound, then closed again).
    static func unusedPort() throws -> Int {
        let server = try StandInServer { _ in Response() }
        server.stop()
        return server.port
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    private func serve() {
        while !isStopping {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        guard var request = readHead(connection) else { return }
        if request.headers["expect"]?.lowercased() == "100-continue" {
            write(connection, "HTTP/1.1 100 Continue\r\n\r\n")
        }
        let length = Int(request.headers["content-length"] ?? "0") ?? 0
        while request.body.count < min(length, 16 << 20) {
            guard let more = readSome(connection) else { break }
            request.body.append(more)
        }
        lock.withLock { received.append(request) }
        let response = handler(request)
        let framing = response.chunked ? "Transfer-Encoding: chunked\r\n" : ""
        write(connection, "HTTP/1.1 \(response.status) Status\r\nContent-Type: \(response.contentType)\r\n\(framing)Connection: close\r\n\r\n")
        let pieces = response.bytePieces ?? response.pieces.map { Data($0.utf8) }
        for (index, piece) in pieces.enumerated() {
            if index > 0, response.pause > 0 { Thread.sleep(forTimeInterval: response.pause) }
            if isStopping { return }
            if response.chunked {
                write(connection, Data(String(piece.count, radix: 16).utf8) + Data("\r\n".utf8) + piece + Data("\r\n".utf8))
            } else {
                write(connection, piece)
            }
        }
        if response.chunked { write(connection, "0\r\n\r\n") }
    }

    /// Reads up to the blank line that ends the headers; what follows it starts the body.
    private func readHead(_ connection: Int32) -> Request? {
        var bytes = Data()
        let separator = Data("\r\n\r\n".utf8)
        while bytes.range(of: separator) == nil {
            guard bytes.count < 64 << 10, let more = readSome(connection) else { return nil }
            bytes.append(more)
        }
        guard let end = bytes.range(of: separator) else { return nil }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = head.first?.split(separator: " ") ?? []
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Request(
            method: String(requestLine[0]), path: String(requestLine[1]), headers: headers,
            body: Data(bytes[end.upperBound...]))
    }

    /// One `recv`, waiting at most five seconds for data; nil at end of stream, error or timeout.
    private func readSome(_ connection: Int32) -> Data? {
        var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 5000) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(connection, &buffer, buffer.count, 0)
        return count > 0 ? Data(buffer[0..<count]) : nil
    }

    private func write(_ connection: Int32, _ text: String) {
        write(connection, Data(text.utf8))
    }

    private func write(_ connection: Int32, _ data: Data) {
        let bytes = [UInt8](data)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return }
            sent += count
        }
    }
}

@Suite struct RemoteStandInServerTests {
    @Test func standInServerAnswersOverLoopbackAndRecordsTheRequest() async throws {
        let server = try StandInServer { request in .json(["echo": request.path]) }
        defer { server.stop() }
        var request = URLRequest(url: URL(string: server.baseURL + "/hello")!)
        request.httpMethod = "POST"
        request.httpBody = Data("{\"a\":1}".utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["echo"] as? String == "/hello")
        #expect(server.requests.first?.json?["a"] as? Int == 1)
    }
}
