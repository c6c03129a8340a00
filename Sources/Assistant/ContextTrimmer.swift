import Foundation

/// Shortens a retrieved chunk to the lines that bear on the question, so the prompt carries more evidence
/// per token (a small model's prefill time grows with every token, and it answers better from less noise).
///
/// The chunk is cut into units: lines, and long lines into sentences. A unit scores by the question's
/// content words it contains. The best units are kept together with their neighbours (the line after
/// "Decision:" often holds the answer), in document order, within `maxTokens`; a left-out stretch shows as
/// "…", so the model never reads two distant lines as one. A chunk that already fits is left whole, and
/// one that shares no word with the question keeps its opening lines. Kept text is verbatim from the
/// chunk, so quotes from it are still checked against what the model saw.
public struct ContextTrimmer: Sendable {
    /// Largest trimmed chunk in the answer model's tokens.
    public var maxTokens: Int

    public init(maxTokens: Int = 110) {
        self.maxTokens = maxTokens
    }

    /// Marks a gap where units were left out.
    public static let gap = "…"

    /// `text` cut to at most `maxTokens` tokens (as `count` measures them) of the units nearest `question`.
    public func trim(_ text: String, question: String, count: (String) throws -> Int) rethrows -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard try count(trimmed) > maxTokens else { return trimmed }
        let units = Self.units(of: trimmed)
        guard units.count > 1 else { return trimmed }
        let questionWords = LexicalText.contentWords(question)
        let scores = units.map { Double(questionWords.intersection(LexicalText.contentWords($0)).count) }
        let costs = try units.map { try count($0) + 1 }

        var kept = Set<Int>()
        var used = 0
        func keep(_ index: Int) -> Bool {
            guard units.indices.contains(index), !kept.contains(index) else { return true }
            guard used + costs[index] <= maxTokens else { return false }
            kept.insert(index)
            used += costs[index]
            return true
        }
        // Best units first (earlier wins a tie), each followed by the unit after it and then the one before.
        let order = units.indices.filter { scores[$0] > 0 }.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        for index in order {
            guard keep(index) else { continue }
            _ = keep(index + 1)
            _ = keep(index - 1)
        }
        if kept.isEmpty {
            for index in units.indices where keep(index) == false { break }
        }
        guard !kept.isEmpty else { return trimmed }
        var lines: [String] = []
        var previous: Int?
        for index in kept.sorted() {
            if let previous, index > previous + 1 { lines.append(Self.gap) }
            if previous == nil, index > 0 { lines.append(Self.gap) }
            lines.append(units[index])
            previous = index
        }
        if let previous, previous < units.count - 1 { lines.append(Self.gap) }
        return lines.joined(separator: "\n")
    }

    /// Non-empty lines; a line longer than about two sentences' worth is split into its sentences.
    static func units(of text: String) -> [String] {
        var units: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let clean = line.trimmingCharacters(in: .whitespaces)
            guard !clean.isEmpty else { continue }
            if clean.count > 240 {
                units += LexicalText.sentences(in: clean)
            } else {
                units.append(clean)
            }
        }
        return units
    }
}
