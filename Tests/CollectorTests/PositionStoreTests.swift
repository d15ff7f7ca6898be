@testable import Collector
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct PositionStoreTests {
    @Test func savesAtomicallyAndReadsBack() throws {
        let dir = sourceTestDirectory("pos")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "/positions")
        #expect(try store.load("journal") == nil)
        try store.save("journal", ["cursor": "s=1;i=2", "time": "5"])
        try store.save("/var/log/x.log", ["file.00ff": "10 /var/log/x.log"])
        #expect(try store.load("journal") == ["cursor": "s=1;i=2", "time": "5"])
        #expect(try store.load("/var/log/x.log") == ["file.00ff": "10 /var/log/x.log"])
        // One small file per source, no temporary left behind.
        let names = try PosixFile.list(dir + "/positions").sorted()
        #expect(names.count == 2)
        #expect(names.allSatisfy { $0.hasSuffix(".pos") })
        #expect(store.path(for: "a/b") != store.path(for: "a_b"))
    }

    @Test func writesAtMostOnceASecondAndOnlyWhenChanged() throws {
        let dir = sourceTestDirectory("pos-throttle")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir)
        var saver = ThrottledPositionSaver(store: store, source: "s", interval: .seconds(1))
        try saver.update(["cursor": "1"])
        for i in 2...100 { try saver.update(["cursor": "\(i)"]) }
        #expect(saver.saves == 1)
        #expect(try store.load("s") == ["cursor": "1"])
        #expect(saver.hasPending)
        try saver.flush()
        #expect(try store.load("s") == ["cursor": "100"])
        // Idle: the same position is never written again.
        try saver.update(["cursor": "100"], force: true)
        try saver.flush()
        #expect(saver.saves == 2)
    }
}
