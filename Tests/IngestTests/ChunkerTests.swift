import Foundation
import Testing
@testable import Ingest

/// A counter that counts whitespace-separated words plus two (like [CLS]/[SEP]): not additive over
/// pieces, so it exercises the chunker's real-count check.
struct WordCounterWithSpecials: TokenCounting {
    func countTokens(_ text: String) -> Int { text.split(whereSeparator: { $0 == " " || $0 == "\n" }).count + 2 }
}

@Suite struct ChunkerTests {
    let counter = ApproximateTokenCounter()

    func note(_ body: String, offset: Int = 1) -> Document {
        Document(kind: .note, path: "/n.md", title: "t", body: body, bodyLineOffset: offset)
    }

    /// Every chunk's text must lie within its source lines, and respect the limit.
    func checkChunks(_ chunks: [Chunk], source: String, counter: any TokenCounting, maxTokens: Int,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        for (k, chunk) in chunks.enumerated() {
            #expect(chunk.ordinal == k, sourceLocation: sourceLocation)
            #expect(counter.countTokens(chunk.text) <= maxTokens, sourceLocation: sourceLocation)
            #expect(!chunk.text.isEmpty, sourceLocation: sourceLocation)
            guard chunk.lineStart >= 1, chunk.lineEnd <= lines.count, chunk.lineStart <= chunk.lineEnd else {
                Issue.record("bad range \(chunk.lineStart)...\(chunk.lineEnd)", sourceLocation: sourceLocation)
                continue
            }
            let spanLength = lines[(chunk.lineStart - 1)...(chunk.lineEnd - 1)].reduce(0) { $0 + $1.utf8.count }
            // Searching a megabyte line for each of its thousands of chunks would be quadratic: sample those.
            guard spanLength < 100_000 || k % 400 == 0 || k == chunks.count - 1 else { continue }
            let span = lines[(chunk.lineStart - 1)...(chunk.lineEnd - 1)].joined(separator: "\n")
            #expect(span.contains(chunk.text), "chunk \(k) not in lines \(chunk.lineStart)...\(chunk.lineEnd)",
                    sourceLocation: sourceLocation)
            // The range is tight: first and last lines hold part of the text.
            let firstLine = String(lines[chunk.lineStart - 1])
            let lastLine = String(lines[chunk.lineEnd - 1])
            let textLines = chunk.text.split(separator: "\n", omittingEmptySubsequences: false)
            let firstText = textLines.first.map(String.init) ?? ""
            let lastText = textLines.last.map(String.init) ?? ""
            #expect(firstLine.contains(firstText) && lastLine.contains(lastText), sourceLocation: sourceLocation)
        }
    }

    @Test func sectionsAndHeadingPaths() throws {
        let file = """
            ---
            title: x
            ---
            Intro paragraph.

            # Top
            Text under top.

            ## Child
            Child text
            continues here.

            - item one
            - item two

            # Second
            Setext
            ------
            Under setext.
            """
        let doc = try MarkdownNoteParser.parse(Data(file.utf8), path: "/n.md", modified: Date())
        let chunks = Chunker(counter: counter, maxTokens: 256).chunks(for: doc)
        #expect(chunks.map(\.headingPath) == [[], ["Top"], ["Top", "Child"], ["Second"], ["Second", "Setext"]])
        #expect(chunks[0].text == "Intro paragraph.")
        #expect(chunks[0].lineStart == 4 && chunks[0].lineEnd == 4)
        #expect(chunks[2].text == "## Child\nChild text\ncontinues here.\n\n- item one\n- item two")
        #expect(chunks[2].lineStart == 9 && chunks[2].lineEnd == 14)
        #expect(chunks[4].lineStart == 17 && chunks[4].lineEnd == 19)
        checkChunks(chunks, source: file, counter: counter, maxTokens: 256)
    }

    @Test func mergesParagraphsUpToTheLimitWithOverlap() {
        var body = "# Notes\n"
        for i in 0..<60 { body += "\nParagraph \(i) has a handful of ordinary words in it.\n" }
        let chunker = Chunker(counter: counter, maxTokens: 64, overlapTokens: 16)
        let chunks = chunker.chunks(for: note(body))
        #expect(chunks.count > 5)
        checkChunks(chunks, source: body, counter: counter, maxTokens: 64)
        // Consecutive chunks of the section overlap by a trailing paragraph.
        for (a, b) in zip(chunks, chunks.dropFirst()) {
            #expect(b.lineStart <= a.lineEnd)
            let lastParagraph = a.text.components(separatedBy: "\n\n").last!
            #expect(b.text.hasPrefix(lastParagraph))
        }
        // No overlap when disabled.
        let plain = Chunker(counter: counter, maxTokens: 64, overlapTokens: 0).chunks(for: note(body))
        for (a, b) in zip(plain, plain.dropFirst()) { #expect(b.lineStart > a.lineEnd) }
    }

    @Test func codeFencesAreNotSplit() {
        var body = "# Code\n\nSome text before.\n\n```swift\n"
        for i in 0..<20 { body += "let value\(i) = compute(\(i)) // step\n" }
        body += "```\n\nAfter the code.\n"
        let chunks = Chunker(counter: counter, maxTokens: 256, overlapTokens: 0).chunks(for: note(body))
        let withFence = chunks.filter { $0.text.contains("```swift") }
        #expect(withFence.count == 1)
        #expect(withFence.first?.text.contains("let value19") == true)
        #expect(withFence.first?.text.hasSuffix("```") == true || withFence.first?.text.contains("```\n") == true)
        checkChunks(chunks, source: body, counter: counter, maxTokens: 256)
        // A fence longer than the limit is split by lines, each chunk within the limit.
        let small = Chunker(counter: counter, maxTokens: 40, overlapTokens: 0).chunks(for: note(body))
        #expect(small.filter { $0.text.contains("let value") }.count > 1)
        checkChunks(small, source: body, counter: counter, maxTokens: 40)
        // Blank lines inside a fence do not end it.
        let gap = "```\nline one\n\nline two\n```"
        let gapChunks = Chunker(counter: counter).chunks(for: note(gap))
        #expect(gapChunks.map(\.text) == [gap])
    }

    @Test func longLinesSplitBySentencesWordsAndCharacters() {
        let sentences = (0..<200).map { "Sentence number \($0) is here." }.joined(separator: " ")
        let noSpaces = String(repeating: "abcdefghij", count: 300_000)  // 3 MB, one "word"
        let words = (0..<20_000).map { "w\($0)" }.joined(separator: " ")
        let body = "Title line\n\(sentences)\n\n\(noSpaces)\n\n\(words)\nend"
        let chunker = Chunker(counter: counter, maxTokens: 128, overlapTokens: 16)
        let chunks = chunker.chunks(for: note(body, offset: 5))
        let shifted = String(repeating: "\n", count: 4) + body
        checkChunks(chunks, source: shifted, counter: counter, maxTokens: 128)
        #expect(chunks.contains { $0.text.hasPrefix("Title line\nSentence number 0 is here.") })
        #expect(chunks.contains { $0.lineStart == 8 && $0.text.hasPrefix("abcdefghij") })
        #expect(chunks.allSatisfy { $0.text.utf8.count <= chunker.maxChunkBytes })
        // Every character of the huge line is covered.
        let covered = chunks.filter { $0.lineStart <= 8 && $0.lineEnd >= 8 }
            .flatMap { $0.text.split(separator: "\n") }
            .filter { $0.allSatisfy { "abcdefghij".contains($0) } }
            .map { $0.utf8.count }.reduce(0, +)
        #expect(covered >= noSpaces.utf8.count)
    }

    @Test func aHugeHeadingIsClippedInEveryChunksHeadingPath() throws {
        // A 1 MB `# ` line (a broken export, a hostile file) is a heading and the note's title. Both are
        // repeated with each of its many chunks, so both are clipped; the line's text stays in the chunks.
        let huge = (0..<100_000).map { "w\($0 % 10)" }.joined(separator: " ")
        let body = "# \(huge)\n\nShort paragraph under it.\n## Sub\n\nMore."
        let document = try MarkdownNoteParser.parse(Data(body.utf8), path: "/n.md", modified: Date())
        #expect(document.title.count <= ShortLabel.maxCharacters + 1 && document.title.hasSuffix("…"))
        #expect(document.title.hasPrefix("w0 w1 w2"))
        let chunks = Chunker(counter: counter, maxTokens: 128, overlapTokens: 16).chunks(for: document)
        #expect(chunks.count > 100)
        #expect(chunks.allSatisfy { $0.headingPath.allSatisfy { $0.count <= ShortLabel.maxCharacters + 1 } })
        #expect(chunks.last?.headingPath.last == "Sub")
        #expect(ShortLabel.clipped("Weekly sync") == "Weekly sync")
    }

    @Test func nonAdditiveCounterStillRespectsLimit() {
        var body = ""
        for i in 0..<50 { body += "para \(i) one two three\nsecond line four five\n\n" }
        let c = WordCounterWithSpecials()
        let chunks = Chunker(counter: c, maxTokens: 20, overlapTokens: 4).chunks(for: note(body))
        checkChunks(chunks, source: body, counter: c, maxTokens: 20)
    }

    @Test func multibyteTextIsSplitAtScalarBoundaries() {
        let body = String(repeating: "日本語のテキスト", count: 5000)
        let chunks = Chunker(counter: counter, maxTokens: 100).chunks(for: note(body))
        checkChunks(chunks, source: body, counter: counter, maxTokens: 100)
        #expect(chunks.map(\.text).joined().count >= body.count)
        #expect(!chunks.contains { $0.text.contains("\u{FFFD}") })
    }

    @Test func mailChunksOwnWordsWithMboxLines() throws {
        let mbox = """
            From a@x Tue Mar  5 10:30:00 2024
            Subject: Re: plan
            Message-ID: <m1@x>

            I agree with the plan.

            On Mon, Mar 4, 2024 at 9:00 AM Alice <alice@x> wrote:
            > The plan is to ship.
            > Agreed?

            Second paragraph of mine.
            --
            Bob
            """
        var splitter = MboxSplitter()
        let raw = splitter.append(Data(mbox.utf8)) + splitter.finish()
        let doc = try MailParser.parse(raw[0], mboxPath: "/m.mbox")
        #expect(doc.body.contains("> The plan is to ship."))
        let chunks = Chunker(counter: counter).chunks(for: doc)
        #expect(chunks.count == 1)
        #expect(chunks[0].text == "I agree with the plan.\n\nSecond paragraph of mine.")
        #expect(chunks[0].lineStart == 5)
        #expect(chunks[0].lineEnd == 11)
        #expect(chunks[0].headingPath.isEmpty)
        let lines = mbox.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[chunks[0].lineStart - 1] == "I agree with the plan.")
        #expect(lines[chunks[0].lineEnd - 1] == "Second paragraph of mine.")
    }

    @Test func bareForwardIsChunkedWhole() {
        let body = "-----Original Message-----\nFrom: A\nSent: today\nTo: B\nSubject: S\n\nThe forwarded words."
        let doc = Document(kind: .mail, path: "/m", title: "Fwd: S", body: body, bodyLineOffset: 10)
        let chunks = Chunker(counter: counter).chunks(for: doc)
        #expect(chunks.count == 1)
        #expect(chunks.first?.text.hasSuffix("The forwarded words.") == true)
        #expect(chunks.first?.lineStart == 10)
        #expect(chunks.first?.lineEnd == 16)
    }

    @Test func emptyDocuments() {
        #expect(Chunker(counter: counter).chunks(for: note("")).isEmpty)
        #expect(Chunker(counter: counter).chunks(for: note("\n\n   \n")).isEmpty)
    }

    @Test func approximateCounter() {
        #expect(counter.countTokens("") == 0)
        #expect(counter.countTokens("hello world") == 2)
        #expect(counter.countTokens("hello, world!") == 4)
        #expect(counter.countTokens("internationalization") == 4)
        #expect(counter.countTokens("日本語") == 3)
        #expect(counter.countTokens("naïve café") == 2)
    }
}
