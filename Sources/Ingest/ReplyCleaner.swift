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
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            line.last == "\r" ? line.dropLast() : line
        }
        let cutoff = historyStart(lines) ?? lines.count
        var keep = [Bool](repeating: true, count: cutoff)
        for i in 0..<cutoff {
            let trimmed = lines[i].drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.hasPrefix(">") { keep[i] = false; continue }
            if isTrailer(trimmed) { keep[i] = false; continue }
            if isAttribution(lines, i, cutoff) {
                keep[i] = false
                // A two-line attribution: "On Tue, … John Doe <" / "john@example.com> wrote:".
                if i > 0, keep[i - 1], startsAttribution(lines[i - 1]) && !endsAttribution(lines[i - 1]) {
                    keep[i - 1] = false
                }
            }
        }
        var result: [OwnLine] = []
        var lastBlank = true
        for i in 0..<cutoff where keep[i] {
            let isBlank = lines[i].allSatisfy { $0 == " " || $0 == "\t" }
            if isBlank && lastBlank { continue }
            result.append(OwnLine(lineIndex: i, text: isBlank ? "" : String(lines[i])))
            lastBlank = isBlank
        }
        while let last = result.last, last.text.isEmpty { result.removeLast() }
        return result
    }

    private static let attributionStarts = ["on ", "am ", "le ", "el ", "op ", "il ", "em ", "den "]
    private static let attributionEnds = ["wrote:", "writes:", "wrote :", "schrieb:", "geschrieben:", "a écrit :",
                                          "a écrit:", "escribió:", "escribio:", "schreef:", "ha scritto:", "escreveu:",
                                          "skrev:", "kirjoitti:"]

    private static let attributionVerbs = ["wrote", "writes", "schrieb", "geschrieben", "a écrit", "escribió",
                                           "escribio", "schreef", "ha scritto", "escreveu", "skrev", "kirjoitti"]

    private static func startsAttribution(_ line: Substring) -> Bool {
        let l = line.trimmingCharacters(in: .whitespaces).lowercased()
        return attributionStarts.contains { l.hasPrefix($0) }
    }

    private static func endsAttribution(_ line: Substring) -> Bool {
        let l = line.trimmingCharacters(in: .whitespaces).lowercased()
        return attributionEnds.contains { l.hasSuffix($0) }
    }

    /// "On … wrote:" (and its German, French, Spanish, Dutch… forms), or any "… wrote:" line that
    /// introduces quoted text.
    private static func isAttribution(_ lines: [Substring], _ i: Int, _ end: Int) -> Bool {
        if startsAttribution(lines[i]), lines[i].utf8.count < 300 {
            // "Am … schrieb Alice <alice@example.com>:" puts the name after the verb.
            let l = lines[i].trimmingCharacters(in: .whitespaces).lowercased()
            if l.hasSuffix(":"), attributionVerbs.contains(where: { l.contains($0) }) { return true }
        }
        guard endsAttribution(lines[i]) else { return false }
        if startsAttribution(lines[i]) || lines[i].utf8.count < 200 && nextNonBlankIsQuoted(lines, after: i, end) {
            return true
        }
        return false
    }

    private static func nextNonBlankIsQuoted(_ lines: [Substring], after i: Int, _ end: Int) -> Bool {
        var j = i + 1
        while j < end {
            let t = lines[j].drop(while: { $0 == " " || $0 == "\t" })
            if !t.isEmpty { return t.hasPrefix(">") }
            j += 1
        }
        return true
    }

    private static let trailerPrefixes = [
        "sent from my ", "sent from mail for windows", "sent from outlook", "sent from yahoo mail", "sent from samsung",
        "sent via ", "get outlook for ", "von meinem ", "gesendet von meinem ", "envoyé de mon ", "envoyé depuis mon ",
        "enviado desde mi ", "enviado do meu ", "inviato da ",
    ]

    private static func isTrailer(_ line: Substring) -> Bool {
        guard line.utf8.count < 100 else { return false }
        let l = line.lowercased()
        return trailerPrefixes.contains { l.hasPrefix($0) }
    }

    private static let originalMessageMarkers = ["original message", "ursprüngliche nachricht", "originalnachricht",
                                                 "message d'origine", "message original", "mensaje original",
                                                 "messaggio originale", "oorspronkelijk bericht"]
    private static let fromFields = ["from:", "von:", "de:", "de :", "van:", "da:"]
    private static let otherFields = ["sent:", "date:", "to:", "subject:", "cc:", "gesendet:", "datum:", "an:",
                                      "betreff:", "envoyé :", "envoyé:", "à :", "objet :", "objet:", "enviado:",
                                      "enviado el:", "fecha:", "para:", "asunto:", "verzonden:", "aan:", "onderwerp:",
                                      "inviato:", "oggetto:"]

    /// Where carried-along history begins: an "-----Original Message-----" line, an Outlook header block
    /// ("From: … Sent: … To: … Subject: …"), a signature delimiter, or a mailing-list footer.
    private static func historyStart(_ lines: [Substring]) -> Int? {
        for i in lines.indices {
            let line = lines[i]
            if line == "-- " || line == "--" { return i }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(">") { continue }
            let lower = trimmed.lowercased()
            if lower.hasPrefix("---"), originalMessageMarkers.contains(where: { lower.contains($0) }) { return i }
            if fromFields.contains(where: { lower.hasPrefix($0) }) {
                var fieldCount = 0
                for j in (i + 1)..<min(lines.count, i + 7) {
                    let l = lines[j].trimmingCharacters(in: .whitespaces).lowercased()
                    if otherFields.contains(where: { l.hasPrefix($0) }) { fieldCount += 1 }
                }
                if fieldCount >= 2 {
                    // Outlook puts a rule of underscores above the block; drop it with the block.
                    if i > 0, lines[i - 1].allSatisfy({ $0 == "_" }), !lines[i - 1].isEmpty { return i - 1 }
                    return i
                }
            }
            if trimmed.count >= 10, trimmed.allSatisfy({ $0 == "_" }) {
                for j in (i + 1)..<min(lines.count, i + 6) {
                    let l = lines[j].lowercased()
                    if l.contains("mailing list") || l.contains("listinfo") || l.contains("unsubscribe")
                        || l.contains("mailman") || l.contains("@googlegroups.com") {
                        return i
                    }
                }
            }
        }
        return nil
    }
}
