import ArgumentParser
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The options both daemons share besides `--config`.
public struct DaemonOptions: ParsableArguments {
    @Flag(name: .long, help: "Check the configuration, print what is wrong with file, line and key, and exit.")
    public var checkConfig = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: Logger.Level = .info

    public init() {}
}

/// What both daemons do the same way around their own work.
public enum Daemon {
    /// Loads a configuration; a mistake is printed as `NAME: FILE:LINE: key 'K': …` and ends the
    /// process with 78 (EX_CONFIG), which systemd and scripts read as "fix the configuration".
    public static func loadConfiguration<T>(_ name: String, _ load: () throws -> T) throws -> T {
        do {
            return try load()
        } catch {
            printError("\(name): \(error)")
            throw ExitCode(78)
        }
    }

    /// Pings systemd's watchdog at half its interval until cancelled; does nothing without one.
    /// Each ping follows a `probe` that goes through the daemon's own machinery (its spool actor,
    /// its store): a daemon wedged there stops pinging and systemd restarts it, while one that is
    /// merely idle or waiting for a peer keeps pinging.
    public static func watchdog(_ notifier: SystemdNotifier, probe: @escaping @Sendable () async -> Bool) -> Task<Void, Never> {
        Task {
            guard let interval = notifier.watchdogInterval else { return }
            while !Task.isCancelled {
                if await probe() { notifier.watchdog() }
                try? await Task.sleep(for: interval)
            }
        }
    }

    public static func printError(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
