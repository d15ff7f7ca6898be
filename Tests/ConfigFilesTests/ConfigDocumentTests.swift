import ConfigFiles
import Testing

@Suite struct ConfigDocumentTests {
    let text = """
        # a comment
        host = "bbb1"

        [aggregator]
        address = "127.0.0.1:7800"
        batch_size = "many"

        [[files]]
        paths = ["/var/log/a.log"]

        [[files]]
        paths = ["/var/log/b.log", 3]
        price = 0.30
        """

    @Test func namesTheLineOfAWrongType() throws {
        let doc = try ConfigDocument(text: text, path: "/etc/meetmeter/agent.toml")
        let aggregator = try #require(try doc.root.table("aggregator"))
        #expect(throws: ConfigError(file: "/etc/meetmeter/agent.toml", line: 6, key: "aggregator.batch_size",
                                    message: "should be an integer, not a string")) {
            _ = try aggregator.integer("batch_size", default: 1)
        }
    }

    @Test func namesTheLineInsideAnArrayOfTables() throws {
        let doc = try ConfigDocument(text: text, path: "agent.toml")
        let files = try doc.root.tables("files")
        #expect(files.count == 2)
        #expect(try files[0].stringArray("paths") == ["/var/log/a.log"])
        do {
            _ = try files[1].stringArray("paths")
            Issue.record("accepted a number among paths")
        } catch {
            #expect(error.line == 12)
            #expect(error.key == "files[1].paths")
            #expect(error.description.hasPrefix("agent.toml:12: key 'files[1].paths':"))
        }
    }

    @Test func refusesFloatsForMoney() throws {
        let doc = try ConfigDocument(text: text, path: "billing.toml")
        let files = try doc.root.tables("files")
        do {
            _ = try files[1].decimal("price")
            Issue.record("accepted a float")
        } catch {
            #expect(error.line == 13)
            #expect(error.message.contains("strings"))
        }
    }

    @Test func namesUnknownKeys() throws {
        let doc = try ConfigDocument(text: "hots = \"x\"\n", path: "agent.toml")
        #expect(throws: ConfigError.self) { try doc.root.rejectUnknownKeys(allowed: ["host"]) }
        do { try doc.root.rejectUnknownKeys(allowed: ["host"]) } catch {
            #expect(error.line == 1)
            #expect(error.key == "hots")
        }
    }

    @Test func reportsSyntaxErrorsWithTheirLine() {
        do {
            _ = try ConfigDocument(text: "a = 1\nb = = 2\n", path: "x.toml")
            Issue.record("parsed invalid TOML")
        } catch {
            #expect(error.line == 2)
            #expect(error.key == nil)
        }
    }

    /// Fuzzing found that TOMLKit's toml++ asserts, and so aborts the process, on a table header
    /// whose name starts with a character a name cannot start with. Each is now an error with its
    /// line, as any other syntax error.
    @Test(arguments: ["[\u{e9}t\u{e9}]", "[[\u{fffd}meters]]", "[ {]", "[.]", "[#]", "[=]", "[\u{1f600}]", "[", "[[", "[ \r"])
    func aTableNameThatCannotStartSoIsAnErrorWithItsLine(header: String) {
        do {
            _ = try ConfigDocument(text: "# header\n[listen]\naddress = \"127.0.0.1:7800\"\n\(header)\nx = 1\n", path: "agent.toml")
            Issue.record("accepted \(header)")
        } catch {
            #expect(error.file == "agent.toml")
            #expect(error.line == 4, "\(error)")
            #expect(error.message.contains("a table name cannot start with") || error.message.contains("a table header without a name"), "\(error)")
        }
    }

    /// The same for a '}' where an array expects a value (toml++ asserts there too).
    @Test(arguments: ["a = [}", "a = [1, }", "a = [ [ } ] ]", "a = { b = [ } ] }", "a = [\n  # c\n  }"])
    func aBraceWhereAnArrayExpectsAValueIsAnErrorWithItsLine(value: String) {
        do {
            _ = try ConfigDocument(text: "x = 1\n\(value)\n", path: "billing.toml")
            Issue.record("accepted \(value)")
        } catch {
            #expect(error.line != nil && error.line! >= 2, "\(error)")
            #expect(error.message.contains("an array expects a value or ']', not '}'"), "\(error)")
        }
    }

    /// And for a date whose time does not start with two digits (toml++ asserts there too).
    @Test(arguments: ["a = 2000-01-01Tx0:00:00Z", "a = 2000-01-01T\u{e9}0:00:00Z", "a = 2000-01-01 0", "a = [2000-01-01t0]"])
    func aDateWithABrokenTimeIsAnErrorWithItsLine(value: String) {
        do {
            _ = try ConfigDocument(text: "x = 1\n\(value)\n", path: "aggregator.toml")
            Issue.record("accepted \(value)")
        } catch {
            #expect(error.line == 2, "\(error)")
            #expect(error.message.contains("a date-time needs its time as HH:MM:SS"), "\(error)")
        }
    }

    /// Dates and date-times that are well formed, and keys made of digits and dashes, pass.
    @Test func wellFormedDatesPass() throws {
        let doc = try ConfigDocument(text: "a = 2000-01-01T00:00:00Z\nb = 2000-01-01 00:00:00\nc = 2000-01-01\nd = [2000-01-01, 1979-05-27T07:32:00]\n2000-01-01Tx0 = 1\n", path: "x.toml")
        #expect(doc.root.keys.sorted() == ["2000-01-01Tx0", "a", "b", "c", "d"])
    }

    /// What looks like a header but is not one (inside an array, a multi-line string, a quoted
    /// name) is left to TOML.
    @Test func bracketsThatAreNotHeadersAreNotChecked() throws {
        let text = """
            a = [
              [{ x = 1 }], [], [ ],
              { y = [1, 2] },
              ["\u{e9}"],
            ]
            s = \"\"\"
            [\u{e9}t\u{e9}] is only text here
            \"\"\"
            ["\u{e9}t\u{e9}"]
            y = 2
            ['b]'.c]
            z = 3
            """
        let doc = try ConfigDocument(text: text, path: "x.toml")
        #expect(doc.root.keys.sorted() == ["a", "b]", "s", "\u{e9}t\u{e9}"])
    }

    @Test func reportsMissingFiles() {
        do {
            _ = try ConfigDocument(path: "/nonexistent/meetmeter.toml")
            Issue.record("opened a missing file")
        } catch {
            #expect(error.file == "/nonexistent/meetmeter.toml")
            #expect(error.message.contains("No such file"))
        }
    }

    @Test func missingRequiredKeyNamesTheTable() throws {
        let doc = try ConfigDocument(text: "[aggregator]\nport = 1\n", path: "a.toml")
        let t = try #require(try doc.root.table("aggregator"))
        do { _ = try t.string("address") } catch {
            #expect(error.key == "aggregator.address")
            #expect(error.line == 1)
        }
    }

    /// Issue 20, item 6: one of two keys that go together is reported on its own line, with the
    /// other named as missing; both or neither pass.
    @Test func requireBothNamesTheLineOfThePresentKey() throws {
        let doc = try ConfigDocument(text: "[listen]\naddress = \"x:1\"\n\ncert = \"a.pem\"\n", path: "a.toml")
        let t = try #require(try doc.root.table("listen"))
        do {
            try t.requireBoth("cert", "key", "TLS needs both")
            Issue.record("accepted a certificate without its key")
        } catch {
            #expect(error.file == "a.toml")
            #expect(error.line == 4, "\(error)")
            #expect(error.key == "listen.cert")
            #expect(error.message == "TLS needs both: listen.key is missing")
        }
        let both = try ConfigDocument(text: "[listen]\ncert = \"a\"\nkey = \"b\"\n", path: "a.toml")
        try #require(try both.root.table("listen")).requireBoth("cert", "key", "TLS needs both")
        let neither = try ConfigDocument(text: "[listen]\n", path: "a.toml")
        try #require(try neither.root.table("listen")).requireBoth("cert", "key", "TLS needs both")
    }

    @Test func rangesAreChecked() throws {
        let doc = try ConfigDocument(text: "n = 0\n", path: "a.toml")
        #expect(throws: ConfigError.self) { _ = try doc.root.integer("n", default: 5, range: 1...10) }
    }
}
