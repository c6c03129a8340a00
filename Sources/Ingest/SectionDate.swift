import Foundation

/// The date a section of a note is about, read from its heading path ("Decision log > 2026-03-04 — Move to
/// Postgres"), so that in a dated log the later entry counts as newer than an earlier one of the same note,
/// whose file carries only one date.
public enum SectionDate {
    /// The date in the deepest heading that has one, or nil. ISO dates (`2026-03-04`) anywhere in a heading
    /// count; so does a heading that starts with a written date ("March 4, 2026 — …", "4 Mar 2026: …").
    public static func from(heading: String?) -> Date? {
        guard let heading, !heading.isEmpty else { return nil }
        for segment in heading.components(separatedBy: " > ").reversed() {
            if let date = isoDate(in: segment) ?? leadingDate(in: segment) { return date }
        }
        return nil
    }

    /// The first `YYYY-MM-DD` in `text` that is a real calendar day.
    static func isoDate(in text: String) -> Date? {
        guard let range = text.range(of: #"(?<![0-9])(19|20|21)[0-9]{2}-[01][0-9]-[0-3][0-9](?![0-9])"#, options: .regularExpression)
        else { return nil }
        return FlexibleDate.parse(String(text[range]))
    }

    /// A written date at the start of `text`, before a dash or colon ("March 4, 2026 — Postgres").
    static func leadingDate(in text: String) -> Date? {
        let head = text.components(separatedBy: CharacterSet(charactersIn: "—–:|")).first ?? text
        let candidate = head.trimmingCharacters(in: .whitespaces)
        // A bare year ("2026 books") is a topic, not a day.
        guard candidate.count >= 8, candidate.rangeOfCharacter(from: .letters) != nil,
            candidate.rangeOfCharacter(from: .decimalDigits) != nil
        else { return nil }
        return FlexibleDate.parse(candidate)
    }
}
