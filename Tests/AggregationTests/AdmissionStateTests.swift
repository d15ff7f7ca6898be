@testable import Aggregation
import Testing

/// Issue 20, item 4: which connections the listener keeps, without sockets.
@Suite struct AdmissionStateTests {
    typealias State = AdmissionState<Int, Int>

    /// Admits `keys` from `address` and returns the reason for each one closed to make room.
    static func flood(_ s: inout State, _ keys: Range<Int>, from address: String) -> [Int: State.Reason] {
        var closed: [Int: State.Reason] = [:]
        for k in keys {
            switch s.admit(k, handle: k, address: address) {
            case .admitted(let evicted): if let evicted { closed[evicted.handle] = evicted.reason }
            case .refused(let reason): closed[k] = reason
            }
        }
        return closed
    }

    @Test func anAddressOverItsLimitLosesItsOldestWaitingConnection() {
        var s = State(limits: ConnectionLimits(maxUnauthenticated: 10, maxUnauthenticatedPerAddress: 3, maxConnections: 20))
        let closed = Self.flood(&s, 0..<5, from: "10.0.0.1")
        #expect(closed == [0: .addressLimit, 1: .addressLimit])
        #expect(s.unauthenticatedCount == 3)
        // Another address is not affected.
        #expect(Self.flood(&s, 5..<8, from: "10.0.0.2").isEmpty)
        #expect(s.unauthenticatedCount == 6)
    }

    @Test func pastTheLimitInAllTheOldestWaitingConnectionMakesRoom() {
        var s = State(limits: ConnectionLimits(maxUnauthenticated: 4, maxUnauthenticatedPerAddress: 4, maxConnections: 20))
        var closed: [Int: State.Reason] = [:]
        for k in 0..<10 { closed.merge(Self.flood(&s, k..<(k + 1), from: "10.0.1.\(k)")) { a, _ in a } }
        #expect(closed == [0: .unauthenticatedLimit, 1: .unauthenticatedLimit, 2: .unauthenticatedLimit,
                           3: .unauthenticatedLimit, 4: .unauthenticatedLimit, 5: .unauthenticatedLimit])
        #expect(s.unauthenticatedCount == 4)
        #expect(s.openCount == 4)
    }

    @Test func authenticatedAgentsAreNeverClosedToMakeRoom() {
        var s = State(limits: ConnectionLimits(maxUnauthenticated: 2, maxUnauthenticatedPerAddress: 2, maxConnections: 5))
        // Four agents say hello.
        #expect(Self.flood(&s, 0..<2, from: "a").isEmpty)
        let first = [s.authenticate(0), s.authenticate(1)]
        #expect(first == [true, true])
        #expect(Self.flood(&s, 2..<4, from: "b").isEmpty)
        let second = [s.authenticate(2), s.authenticate(3)]
        #expect(second == [true, true])
        #expect(s.unauthenticatedCount == 0)
        // An idle peer takes the last place, then a second one closes it (the limit in all).
        #expect(Self.flood(&s, 4..<5, from: "c").isEmpty)
        #expect(Self.flood(&s, 5..<6, from: "d") == [4: .connectionLimit])
        let agent = s.authenticate(5)
        #expect(agent, "the newest is the agent: it gets in")
        // Now all five are agents: a new connection is refused, none of them is closed.
        #expect(Self.flood(&s, 6..<7, from: "e") == [6: .connectionLimit])
        #expect(s.openCount == 5)
        #expect(s.unauthenticatedCount == 0)
        // One agent leaves: room again.
        s.remove(0)
        #expect(Self.flood(&s, 7..<8, from: "e").isEmpty)
        #expect(s.openCount == 5)
    }

    @Test func aConnectionClosedToMakeRoomOrPastItsDeadlineCannotAuthenticate() {
        var s = State(limits: ConnectionLimits(maxUnauthenticated: 1, maxUnauthenticatedPerAddress: 1, maxConnections: 5))
        _ = Self.flood(&s, 0..<2, from: "a")
        let evicted = s.authenticate(0)
        #expect(!evicted, "closed to make room")
        let expired = [s.expire(1), s.expire(1)]
        #expect(expired == [1, nil], "its deadline passed while waiting, once")
        let late = s.authenticate(1)
        #expect(!late)
        #expect(s.openCount == 0)
        _ = Self.flood(&s, 2..<3, from: "a")
        let inTime = s.authenticate(2)
        #expect(inTime)
        let none = s.expire(2)
        #expect(none == nil, "an authenticated connection has no deadline")
        s.remove(2)
        s.remove(2)
        #expect(s.openCount == 0 && s.unauthenticatedCount == 0)
    }

    /// The flood of the end-to-end test, counted: 100 connections from one address, then 1,000
    /// from 100 others, under the defaults.
    @Test func theDefaultsUnderTheEndToEndFlood() {
        var s = State(limits: ConnectionLimits())
        var closed = Self.flood(&s, 0..<100, from: "127.0.0.2")
        for a in 0..<100 { closed.merge(Self.flood(&s, (100 + 10 * a)..<(110 + 10 * a), from: "127.0.1.\(a)")) { x, _ in x } }
        #expect(closed.values.filter { $0 == .addressLimit }.count == 84)
        #expect(closed.values.filter { $0 == .unauthenticatedLimit }.count == 760)
        #expect(s.unauthenticatedCount == 256)
    }

    @Test func theThrottleSpeaksOnceAMinuteWithTheCount() {
        var t = LogThrottle<String>(interval: .seconds(60))
        let t0 = ContinuousClock.now
        let said = [
            t.note("a", at: t0), t.note("a", at: t0 + .seconds(1)), t.note("a", at: t0 + .seconds(59)),
            t.note("b", at: t0 + .seconds(59)), t.note("a", at: t0 + .seconds(61)), t.note("a", at: t0 + .seconds(62)),
        ]
        // Once; silent within the minute; each event on its own; then with the two unsaid.
        #expect(said == [1, nil, nil, 1, 3, nil])
    }
}
