import Foundation

/// The rule `AmountCheck`, `ClockTimeCheck` and `DecimalCheck` share: a value of their kind in a reply
/// (a sum of money, a time of day, a decimal number) stands only if a source states the same value, as the
/// check's reader normalizes it.
enum GroundedValues {
    /// Whether every value `read` finds in `reply` (citation markers removed) is one it finds in a source.
    static func accepts<Value: Hashable>(
        _ reply: String, sources: [String], reading read: (String) -> Set<Value>
    ) -> Bool {
        let stated = read(CitationResolver.removingMarkers(from: reply))
        guard !stated.isEmpty else { return true }
        let known = sources.reduce(into: Set<Value>()) { $0.formUnion(read($1)) }
        return stated.isSubset(of: known)
    }
}
