import Foundation
import Testing
@testable import Ingest

@Suite struct MboxSplitterTests {
    static let sample = """
        From alice@example.com Tue Mar  5 10:30:00 2024
        From: Alice <alice@example.com>
        Subject: one

        Hello.
        >From the start, this line was escaped.
        >>From here too.

        From bob@example.com Wed Mar  6 11:00:00 2024
        From: Bob <bob@example.com>
        Subject: two

        Second body.
        From a sloppy archive without a blank line:
        From carol@example.com Thu Mar  7 12:00:00 2024
        Subject: three

        Third.

        """

    func split(_ data: Data, blockSize: Int) -> [RawMessage] {
        var splitter = MboxSplitter()
        var out: [RawMessage] = []
        var i = 0
        while i < data.count {
            let end = min(data.count, i + blockSize)
            out += splitter.append(data.subdata(in: i..<end))
            i = end
        }
        out += splitter.finish()
        return out
    }

    @Test func splitsMessagesWithOffsetsLinesAndUnescaping() throws {
        let data = Data(Self.sample.utf8)
        let messages = split(data, blockSize: 1 << 20)
        try #require(messages.count == 3)
        #expect(messages[0].offset == 0)
        #expect(messages[0].lineNumber == 1)
        #expect(messages[0].fromLine == "From alice@example.com Tue Mar  5 10:30:00 2024")
        let first = String(decoding: messages[0].bytes, as: UTF8.self)
        #expect(first == "From: Alice <alice@example.com>\nSubject: one\n\nHello.\nFrom the start, this line was escaped.\n>From here too.\n")
        #expect(messages[1].lineNumber == 9)
        // "From a sloppy…" has no date shape, so it stays in message two; Carol's line has one.
        let second = String(decoding: messages[1].bytes, as: UTF8.self)
        #expect(second.hasSuffix("Second body.\nFrom a sloppy archive without a blank line:\n"))
        #expect(messages[2].lineNumber == 15)
        // Messages tile the file exactly.
        var expectedOffset: Int64 = 0
        for m in messages {
            #expect(m.offset == expectedOffset)
            let slice = data.subdata(in: Int(m.offset)..<Int(m.offset + m.length))
            #expect(slice.starts(with: Data("From ".utf8)))
            expectedOffset += m.length
        }
        #expect(expectedOffset == Int64(data.count))
        // Line counts tile the file too.
        for (a, b) in zip(messages, messages.dropFirst()) { #expect(b.lineNumber == a.lineNumber + a.lineCount) }
        #expect(messages.map(\.lineCount).reduce(0, +) == data.filter { $0 == 0x0A }.count)
    }

    @Test func saysWhatAFileIsWhenItIsNoMbox() {
        #expect(MboxSplitter.notMboxReason(prefix: Data([0x1F, 0x8B, 0x08, 0x00])).contains("gzip-compressed"))
        #expect(MboxSplitter.notMboxReason(prefix: Data("BZh91AY&SY".utf8)).contains("`bunzip2`"))
        #expect(MboxSplitter.notMboxReason(prefix: Data("Return-Path: <a@b.example>\nFrom: a@b.example\n".utf8))
            .contains("single message"))
        #expect(MboxSplitter.notMboxReason(prefix: Data("just some text".utf8)).contains("does not start with a `From ` line"))
    }

    @Test func tinyBlocksEqualWhole() {
        var text = Self.sample
        text += String(repeating: "x", count: 200_000) + "\n\nFrom dave@example.com Fri Mar  8 09:00:00 2024\nSubject: long\n\nbody"
        let data = Data(text.utf8)
        let whole = split(data, blockSize: data.count)
        for size in [1, 2, 3, 7, 64, 4096] {
            #expect(split(data, blockSize: size) == whole, "block size \(size)")
        }
        #expect(whole.count == 4)
        #expect(whole.last?.bytes == Data("Subject: long\n\nbody".utf8))
    }

    @Test func crlfArchives() throws {
        let text = Self.sample.replacingOccurrences(of: "\n", with: "\r\n")
        let data = Data(text.utf8)
        let messages = split(data, blockSize: 5)
        try #require(messages.count == 3)
        #expect(messages[0].fromLine == "From alice@example.com Tue Mar  5 10:30:00 2024")
        let first = String(decoding: messages[0].bytes, as: UTF8.self)
        #expect(first.hasSuffix("From the start, this line was escaped.\r\n>From here too.\r\n"))
        #expect(messages.map(\.length).reduce(0, +) == Int64(data.count))
        let doc = try MailParser.parse(messages[0], mboxPath: "/m")
        #expect(doc.title == "one")
        #expect(doc.body == "Hello.\nFrom the start, this line was escaped.\n>From here too.")
    }

    @Test func notAnMbox() {
        let data = Data("Just some text\nwith lines\n".utf8)
        #expect(!MboxSplitter.looksLikeMbox(prefix: data))
        #expect(MboxSplitter.looksLikeMbox(prefix: Data("\nFrom x@y Tue Mar  5 10:30:00 2024\n".utf8)))
        let messages = split(data, blockSize: 4)
        #expect(messages.count == 1)
        #expect(messages.first?.fromLine == "")
        #expect(throws: IngestError.notMbox(path: "/x.mbox")) { try MailParser.parse(messages[0], mboxPath: "/x.mbox") }
        #expect(split(Data(), blockSize: 4).isEmpty)
        #expect(split(Data("\n\n".utf8), blockSize: 1).isEmpty)
    }

    @Test func oversizedMessageIsCappedAndFlagged() {
        var text = "From a@b Tue Mar  5 10:30:00 2024\nSubject: big\n\n"
        text += String(repeating: "0123456789abcdef\n", count: 10_000)  // 170 KB
        text += "\nFrom c@d Tue Mar  5 10:31:00 2024\nSubject: small\n\nok\n"
        var splitter = MboxSplitter(maxMessageBytes: 4096)
        var out: [RawMessage] = []
        let data = Data(text.utf8)
        var i = 0
        while i < data.count {
            out += splitter.append(data.subdata(in: i..<min(data.count, i + 1000)))
            i += 1000
        }
        out += splitter.finish()
        #expect(out.count == 2)
        #expect(out[0].isTruncated)
        #expect(out[0].bytes.count == 4096)
        #expect(out[1].offset == out[0].offset + out[0].length)
        #expect(!out[1].isTruncated)
        #expect(out[1].bytes == Data("Subject: small\n\nok\n".utf8))
    }

    @Test func longLineWithoutNewlineStaysBounded() {
        var splitter = MboxSplitter(maxMessageBytes: 8192)
        var out = splitter.append(Data("From a@b Tue Mar  5 10:30:00 2024\nSubject: x\n\n".utf8))
        let block = Data(repeating: 0x61, count: 100_000)
        for _ in 0..<30 { out += splitter.append(block) }
        out += splitter.append(Data("\n\nFrom c@d Tue Mar  5 10:31:00 2024\n\nhi\n".utf8))
        out += splitter.finish()
        #expect(out.count == 2)
        #expect(out[0].isTruncated)
        #expect(out[0].length > 3_000_000)
        #expect(out[1].lineNumber == 6)
        #expect(out[0].lineCount == 5)
    }

    @Test func resumesAtOffset() {
        let data = Data(Self.sample.utf8)
        let whole = split(data, blockSize: data.count)
        var splitter = MboxSplitter(startOffset: whole[0].offset + whole[0].length,
                                    startLine: whole[0].lineNumber + whole[0].lineCount)
        var resumed = splitter.append(data.subdata(in: Int(whole[1].offset)..<data.count))
        resumed += splitter.finish()
        #expect(resumed == Array(whole[1...]))
    }
}
