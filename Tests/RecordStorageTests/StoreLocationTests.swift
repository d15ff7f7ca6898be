import Aggregation
import ConfigFiles
import RecordStorage
import Testing

@Suite struct StoreLocationTests {
    @Test func aURLNamesUserHostPortDatabaseAndTLS() throws {
        let a = try PostgresAddress(url: "postgresql://meter@db.example.org:6432/meetmeter?sslmode=require", passwordFile: "/etc/meetmeter/pg")
        #expect(a.user == "meter" && a.host == "db.example.org" && a.port == 6432 && a.database == "meetmeter")
        #expect(a.tls == .require && a.passwordFile == "/etc/meetmeter/pg")
        #expect(a.url == "postgresql://meter@db.example.org:6432/meetmeter?sslmode=require")
        let b = try PostgresAddress(url: "postgres://m%40x@[::1]/db", passwordFile: nil)
        #expect(b.user == "m@x" && b.host == "::1" && b.port == 5432 && b.tls == .prefer)
        #expect(b.url == "postgresql://m%40x@[::1]:5432/db")
        let socket = try PostgresAddress(url: "postgresql://meetmeter@%2Frun%2Fpostgresql/meetmeter", passwordFile: nil)
        #expect(socket.host == "/run/postgresql")
    }

    @Test func aPasswordInTheURLIsRefusedAndNotRepeated() {
        do {
            _ = try PostgresAddress(url: "postgresql://meter:s3cret@db:5432/meetmeter", passwordFile: nil)
            Issue.record("accepted a password in the URL")
        } catch {
            #expect(error.description.contains("password_file"))
            #expect(!error.description.contains("s3cret"), "\(error)")
        }
    }

    @Test(arguments: [
        "mysql://u@h/db", "postgresql://h/db", "postgresql://u@h", "postgresql://u@h:99999/db",
        "postgresql://u@h/db?sslmode=verify", "postgresql://u@h/db?connect_timeout=3",
    ])
    func badURLsSayWhy(url: String) {
        #expect(throws: PostgresAddress.ParseError.self) { try PostgresAddress(url: url, passwordFile: nil) }
    }

    @Test func aggregatorTomlChoosesTheEngine() throws {
        let pg = try AggregatorConfiguration(document: ConfigDocument(
            text: "[store]\nurl = \"postgresql://meter@10.0.0.5/meetmeter\"\npassword_file = \"/etc/meetmeter/pg\"\n",
            path: "aggregator.toml"))
        #expect(pg.store == .postgresql(PostgresAddress(user: "meter", host: "10.0.0.5", database: "meetmeter", passwordFile: "/etc/meetmeter/pg")))
        let sqlite = try AggregatorConfiguration(document: ConfigDocument(text: "", path: "aggregator.toml"))
        #expect(sqlite.store == .sqlite(path: "/var/lib/meetmeter-aggregator/meetmeter.sqlite"))
        for (text, key) in [
            ("[store]\nurl = \"postgresql://u@h/db\"\npath = \"/x.sqlite\"\n", "path"),
            ("[store]\npassword_file = \"/p\"\n", "password_file"),
            ("[store]\nurl = \"postgresql://u:pw@h/db\"\n", "url"),
            ("[store]\nbackend = \"sqlite\"\nurl = \"postgresql://u@h/db\"\n", "backend"),
        ] {
            do {
                _ = try AggregatorConfiguration(document: ConfigDocument(text: text, path: "aggregator.toml"))
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.description.contains("aggregator.toml:"), "\(error)")
                #expect(error.description.contains(key), "\(error)")
            }
        }
    }
}
