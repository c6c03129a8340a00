import Testing
@testable import Index
