import Foundation

/// Checks the decimal numbers and version numbers in a reply against the sources.
///
/// Asked for a score, a rating or a version the sources never give ("What CVSS score did the CVE get?"),
/// a small model writes a plausible one ("5.0"). A number written with a decimal point ("5.0", "7.5",
/// "3.2.1") is copied, not derived, when it comes from the user's data, so each must appear in a source
/// as it is. Whole numbers are left alone: replies restate counts and dates in their own words.
enum DecimalCheck {
    /// Whether every decimal or dotted number in `reply` appears in one of `sources`.
    static func accepts(_ reply: String, sources: [String]) -> Bool {
        GroundedValues.accepts(reply, sources: sources, reading: numbers(in:))
    }

    /// The dotted numbers in `text` ("5.0", "3.2.1", "v2.10" → "2.10"); a trailing full stop is not part
    /// of the number, and a comma ends one ("1,195.50" gives "195.50", in the reply and the sources alike).
    static func numbers(in text: String) -> Set<String> {
        var found = Set<String>()
        for token in text.split(whereSeparator: { $0.isWhitespace || "()[],;:!?\"'“”‘’*`/".contains($0) }) {
            let trimmed = token.drop { !$0.isNumber }.reversed().drop { !$0.isNumber }.reversed()
            let number = String(trimmed)
            let parts = number.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { continue }
            found.insert(number)
        }
        return found
    }
}
