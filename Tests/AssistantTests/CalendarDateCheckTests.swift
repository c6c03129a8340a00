import Foundation
import Testing
@testable import Assistant

@Suite struct CalendarDateCheckTests {
    typealias MonthDay = CalendarDateCheck.MonthDay

    @Test func readsTheCommonWaysOfWritingADay() {
        #expect(CalendarDateCheck.dates(in: "Installed on 3 September, 2026-09-04, September 5th and the 6th of Sept.")
            == [MonthDay(month: 9, day: 3), MonthDay(month: 9, day: 4), MonthDay(month: 9, day: 5), MonthDay(month: 9, day: 6)])
        #expect(CalendarDateCheck.dates(in: "Thursday July 9, 2026 [4]") == [MonthDay(month: 7, day: 9)])
        #expect(CalendarDateCheck.dates(in: "Sun 20 Sep") == [MonthDay(month: 9, day: 20)])
    }

    @Test func leavesAloneWhatNamesNoSingleDay() {
        // A month alone, a year, a clock time after the month, amounts, "may" the verb, a lowercase "mar".
        #expect(CalendarDateCheck.dates(in: "In October 2026 the call moved to October 16:00 UTC.").isEmpty)
        #expect(CalendarDateCheck.dates(in: "We may 3D-print it; prices mar 2 budgets; on the 3rd; 64 units, £2,656").isEmpty)
        #expect(CalendarDateCheck.dates(in: "Release 3.2.1 and 10.30 a.m.").isEmpty)
    }

    @Test func aDateStandsOnlyIfASourceStatesThatDay() {
        let sources = ["SOURCE [1] | 2026-06-12 | email \"Contract\"\nCrew starts Monday July 6, 8:00.", "Paid on 03/09/2026."]
        #expect(CalendarDateCheck.accepts("The crew starts on 6 July [1].", sources: sources))
        // The header's date counts: the mail was sent that day.
        #expect(CalendarDateCheck.accepts("The contract was signed on 12 June 2026.", sources: sources))
        // A numeric source date reads both ways; a reply is read only where month and day are certain.
        #expect(CalendarDateCheck.accepts("It was paid on 9 March.", sources: sources))
        #expect(CalendarDateCheck.accepts("It was paid on 3 September.", sources: sources))
        #expect(!CalendarDateCheck.accepts("The fibre was installed on November 26, 2026 [1].", sources: sources))
        #expect(CalendarDateCheck.accepts("The crew starts on Monday.", sources: sources))
        // One known date is enough: the reply read the right passage and misdated a side detail.
        #expect(CalendarDateCheck.accepts("On 6 July, as agreed on June 14 [1].", sources: sources))
        #expect(!CalendarDateCheck.accepts("On 7 July, as agreed on June 14 [1].", sources: sources))
    }
}

@Suite struct InventedDateTests {
    @Test func todaysDateForAnUnknownDayIsNotAnAnswer() async throws {
        let hit = noteHit(1, path: "notes/home.md", text: "Fibre: router arrived, engineer booked.", date: "2026-08-20", score: 0.9)
        let result = try await scriptedAnswer(
            "When was the fibre connection installed?", reply: "The fibre connection was installed on November 26, 2026 [1].",
            hits: [hit])
        #expect(!result.found)
        #expect(result.declined?.reason == .dateNotInSources)
        let answered = try await scriptedAnswer(
            "When did the router arrive?", reply: "The router arrived on 20 August 2026 [1].", hits: [hit])
        #expect(answered.found && answered.declined == nil)
    }
}
