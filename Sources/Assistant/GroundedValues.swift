import Foundation

/// The rule `ClockTimeCheck` and `DecimalCheck` share: a value of their kind in a reply (a time of day, a
/// decimal number) stands only if a source states the same value, as the check's reader normalizes it.
/// (`AmountCheck` asks more of a sum of money: the source must state it for the same thing.)
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
