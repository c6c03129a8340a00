import Foundation

/// One line of a message body that the cleaner kept, with where it was.
public struct OwnLine: Sendable, Equatable {
    /// 0-based index of the line in the body passed to the cleaner.
    public var lineIndex: Int
    public var text: String

    public init(lineIndex: Int, text: String) {
        self.lineIndex = lineIndex
        self.text = text
    }
}

/// Keeps what the sender wrote and drops what they carried along: quoted lines, "On … wrote:"
/// attributions, forwarded Outlook history, signatures, mobile trailers and mailing-list footers.
///
/// Inline replies between quotes are kept. The stored body keeps everything; this is for chunking,
/// summarizing and search.
public enum ReplyCleaner {
    /// The sender's own words, lines joined with newlines, runs of blank lines collapsed.
    public static func ownWords(_ body: String) -> String {
        ownLines(body).map(\.text).joined(separator: "\n")
    }

    /// The kept lines with their positions in `body`; blank lines collapsed to one, none at either end.
    public static func ownLines(_ body: String) -> [OwnLine] {
        let text = LineBytes(body)
        let count = text.lines.count
        let cutoff = historyStart(text) ?? count
        var keep = [Bool](repeating: true, count: cutoff)
        for i in 0..<cutoff {
            let trimmed = text.trimmed(i)
            if trimmed.isEmpty { continue }
            if text.bytes[trimmed.lowerBound] == 0x3E { keep[i] = false; continue }
            if isTrailer(text, trimmed) { keep[i] = false; continue }
            if isAttribution(text, i, cutoff) {
                keep[i] = false
                // A two-line attribution: "On Tue, … John Doe <" / "john@example.com> wrote:".
                if i > 0, keep[i - 1], startsAttribution(text, i - 1), !endsAttribution(text, i - 1) {
                    keep[i - 1] = false
                }
            }
        }
        var result: [OwnLine] = []
        var lastBlank = true
        for i in 0..<cutoff where keep[i] {
            let isBlank = text.trimmed(i).isEmpty
            if isBlank && lastBlank { continue }
            result.append(OwnLine(lineIndex: i, text: isBlank ? "" : text.string(text.lines[i])))
            lastBlank = isBlank
        }
        while let last = result.last, last.text.isEmpty { result.removeLast() }
        return result
    }

    private static func patterns(_ list: [String]) -> [[UInt8]] { list.map { Array($0.utf8) } }

    private static let attributionStarts = patterns(["on ", "am ", "le ", "el ", "op ", "il ", "em ", "den "])
    private static let attributionEnds = patterns([
        "wrote:", "writes:", "wrote :", "schrieb:", "geschrieben:", "a écrit :", "a écrit:", "escribió:", "escribio:",
        "schreef:", "ha scritto:", "escreveu:", "skrev:", "kirjoitti:"])
    private static let attributionVerbs = patterns([
        "wrote", "writes", "schrieb", "geschrieben", "a écrit", "escribió", "escribio", "schreef", "ha scritto",
        "escreveu", "skrev", "kirjoitti"])

    private static func startsAttribution(_ text: LineBytes, _ i: Int) -> Bool {
        let t = text.trimmed(i)
        return attributionStarts.contains { text.hasPrefix(t, $0) }
    }

    private static func endsAttribution(_ text: LineBytes, _ i: Int) -> Bool {
        let t = text.trimmed(i)
        guard !t.isEmpty, text.bytes[t.upperBound - 1] == 0x3A else { return false }
        return attributionEnds.contains { text.hasSuffix(t, $0) }
    }

    /// "On … wrote:" (and its German, French, Spanish, Dutch… forms, where the name may follow the verb),
    /// or any short "… wrote:" line that introduces quoted text.
    private static func isAttribution(_ text: LineBytes, _ i: Int, _ end: Int) -> Bool {
        let t = text.trimmed(i)
        guard !t.isEmpty, text.bytes[t.upperBound - 1] == 0x3A else { return false }
        if t.count < 300, startsAttribution(text, i), attributionVerbs.contains(where: { text.contains(t, $0) }) {
            return true
        }
        return endsAttribution(text, i) && t.count < 200 && nextNonBlankIsQuoted(text, after: i, end)
    }

    private static func nextNonBlankIsQuoted(_ text: LineBytes, after i: Int, _ end: Int) -> Bool {
        var j = i + 1
        while j < end {
            let t = text.trimmed(j)
            if !t.isEmpty { return text.bytes[t.lowerBound] == 0x3E }
            j += 1
        }
        return true
    }

    private static let trailerPrefixes = patterns([
        "sent from my ", "sent from mail for windows", "sent from outlook", "sent from yahoo mail", "sent from samsung",
        "sent via ", "get outlook for ", "von meinem ", "gesendet von meinem ", "envoyé de mon ", "envoyé depuis mon ",
        "enviado desde mi ", "enviado do meu ", "inviato da "])

    private static func isTrailer(_ text: LineBytes, _ t: Range<Int>) -> Bool {
        guard t.count < 100 else { return false }
        return trailerPrefixes.contains { text.hasPrefix(t, $0) }
    }

    private static let originalMessageMarkers = patterns([
        "original message", "ursprüngliche nachricht", "originalnachricht", "message d'origine", "message original",
        "mensaje original", "messaggio originale", "oorspronkelijk bericht"])
    private static let fromFields = patterns(["from:", "von:", "de:", "de :", "van:", "da:"])
    private static let otherFields = patterns([
        "sent:", "date:", "to:", "subject:", "cc:", "gesendet:", "datum:", "an:", "betreff:", "envoyé :", "envoyé:",
        "à :", "objet :", "objet:", "enviado:", "enviado el:", "fecha:", "para:", "asunto:", "verzonden:", "aan:",
        "onderwerp:", "inviato:", "oggetto:"])
    private static let listFooterMarkers = patterns(["mailing list", "listinfo", "unsubscribe", "mailman", "@googlegroups.com"])
    private static let nextPartMarker = Array("next part".utf8)
    private static let scrubbedMarker = Array("attachment was scrubbed".utf8)

    /// Where carried-along history begins: an "-----Original Message-----" line, an Outlook header block
    /// ("From: … Sent: … To: … Subject: …"), a signature delimiter, a mailing-list footer, or the notice
    /// Mailman's archives put where they removed an attachment ("-------------- next part --------------"
    /// then "An HTML attachment was scrubbed..." and its URL); a next part that is text stays.
    private static func historyStart(_ text: LineBytes) -> Int? {
        let count = text.lines.count
        for i in 0..<count {
            let line = text.lines[i]
            if text.equals(line, "-- ") || text.equals(line, "--") { return i }
            let t = text.trimmed(i)
            guard !t.isEmpty else { continue }
            let first = TextScan.fold(text.bytes[t.lowerBound])
            if first == 0x3E { continue }
            if first == 0x2D, t.count >= 3, text.bytes[t.lowerBound + 1] == 0x2D, text.bytes[t.lowerBound + 2] == 0x2D {
                if originalMessageMarkers.contains(where: { text.contains(t, $0) }) { return i }
                if text.contains(t, nextPartMarker),
                   ((i + 1)..<max(i + 1, min(count, i + 3))).contains(where: { text.contains(text.lines[$0], scrubbedMarker) }) {
                    return i
                }
            }
            if first == 0x66 || first == 0x76 || first == 0x64, fromFields.contains(where: { text.hasPrefix(t, $0) }) {
                var fieldCount = 0
                for j in (i + 1)..<max(i + 1, min(count, i + 7)) {
                    let l = text.trimmed(j)
                    if otherFields.contains(where: { text.hasPrefix(l, $0) }) { fieldCount += 1 }
                }
                if fieldCount >= 2 {
                    // Outlook puts a rule of underscores above the block; drop it with the block.
                    if i > 0, !text.lines[i - 1].isEmpty, text.lines[i - 1].allSatisfy({ text.bytes[$0] == 0x5F }) {
                        return i - 1
                    }
                    return i
                }
            }
            if first == 0x5F, t.count >= 10, t.allSatisfy({ text.bytes[$0] == 0x5F }) {
                for j in (i + 1)..<max(i + 1, min(count, i + 6))
                where listFooterMarkers.contains(where: { text.contains(text.lines[j], $0) }) {
                    return i
                }
            }
        }
        return nil
    }
}

/// A body as UTF-8 bytes with line ranges (LF-separated, CR excluded), and ASCII-case-insensitive tests
/// on those ranges. Patterns are given in lowercase.
struct LineBytes {
    let bytes: [UInt8]
    let lines: [Range<Int>]

    init(_ text: String) {
        bytes = Array(text.utf8)
        var lines: [Range<Int>] = []
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0x0A {
            lines.append(start..<(i > start && bytes[i - 1] == 0x0D ? i - 1 : i))
            start = i + 1
        }
        let n = bytes.count
        lines.append(start..<(n > start && bytes[n - 1] == 0x0D ? n - 1 : n))
        self.lines = lines
    }

    func string(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }

    /// Line `i` without leading and trailing spaces and tabs.
    func trimmed(_ i: Int) -> Range<Int> {
        var lo = lines[i].lowerBound, hi = lines[i].upperBound
        while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
        while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
        return lo..<hi
    }

    func equals(_ r: Range<Int>, _ s: String) -> Bool { bytes[r].elementsEqual(s.utf8) }

    func hasPrefix(_ r: Range<Int>, _ p: [UInt8]) -> Bool {
        guard r.count >= p.count else { return false }
        for k in 0..<p.count where TextScan.fold(bytes[r.lowerBound + k]) != p[k] { return false }
        return true
    }

    func hasSuffix(_ r: Range<Int>, _ p: [UInt8]) -> Bool {
        guard r.count >= p.count else { return false }
        let start = r.upperBound - p.count
        for k in 0..<p.count where TextScan.fold(bytes[start + k]) != p[k] { return false }
        return true
    }

    func contains(_ r: Range<Int>, _ p: [UInt8]) -> Bool {
        guard let first = p.first, r.count >= p.count else { return p.isEmpty }
        var i = r.lowerBound
        while i <= r.upperBound - p.count {
            if TextScan.fold(bytes[i]) == first, hasPrefix(i..<r.upperBound, p) { return true }
            i += 1
        }
        return false
    }
}
