import Foundation
import Testing
@testable import Ingest

/// Random inputs built from fragments that sit on parsing edges; nothing may trap, and the chunker's
/// guarantees must hold for whatever comes out.
@Suite struct HostileInputTests {
    static let fragments: [String] = [
        "From ", "From a@b Tue Mar  5 10:30:00 2024", ">From ", "\n", "\r\n", "\n\n", " ", "\t", "--", "--b", "--b--",
        "Content-Type: multipart/mixed; boundary=b", "Content-Type: message/rfc822", "Content-Type: text/html",
        "Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: quoted-printable", "=?", "?=", "=?UTF-8?B?",
        "=?x?Q?a=", "=", "=4", "=ZZ", "<", ">", "</", "<script>", "<!--", "&#", "&#x", "&amp", ";", "---", "...", "[[",
        "]]", "|", "#", "# ", "##", "`", "```", "~~~", "é", "日本", "\u{FFFD}", "\u{0}", "\u{1}", "Subject: ", "Date: ",
        "References: <a@b> <", "In-Reply-To: ", "Message-ID: <x@y>", "title: ", "tags: [", "&a ", "*a", "- ", "{",
        "}", "'", "\"", "\\", ".", "! ", "? ", "。", "word", "Re: ", "On Tue wrote:", "-- ",
    ]

    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        mutating func text(pieces: Int) -> String {
            var s = ""
            for _ in 0..<pieces { s += HostileInputTests.fragments[next(HostileInputTests.fragments.count)] }
            return s
        }
    }

    @Test func randomInputsNeverTrap() {
        var gen = Generator(state: 42)
        let counter = ApproximateTokenCounter()
        let chunker = Chunker(counter: counter, maxTokens: 24, overlapTokens: 6)
        for round in 0..<300 {
            let text = gen.text(pieces: 50 + gen.next(400))
            var data = Data(text.utf8)
            if round % 5 == 0 { data.append(contentsOf: (0..<50).map { _ in UInt8(gen.next(256)) }) }
            if let note = try? MarkdownNoteParser.parse(data, path: "/r.md", modified: Date()) {
                for chunk in chunker.chunks(for: note) { #expect(counter.countTokens(chunk.text) <= 24) }
            }
            var splitter = MboxSplitter()
            var messages: [RawMessage] = []
            var i = 0
            while i < data.count {
                let end = min(data.count, i + 1 + gen.next(97))
                messages += splitter.append(data.subdata(in: i..<end))
                i = end
            }
            messages += splitter.finish()
            #expect(messages.map(\.length).reduce(0, +) <= Int64(data.count))
            var documents: [Document] = []
            for message in messages {
                if let doc = try? MailParser.parse(message, mboxPath: "/r.mbox") {
                    documents.append(doc)
                    for chunk in chunker.chunks(for: doc) { #expect(counter.countTokens(chunk.text) <= 24) }
                    _ = ReplyCleaner.ownWords(doc.body)
                }
            }
            let threads = MailThreader.thread(documents.map(ThreadableMessage.init))
            #expect(threads.flatMap(\.messageIDs).count == documents.count)
            _ = HTMLText.text(fromHTML: text)
            _ = EncodedWords.decode(text)
            _ = DateParsing.parse(String(text.prefix(60)))
        }
    }

    /// 50,000 References: kept to `maxReferences` (the root and the nearest ids), and threading 2,000
    /// messages that each carry a full list finishes (linear in the ids, no pairwise comparison).
    @Test func fiftyThousandReferencesAreCappedAndThreadStaysLinear() throws {
        let references = (0..<50_000).map { "<r\($0)@example.org>" }.joined(separator: " ")
        let text = "From a@b Tue Mar  5 10:30:00 2024\nFrom: a@b\nSubject: Re: long\nMessage-ID: <last@example.org>\n"
            + "References: \(references)\n\nbody\n"
        var splitter = MboxSplitter()
        let messages = splitter.append(Data(text.utf8)) + splitter.finish()
        let document = try MailParser.parse(try #require(messages.first), mboxPath: "/refs.mbox")
        #expect(document.references.count == MailParser.maxReferences)
        #expect(document.references.first == "r0@example.org")
        #expect(document.references.last == "r49999@example.org")

        let capped = Array(document.references)
        var threadable = [ThreadableMessage(messageID: "r0@example.org", references: [], subject: "long", date: nil)]
        for i in 1..<2_000 {
            threadable.append(ThreadableMessage(messageID: "m\(i)@example.org", references: capped, subject: "Re: long", date: nil))
        }
        let threads = MailThreader.thread(threadable)
        #expect(threads.count == 1)
        #expect(threads.first?.messageIDs.count == threadable.count)
    }
}
