import Foundation
import Testing
@testable import Ingest

@Suite struct MarkdownNoteParserTests {
    let modified = Date(timeIntervalSince1970: 1_700_000_000)

    func parse(_ text: String, path: String = "/notes/Some Note.md") throws(IngestError) -> Document {
        try MarkdownNoteParser.parse(Data(text.utf8), path: path, modified: modified)
    }

    func utc(_ y: Int, _ m: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0) -> Date {
        var c = DateComponents()
        c.year = y; c.month = m; c.day = d; c.hour = h; c.minute = mi
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        return cal.date(from: c)!
    }

    @Test func frontMatterFields() throws {
        let doc = try parse("""
            ---
            title: Project Plan
            tags: [work, "planning"]
            date: 2024-03-05
            aliases:
              - plan
              - The Plan
            ---
            # Heading
            Body with #inline tag and #work again.
            """)
        #expect(doc.title == "Project Plan")
        #expect(doc.tags == ["work", "planning", "inline"])
        #expect(doc.aliases == ["plan", "The Plan"])
        #expect(doc.date == utc(2024, 3, 5))
        #expect(doc.bodyLineOffset == 9)
        #expect(doc.body.hasPrefix("# Heading\n"))
        #expect(doc.kind == .note)
    }

    @Test func tagsAsStringAndDateFormats() throws {
        let a = try parse("---\ntags: alpha, beta gamma\ndate: 2024-03-05T10:30:00+01:00\n---\ntext")
        #expect(a.tags == ["alpha", "beta", "gamma"])
        #expect(a.date == utc(2024, 3, 5, 9, 30))
        let b = try parse("---\ndate: March 5, 2024\n---\n")
        #expect(b.date == utc(2024, 3, 5))
        let c = try parse("---\ndate: 05.03.2024\n---\n")
        #expect(c.date == utc(2024, 3, 5))
        let d = try parse("---\ndate: 2024/03/05 14:00\n---\n")
        #expect(d.date == utc(2024, 3, 5, 14, 0))
        let e = try parse("---\ntags:\n  - '#hash'\n---\n")
        #expect(e.tags == ["hash"])
    }

    @Test func crlfFrontMatter() throws {
        let doc = try parse("---\r\ntitle: Windows\r\n---\r\nline one\r\nline two\r\n")
        #expect(doc.title == "Windows")
        #expect(doc.body == "line one\nline two")
        #expect(doc.bodyLineOffset == 4)
    }

    @Test func frontMatterThatIsNotYAMLIsReadLineByLineWithAWarning() throws {
        let colon = try parse("---\ntitle: Meeting: Q3 plan\ntags: [work, 'q3']\ndate: 2026-03-14\n---\n# Q3\nbody")
        #expect(colon.title == "Meeting: Q3 plan")
        #expect(colon.tags == ["work", "q3"])
        #expect(colon.date == utc(2026, 3, 14))
        #expect(colon.body == "# Q3\nbody" && colon.bodyLineOffset == 6)
        #expect(colon.warnings.count == 1)
        #expect(colon.warnings.first?.contains("front matter is not valid YAML (line 2)") == true, "\(colon.warnings)")

        let unclosed = try parse("---\ntitle: \"Boiler: the saga\naliases:\n  - boiler\n  - \"heating\"\ntags: home repair\n---\nbody")
        #expect(unclosed.title == "Boiler: the saga")
        #expect(unclosed.aliases == ["boiler", "heating"])
        #expect(unclosed.tags == ["home", "repair"])
        #expect(unclosed.warnings.count == 1)
        // Valid YAML gives no warning.
        #expect(try parse("---\ntitle: \"Meeting: Q3\"\n---\nbody").warnings.isEmpty)
    }

    @Test func aliasBombIsReadAsPlainLines() {
        var yaml = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"]
        var previous = "a"
        for name in names {
            yaml += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
            previous = name
        }
        do {
            let doc = try parse("---\n\(yaml)title: x\n---\nbody")
            #expect(doc.title == "x" && doc.body == "body")
            #expect(doc.warnings.first?.contains("aliases") == true, "\(doc.warnings)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func oversizedAndDeeplyNestedFrontMatter() throws {
        let big = "---\n" + String(repeating: "key: value\n", count: 7000) + "---\nbody"
        #expect {
            try parse(big)
        } throws: { error in
            guard case IngestError.frontMatterTooLarge(_, let bytes, 65536) = error else { return false }
            return bytes > 65536
        }
        // Nesting deep enough to exhaust the YAML composer's stack never reaches it: the block is read
        // as plain lines instead, with the reason.
        let deep = "---\nx: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n---\n"
        #expect(try parse(deep).warnings.first?.contains("nesting") == true)
        let dashes = "---\nx:\n" + String(repeating: "- ", count: 3000) + "y\n---\n"
        #expect(try parse(dashes).warnings.first?.contains("nesting") == true)
        // An apostrophe in a plain scalar or quoted brackets cannot hide nesting from the guard.
        let hidden = "---\na: it's\nb: " + String(repeating: "[\"]\", ", count: 3000) + "\n---\n"
        #expect(try parse(hidden).warnings.first?.contains("nesting") == true)
        // Ordinary quoting and comments are fine.
        let fine = try parse("---\ntitle: \"It's [not] nested\" # comment [[[\ntags: ['a', \"b\"]\n---\nx")
        #expect(fine.title == "It's [not] nested")
        #expect(fine.tags == ["a", "b"])
    }

    @Test func titleFallbacks() throws {
        #expect(try parse("intro\n\n# First Heading #\n\n# Second").title == "First Heading")
        #expect(try parse("```\n# not a title\n```\nno heading").title == "Some Note")
        #expect(try parse("## only h2", path: "/x/y/My.File.markdown").title == "My.File")
    }

    @Test func logseqPageProperties() throws {
        let page = try parse("""
            title:: Boiler project
            tags:: home, [[heating system]], #maintenance
            alias:: Boiler
            date:: [[2026-03-14]]
            collapsed:: true

            - The boiler is a Vaillant ecoTEC plus
            \t- serviced every October #yearly
            """, path: "/graph/pages/boiler.md")
        #expect(page.title == "Boiler project")
        #expect(page.tags == ["home", "heating system", "maintenance", "yearly"])
        #expect(page.aliases == ["Boiler"])
        #expect(page.date == utc(2026, 3, 14))
        #expect(page.bodyLineOffset == 1 && page.body.hasPrefix("title:: Boiler project"), "the properties stay in the page")
        // Only lines at the very top are page properties; a `key:: value` further down is a block's.
        let block = try parse("- Met Ana\n  title:: not the page's\n", path: "/graph/journals/2026_03_14.md")
        #expect(block.title == "2026_03_14" && block.date == utc(2026, 3, 14))
        #expect(try parse("Note: see below:: and more").title == "Some Note")
    }

    @Test func pastedImagesAndDrawingsAreNotText() throws {
        let image = String(repeating: "iVBORw0KGgoAAAANSUhEUgAA", count: 40_000)  // ~1 MB of base64
        let doc = try parse("""
            # Clipped article
            Intro text. ![chart](data:image/png;base64,\(image)) after the image #clipped
            A short one stays: data:text/plain;base64,SGk=
            ```compressed-json
            N4KAkARALgngDgUwgLgAQQQD6AHQ\(image)
            N4KAkARALgngDgUwgLgAQQQD6AHQ
            ```
            Last line.
            """)
        let lines = doc.body.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 8, "every line keeps its number")
        #expect(lines[1] == "Intro text. ![chart](data:image/png;base64,…) after the image #clipped")
        #expect(lines[2] == "A short one stays: data:text/plain;base64,SGk=")
        #expect(lines[3] == "```compressed-json" && lines[4].isEmpty && lines[5].isEmpty && lines[6] == "```")
        #expect(lines[7] == "Last line.")
        #expect(doc.tags == ["clipped"])
        #expect(doc.body.utf8.count < 300)
    }

    @Test func longRunsWithoutSpacesAreNotText() throws {
        let blob = String(repeating: "q83vEjRWeJq8/+0=", count: 250_000)  // 4 MB of bare base64
        let cjk = String(repeating: "会議は木曜日に延期されました。", count: 100)  // prose without spaces
        let url = "https://example.com/" + String(repeating: "a", count: 500)
        let doc = try parse("# Keys\nMy old key:\n\(blob)\n\(cjk)\nLink \(url) stays.\nLast line.")
        let lines = doc.body.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 6, "every line keeps its number")
        #expect(lines[2] == "…")
        #expect(lines[3] == Substring(cjk))
        #expect(lines[4] == Substring("Link \(url) stays."))
        #expect(lines[5] == "Last line.")
    }

    @Test func wikilinks() throws {
        let doc = try parse("""
            See [[Project Plan|the plan]] and [[Meeting Notes#Decisions]], [[ Spaced ]].
            Also ![[diagram.png]] and [[Project Plan]] again and [[#local heading]].
            `[[not a link]]`
            """)
        #expect(doc.links == ["Project Plan", "Meeting Notes", "Spaced", "diagram.png"])
    }

    @Test func inlineTags() throws {
        let doc = try parse("""
            # Heading is not a tag
            ## Sub
            Text #alpha and #beta/child, issue #1 and #2024 are numbers, #v2 is a tag.
            A URL https://example.com/page#fragment and a#b are not tags. (#paren) ok.
            Inline `#code` is skipped; color: &#123;
            ```
            #fenced
            ```
            ~~~python
            # comment #fencedtoo
            ~~~
            Tail #Alpha duplicate, #über unicode, [a link](#anchor) is no tag.
            """)
        #expect(doc.tags == ["alpha", "beta/child", "v2", "paren", "über"])
    }

    @Test func indentedLinesAreCodeOnlyAfterABlankLineOutsideLists() throws {
        let doc = try parse("""
            Intro #one
                continued paragraph #two

                let code = "#notatag [[nolink]]"
                more code #alsonot

            - item #three
            \t- nested item #four with [[Nested Link]]
                - deeper #five

                  item paragraph #six

            Back to prose.

            \tcode again #nope
            """)
        #expect(doc.tags == ["one", "two", "three", "four", "five", "six"])
        #expect(doc.links == ["Nested Link"])
        #expect(try parse("- item\n    # indented heading\n# Real").title == "Real")
    }

    @Test func orgNotes() throws {
        let org = """
            #+TITLE: Garden plan
            #+FILETAGS: :home:garden:
            #+DATE: <2026-03-14 Sat>

            * TODO [#A] Raised beds                                      :build:
            Timber from [[file:suppliers.org][the suppliers note]] and [[Compost]].
            See https://example.com and [[https://example.com/beds][a web page]].
            ** Soil
            #+begin_src shell
            * not a heading inside a block
            #+end_src
            Mix in [[id:4f2a][an id link]].
            """
        let doc = try NoteParser.parse(Data(org.utf8), path: "/notes/garden.org", modified: modified)
        #expect(doc.noteSyntax == .org)
        #expect(doc.title == "Garden plan")
        #expect(doc.tags == ["home", "garden", "build"])
        #expect(doc.date == utc(2026, 3, 14))
        #expect(doc.links == ["suppliers", "Compost"])
        #expect(doc.bodyLineOffset == 1 && doc.body.hasPrefix("#+TITLE: Garden plan"))

        let chunks = Chunker(counter: ApproximateTokenCounter(), maxTokens: 40, overlapTokens: 0).chunks(for: doc)
        #expect(chunks.contains { $0.headingPath == ["Raised beds"] && $0.text.contains("Timber") && $0.lineStart == 5 })
        #expect(chunks.contains { $0.headingPath == ["Raised beds", "Soil"] && $0.text.contains("* not a heading") })
        #expect(!chunks.contains { $0.headingPath.contains("not a heading inside a block") })

        // Without #+TITLE the first top heading names the note; org-roam's timestamped file names date it.
        let roamText = ":PROPERTIES:\n:ID: 8f3c2a10\n:ROAM_ALIASES: \"Ana Silva\" Ana\n:END:\n* Meeting with Ana\nNotes."
        let roam = try NoteParser.parse(Data(roamText.utf8), path: "/roam/20260314101500-ana.org", modified: modified)
        #expect(roam.title == "Meeting with Ana" && roam.date == utc(2026, 3, 14))
        #expect(roam.aliases == ["Ana Silva", "Ana"])
        #expect(try NoteParser.parse(Data("* Not org".utf8), path: "/n/x.md", modified: modified).noteSyntax == .markdown)
    }

    @Test func dateFromFileName() throws {
        #expect(try parse("x", path: "/daily/2024-03-05.md").date == utc(2024, 3, 5))
        #expect(try parse("x", path: "/daily/2024-03-05 standup.md").date == utc(2024, 3, 5))
        #expect(try parse("x", path: "/daily/20240305.md").date == utc(2024, 3, 5))
        #expect(try parse("x", path: "/zk/202403051015 Idea.md").date == utc(2024, 3, 5))
        #expect(try parse("x", path: "/zk/2024030510151.md").date == modified)
        #expect(try parse("x", path: "/daily/2024-13-45.md").date == modified)
        #expect(try parse("x", path: "/notes/idea.md").date == modified)
        #expect(try parse("---\ndate: 2023-01-02\n---\n", path: "/daily/2024-03-05.md").date == utc(2023, 1, 2))
        // Only the fallback is the file's time; a date in the name or the front matter is stated.
        #expect(try parse("x", path: "/notes/idea.md").dateIsFileTime)
        #expect(try !parse("x", path: "/daily/2024-03-05.md").dateIsFileTime)
        #expect(try !parse("---\ndate: 2023-01-02\n---\n", path: "/notes/idea.md").dateIsFileTime)
        #expect(try NoteParser.parse(Data("* x".utf8), path: "/n/x.org", modified: modified).dateIsFileTime)
        #expect(try !NoteParser.parse(Data("#+DATE: 2024-03-05\n".utf8), path: "/n/x.org", modified: modified).dateIsFileTime)
    }

    @Test func binaryAndEncodingErrors() {
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13])
        png.append(Data(repeating: 0x41, count: 100))
        #expect(throws: IngestError.binaryContent(path: "/n/img.md")) {
            try MarkdownNoteParser.parse(png, path: "/n/img.md", modified: modified)
        }
        let controls = Data((0..<1000).map { UInt8($0 % 8 + 1) })
        #expect(throws: IngestError.binaryContent(path: "/n/c.md")) {
            try MarkdownNoteParser.parse(controls, path: "/n/c.md", modified: modified)
        }
        // Windows-1252 (or Latin-1) text: read as such, with a warning saying how to convert the file.
        let latin = Data(encode("# Café\nCrème brûlée €5 “quoted”", to: "WINDOWS-1252"))
        let legacy = try? MarkdownNoteParser.parse(latin, path: "/n/l.md", modified: modified)
        #expect(legacy?.title == "Café")
        #expect(legacy?.body == "# Café\nCrème brûlée €5 “quoted”")
        #expect(legacy?.warnings.first?.contains("read as Windows-1252") == true)
        let org = try? NoteParser.parse(Data(encode("#+TITLE: Jardín\n", to: "WINDOWS-1252")), path: "/n/j.org", modified: modified)
        #expect(org?.title == "Jardín" && org?.warnings.count == 1)
        // A stray invalid byte in long UTF-8 text: decoded with a replacement character.
        var mostly = Data(String(repeating: "valid text ", count: 50).utf8)
        mostly.append(0xFF)
        let doc = try? MarkdownNoteParser.parse(mostly, path: "/n/m.md", modified: modified)
        #expect(doc?.body.hasSuffix("\u{FFFD}") == true && doc?.warnings.isEmpty == true)
    }

    @Test func utf16WithByteOrderMark() throws {
        let data = "# Titel\nÄrger #tag".data(using: .utf16)!
        let doc = try MarkdownNoteParser.parse(data, path: "/u.md", modified: modified)
        #expect(doc.title == "Titel")
        #expect(doc.tags == ["tag"])
    }

    @Test func byteOrderMarkAndNoFrontMatterClosing() throws {
        let bom = Data([0xEF, 0xBB, 0xBF]) + Data("---\ntitle: BOM\n---\nx".utf8)
        #expect(try MarkdownNoteParser.parse(bom, path: "/a.md", modified: modified).title == "BOM")
        // Prose between two horizontal rules is not front matter.
        let rules = try parse("---\nSome text here: with a colon\n---\nmore")
        #expect(rules.bodyLineOffset == 1)
        #expect(rules.title == "Some Note")
        // An opening rule without a closing one is not front matter.
        let doc = try parse("---\njust a rule\n\ntext")
        #expect(doc.bodyLineOffset == 1)
        #expect(doc.body.hasPrefix("---"))
    }

    @Test func hugeSingleLineIsHandled() throws {
        let words = String(repeating: "word #tag [[link]] ", count: 10)
        let doc = try parse(words + String(repeating: "x", count: 3_000_000))
        #expect(doc.tags == ["tag"])
        #expect(doc.links == ["link"])
        #expect(doc.body == words + "…", "a 3 MB run without a space is data, not words")
    }
}
