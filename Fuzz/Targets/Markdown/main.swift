// libFuzzer target: a Markdown note with YAML front matter through the note path — parsing (front matter,
// title, tags, wikilinks, dates) and chunking. Any trap, sanitizer report or hang is a bug.
import Foundation
import Ingest

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMarkdown(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    let modified = Date(timeIntervalSince1970: 1_700_000_000)
    // A daily-note file name exercises the date-from-name path as well.
    for path in ["notes/fuzz.md", "journal/2024-02-29.md"] {
        guard let document = try? MarkdownNoteParser.parse(data, path: path, modified: modified) else { continue }
        let chunker = Chunker(counter: ApproximateTokenCounter(), maxTokens: 64, overlapTokens: 8)
        _ = chunker.chunks(for: document)
    }
    return 0
}
