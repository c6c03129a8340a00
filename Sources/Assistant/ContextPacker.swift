import Foundation
import Index
import Inference

/// Chooses which retrieved chunks go into the prompt so that instructions, context and the answer all fit.
///
/// Hits arrive best first. The packer keeps that order (relevance), skips duplicates, and adds chunks while
/// the rendered prompt stays within `promptBudget` tokens as counted by the answer model itself. A chunk
/// that does not fit is skipped (a later, shorter one may still fit); only when not even the first chunk fits
/// is it cut at a line boundary, so the model always sees the best evidence.
public struct ContextPacker: Sendable {
    /// The largest prompt, in tokens, that the packer builds.
    public var promptBudget: Int
    /// At most this many chunks, however short.
    public var maxItems: Int

    public init(promptBudget: Int, maxItems: Int = 8) {
        self.promptBudget = promptBudget
        self.maxItems = maxItems
    }

    /// The prompt budget for `generator`: `preferred` tokens, but never more than the window minus the answer.
    public static func budget(for generator: any TextGenerator, preferred: Int, answerReserve: Int) -> Int {
        min(preferred, max(0, generator.contextLength - answerReserve))
    }

    /// Packs `hits`. `fixedTokens` is what the prompt costs with an empty context (instructions, question,
    /// history); `count` measures a piece of context text in the answer model's tokens; `shorten` gives the
    /// text to show for a hit (e.g. `ContextTrimmer`), the whole chunk by default.
    public func pack(
        _ hits: [SearchHit], fixedTokens: Int, count: (String) throws -> Int,
        shorten: (SearchHit) throws -> String = { $0.text }
    ) rethrows -> [ContextItem] {
        var items: [ContextItem] = []
        var used = fixedTokens
        var seenChunks = Set<Int64>()
        var seenTexts = Set<String>()
        let separatorCost = 2
        for hit in hits where items.count < maxItems {
            let normalized = hit.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !normalized.isEmpty, !seenChunks.contains(hit.chunkID), !seenTexts.contains(normalized) else {
                continue
            }
            var item = ContextItem(n: items.count + 1, hit: hit, text: try shorten(hit))
            var cost = try count(item.fencedBlock) + separatorCost
            if used + cost > promptBudget {
                guard items.isEmpty else { continue }
                guard let cut = try truncated(item, room: promptBudget - used - separatorCost, count: count) else {
                    continue
                }
                item = cut
                cost = try count(item.fencedBlock) + separatorCost
            }
            items.append(item)
            used += cost
            seenChunks.insert(hit.chunkID)
            seenTexts.insert(normalized)
        }
        return items
    }

    /// The longest line-prefix (word-prefix for a single long line) of the item's text whose block fits in
    /// `room` tokens, or nil if none does.
    private func truncated(_ item: ContextItem, room: Int, count: (String) throws -> Int) rethrows -> ContextItem? {
        var separator = "\n"
        var lines = item.text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.count < 2 {
            separator = " "
            lines = item.text.split(separator: " ", omittingEmptySubsequences: false)
        }
        var low = 0
        var high = lines.count
        var best: ContextItem?
        while low < high {
            let mid = (low + high + 1) / 2
            var candidate = item
            candidate.text = lines.prefix(mid).joined(separator: separator)
            if try count(candidate.fencedBlock) <= room {
                best = candidate
                low = mid
            } else {
                high = mid - 1
            }
        }
        if let best, !best.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return best }
        return nil
    }

    /// The items' dates, newest first (`[3] 2026-05-22, [1] 2026-04-15, [2] undated`), so that a small model
    /// can see which source is the latest word without comparing dates itself.
    public static func timeline(_ items: [ContextItem]) -> String {
        let ordered = items.sorted { a, b in
            switch (a.date, b.date) {
            case let (x?, y?) where x != y: return x > y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.n < b.n
            }
        }
        return ordered.map { "[\($0.n)] \(DateLabel.day($0.date))" }.joined(separator: ", ")
    }

    /// The context section of the prompt: all blocks, separated by blank lines.
    public static func render(_ items: [ContextItem]) -> String {
        items.map(\.fencedBlock).joined(separator: "\n\n")
    }
}
