// libFuzzer target: an mbox file through the whole mail path — splitting (whole and in blocks), MIME
// parsing, threading, reply cleaning and chunking. Any trap, sanitizer report or hang is a bug.
import Foundation
import Ingest

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMail(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)

    // A small size cap so the truncation path runs too.
    let whole = MboxSplitter.split(data, maxMessageBytes: 4096)

    // Split again in uneven blocks: the streaming splitter must give the same messages.
    var splitter = MboxSplitter(maxMessageBytes: 4096)
    var streamed: [RawMessage] = []
    var start = 0
    var step = 1
    while start < count {
        let end = min(count, start + step)
        streamed += splitter.append(data.subdata(in: start..<end))
        start = end
        step = step * 3 + 1
    }
    streamed += splitter.finish()
    if streamed != whole {
        fatalError("streamed split (\(streamed.count) messages) differs from the whole split (\(whole.count))")
    }

    _ = MboxSplitter.looksLikeMbox(prefix: data)

    var documents: [Document] = []
    for raw in whole {
        if let document = try? MailParser.parse(raw, mboxPath: "fuzz.mbox") { documents.append(document) }
    }
    _ = MailThreader.thread(documents.map(ThreadableMessage.init))
    let chunker = Chunker(counter: ApproximateTokenCounter(), maxTokens: 64, overlapTokens: 8)
    for document in documents {
        _ = ReplyCleaner.ownWords(document.body)
        _ = ReplyCleaner.ownLines(document.body)
        _ = chunker.chunks(for: document)
    }
    return 0
}
