import Foundation
import Testing
@testable import Ingest

/// Decompression checked against the system's `gzip`, which writes stored, fixed and dynamic blocks
/// depending on the input and level.
@Suite struct GzipTests {
    /// `data` compressed by /usr/bin/gzip at `level`.
    private func gzip(_ data: Data, level: Int = 6) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        process.arguments = ["-c", "-n", "-\(level)"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // Write on another thread: gzip may fill the output pipe before it has read all its input.
        let writer = Thread { input.fileHandleForWriting.write(data); try? input.fileHandleForWriting.close() }
        writer.start()
        let compressed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return compressed
    }

    /// Mail-like text: repetitive enough for long matches, varied enough for dynamic codes.
    private func mailText(messages: Int) -> Data {
        var text = ""
        for index in 0..<messages {
            text += "From list-bounces@example.org Mon Jan \(index % 28 + 1) 10:00:00 2024\n"
            text += "From: member\(index % 17) at example.org (Member \(index % 17))\nSubject: [dev] thread \(index / 5)\n\n"
            text += "Reply number \(index): the build on arm64 fails at step \(index * 7 % 101); café, naïve, 東京.\n\n"
        }
        return Data(text.utf8)
    }

    @Test func roundTripsWhatGzipWrites() throws {
        var generator = SystemRandomNumberGenerator()
        let random = Data((0..<70_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let cases: [(String, Data, Int)] = [
            ("empty", Data(), 6),
            ("one byte", Data("x".utf8), 6),
            ("mail, default level", mailText(messages: 2_000), 6),
            ("mail, fastest", mailText(messages: 500), 1),
            ("mail, best", mailText(messages: 500), 9),
            ("random bytes (stored blocks)", random, 6),
            ("one byte repeated (overlapping copies)", Data(repeating: 0x61, count: 3_000_000), 9),
            ("mail past the output window (back-references across flushes)", mailText(messages: 12_000), 6),
        ]
        for (name, original, level) in cases {
            let decompressed = try Gzip.decompress(try gzip(original, level: level))
            #expect(decompressed == original, "\(name)")
        }
    }

    @Test func streamsTheOutputInPieces() throws {
        let original = mailText(messages: 12_000)
        var pieces: [Data] = []
        try Gzip.decompress(try gzip(original), limit: original.count) { pieces.append(Data($0)) }
        #expect(pieces.count > 1)
        #expect(pieces.allSatisfy { $0.count <= 1 << 20 + 1 << 15 + 258 })
        #expect(pieces.reduce(Data(), +) == original)
        #expect(throws: GzipError.tooLarge(limit: original.count - 1)) {
            try Gzip.decompress(try gzip(original), limit: original.count - 1) { _ in }
        }
    }

    @Test func readsEveryMemberOfConcatenatedFiles() throws {
        let first = Data("From a Mon Jan  1 00:00:00 2024\nSubject: one\n\nfirst\n\n".utf8)
        let second = Data("From b Tue Jan  2 00:00:00 2024\nSubject: two\n\nsecond\n".utf8)
        let joined = try gzip(first) + gzip(second) + Data(repeating: 0, count: 8)
        #expect(try Gzip.decompress(joined) == first + second)
    }

    @Test func damagedDataIsRefusedWithTheReason() throws {
        let compressed = try gzip(mailText(messages: 300))
        #expect(throws: GzipError.truncated) { try Gzip.decompress(compressed.prefix(compressed.count / 2)) }
        #expect(throws: GzipError.truncated) { try Gzip.decompress(compressed.dropLast(3)) }
        var flipped = compressed
        flipped[flipped.count - 6] ^= 0xFF  // inside the stored CRC-32
        #expect(throws: GzipError.checksumMismatch) { try Gzip.decompress(flipped) }
        #expect(throws: GzipError.notGzip) { try Gzip.decompress(Data("From a Mon Jan  1".utf8)) }
        var method = compressed
        method[2] = 7
        #expect(throws: GzipError.unsupportedMethod(7)) { try Gzip.decompress(method) }
        #expect(throws: GzipError.tooLarge(limit: 1_000)) { try Gzip.decompress(compressed, limit: 1_000) }
        // Damage inside the compressed stream is caught by the decoder or, at the latest, by the checksum.
        for offset in stride(from: 12, to: compressed.count - 8, by: max(1, compressed.count / 40)) {
            var damaged = compressed
            damaged[offset] ^= 0x5A
            #expect(throws: GzipError.self) { try Gzip.decompress(damaged) }
        }
    }
}
