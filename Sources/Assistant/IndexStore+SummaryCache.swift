import Index

/// The index keeps summaries keyed by thread, content hash and model: exactly what `Summarizer` needs.
extension IndexStore: SummaryCache {}
