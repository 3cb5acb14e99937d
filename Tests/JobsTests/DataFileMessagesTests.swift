import Foundation
import Tabular
import XCTest

@testable import Jobs

/// Field cases about data files: duplicated header names in any file a job reads (C21), files with another
/// delimiter (`data.delimiter`, and a hint when a `;`/tab/`|` file is read as comma-separated), and level names with
/// control characters in the printed table.
final class DataFileMessagesTests: XCTestCase {
    func folder() throws -> URL { try Fixtures.folder() }

    func write(_ text: String, _ name: String, in dir: URL) throws -> String { try Fixtures.write(text, name, in: dir) }

    func job(
        _ dir: URL, data: String, formula: String, extraData: String = "", extra: String = "", name: String = "job.toml"
    ) throws -> String {
        try write(
            "[data]\npath = \"\(data)\"\n\(extraData)[model]\nkind = \"ols\"\nformula = \"\(formula)\"\n\(extra)", name,
            in: dir)
    }

    /// C21: `user_id,score,score,reward` is refused before any fit, naming both columns; renamed apart, the first
    /// `score` gives the fit worked out independently (intercept 1.174603, slope −1.269841, RSS 0.825397; the last
    /// one would have given a slope of the other sign on 5 rows).
    func testDuplicateHeaderNameIsRefusedNotFirstOrLastWins() throws {
        let dir = try folder()
        let data = Fixtures.path("cases/C21_duplicate_header.csv")
        let path = try job(dir, data: data, formula: "reward ~ score")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: path), jobID: "t"), file: data, line: 1, column: 3,
            contains: "the header names 'score' more than once (columns 2, 3)")
        // The same file with the two columns named apart: the first one's fit.
        let text = try String(contentsOfFile: data, encoding: .utf8).replacingOccurrences(
            of: "score,score", with: "score_a,score_b")
        let renamed = try write(text, "renamed.csv", in: dir)
        let fit = try Fixtures.run(jobPath: try job(dir, data: renamed, formula: "reward ~ score_a", name: "ok.toml"))
        XCTAssertEqual(fit.model.coefficients.map(\.name), ["Intercept", "score_a"])
        assertClose(fit.model.coefficients[0].estimate, 1.174603, rtol: 1e-6, "intercept")
        assertClose(fit.model.coefficients[1].estimate, -1.269841, rtol: 1e-6, "slope")
        assertClose(fit.model.rss ?? .nan, 0.825397, rtol: 1e-6, "RSS")
    }

    /// The same refusal for a users file and an items file (`user_id,profile,profile`), which were read with the first
    /// column winning.
    func testDuplicateHeaderNameInUsersAndItemsFilesIsRefused() throws {
        let dir = try folder()
        _ = try write("u,item,y\n1,a,1\n2,b,0\n3,a,1\n4,b,0\n", "rows.csv", in: dir)
        let users = try write(
            "u,profile,profile\n1,reads books,x\n2,runs,y\n3,cooks,z\n4,swims,w\n", "users.csv", in: dir)
        let items = try write("item,description,description\na,a book,x\nb,a shoe,y\n", "items.csv", in: dir)
        let usersJob = try job(
            dir, data: "rows.csv", formula: "y ~ user_pc1", extraData: "user_key = [\"u\"]\n",
            extra:
                "[text]\nencoder = \"hashing\"\ncomponents = 1\nusers_path = \"users.csv\"\nuser_text = [\"profile\"]\n",
            name: "users.toml")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: usersJob), jobID: "t"), file: users, line: 1, column: 3,
            contains: "the header names 'profile' more than once (columns 2, 3)")
        let itemsJob = try job(
            dir, data: "rows.csv", formula: "y ~ item_pc1",
            extra:
                "[text]\nencoder = \"hashing\"\ncomponents = 1\nitems_path = \"items.csv\"\nitem_key = \"item\"\nitem_text = [\"description\"]\n",
            name: "items.toml")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: itemsJob), jobID: "t"), file: items, line: 1, column: 3,
            contains: "the header names 'description' more than once (columns 2, 3)")
    }

    /// A `;`-separated file read as comma-separated: the message says what the header looks like and which key to set;
    /// with `data.delimiter` each of `;`, tab and `|` gives the comma file's fit bit for bit.
    func testDelimiterHintAndDataDelimiter() throws {
        let dir = try folder()
        let rows = [
            ["x", "g", "y"], ["1.5", "a", "2.25"], ["2", "b", "3.5"], ["3.25", "a", "4"], ["4", "b", "6.75"],
            ["5.5", "a", "7"]
        ]
        func file(_ d: String, _ name: String) throws -> String {
            try write(rows.map { $0.joined(separator: d) }.joined(separator: "\n") + "\n", name, in: dir)
        }
        _ = try file(",", "comma.csv")
        _ = try file(";", "semi.csv")
        _ = try file("\t", "tab.tsv")
        _ = try file("|", "pipe.csv")
        let unset = try job(dir, data: "semi.csv", formula: "y ~ x + C(g)")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: unset), jobID: "t"), file: unset, line: 5, column: 12,
            contains: "unknown column 'y': it is not in the header of")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: unset), jobID: "t"), file: unset, line: 5, column: 12,
            contains:
                "(the header was read as one column, 'x;g;y', which contains ';': the file looks ';'-separated; set data.delimiter = \";\" in the job file)"
        )
        let tabUnset = try job(dir, data: "tab.tsv", formula: "y ~ x", name: "tab0.toml")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: tabUnset), jobID: "t"), file: tabUnset, line: 5, column: 12,
            contains: "which contains a tab: the file looks tab-separated; set data.delimiter = \"\\t\" in the job file"
        )

        let reference = try Fixtures.run(
            jobPath: try job(dir, data: "comma.csv", formula: "y ~ x + C(g)", name: "comma.toml"))
        XCTAssertEqual(reference.model.coefficients.count, 3)
        XCTAssertEqual(reference.data.rows, 5)
        for (file, toml) in [
            ("semi.csv", "\";\""), ("tab.tsv", "\"\\t\""), ("pipe.csv", "\"|\""), ("comma.csv", "\",\"")
        ] {
            let path = try job(
                dir, data: file, formula: "y ~ x + C(g)", extraData: "delimiter = \(toml)\n", name: "d-\(file).toml")
            let spec = try JobSpec.load(path: path)
            XCTAssertEqual(
                FitReport.JobEcho(spec).data["delimiter"],
                spec.delimiter == .comma ? nil : .string(spec.delimiter.rawValue))
            let fit = try Fixtures.run(jobPath: path)
            XCTAssertEqual(fit.model, reference.model, file)
            XCTAssertEqual(fit.data, reference.data, file)
        }
        let bad = try job(dir, data: "semi.csv", formula: "y ~ x", extraData: "delimiter = \" \"\n", name: "bad.toml")
        assertInputError(
            try JobSpec.load(path: bad), file: bad, line: 3, column: 13,
            contains: "unknown data.delimiter \" \" (expected one of \",\", \";\", \"\\t\", \"|\")")
    }

    /// `data.delimiter` applies to the users and items files too, and `causa partition` of a `;` file writes its own
    /// (comma) shard files, which give the streamed job's result.
    func testDelimiterAppliesToUsersItemsAndPartition() throws {
        let dir = try folder()
        var log = "u;item;y\n"
        var users = "u;profile\n"
        for u in 0..<12 {
            users += "\(u);\(["reads history books", "runs mountain trails", "cooks italian food"][u % 3]) \(u)\n"
            for k in 0..<3 { log += "\(u);i\((u + k) % 4);\((u * 7 + k * 3) % 5 < 2 ? 1 : 0)\n" }
        }
        _ = try write(log, "log.csv", in: dir)
        _ = try write(users, "users.csv", in: dir)
        _ = try write(
            "item;description\ni0;a history book\ni1;trail shoes\ni2;a pasta pot\ni3;a swim cap\n", "items.csv", in: dir
        )
        let text =
            "[text]\nencoder = \"hashing\"\ncomponents = 2\nusers_path = \"users.csv\"\nuser_text = [\"profile\"]\n"
            + "items_path = \"items.csv\"\nitem_key = \"item\"\nitem_text = [\"description\"]\n"
        let path = try job(
            dir, data: "log.csv", formula: "y ~ user_pc1 + item_pc1 + affinity",
            extraData: "delimiter = \";\"\nuser_key = [\"u\"]\n", extra: text + "[cluster]\nshards = 4\n")
        let streamed = try Fixtures.run(jobPath: path, workers: 2)
        XCTAssertEqual(streamed.data.rows, 36)
        XCTAssertEqual(streamed.model.coefficients.map(\.name), ["Intercept", "user_pc1", "item_pc1", "affinity"])
        XCTAssertEqual(streamed.text?.users_with_text, 12)
        XCTAssertEqual(streamed.text?.items, 4)
        XCTAssertEqual(streamed.text?.items_without_text, 0)

        let shards = dir.appendingPathComponent("shards").path
        let manifest = try ShardPartitioner.partition(job: try JobSpec.load(path: path), into: shards)
        XCTAssertEqual(manifest.rows.reduce(0, +), 36)
        let first = try String(
            contentsOfFile: ShardManifest.file(shards, shard: manifest.rows.firstIndex { $0 > 0 }!), encoding: .utf8)
        XCTAssertTrue(first.hasPrefix("u,item,y,"), first)
        let fromShards = try job(
            dir, data: "shards", formula: "y ~ user_pc1 + item_pc1 + affinity",
            extraData: "delimiter = \";\"\nsource = \"shards\"\nuser_key = [\"u\"]\n",
            extra: text + "[cluster]\nshards = 4\n",
            name: "shards.toml")
        let read = try Fixtures.run(jobPath: fromShards, workers: 3)
        XCTAssertEqual(read.model, streamed.model)
    }

    /// A level name with a newline (a quoted CSV field) stays one row of the printed table (escaped as `\n`);
    /// report.json keeps patsy's name.
    func testLevelNamesWithControlCharactersAreEscapedInThePrintedTableOnly() throws {
        let dir = try folder()
        _ = try write(
            "g,y\n\"north\nside\",1.5\nsouth,2\n\"north\nside\",2.5\nsouth,4\ntab\there,3\ntab\there,3.5\n", "d.csv",
            in: dir)
        let path = try job(dir, data: "d.csv", formula: "y ~ C(g)")
        let fit = try Fixtures.run(jobPath: path)
        XCTAssertEqual(fit.model.coefficients.map(\.name), ["Intercept", "C(g)[T.south]", "C(g)[T.tab\there]"])
        // Reference level "north\nside" (sorted first): intercept = its mean 2; south 3 − 2; tab 3.25 − 2.
        assertClose(fit.model.coefficients[0].estimate, 2, "intercept")
        assertClose(fit.model.coefficients[2].estimate, 1.25, "tab level")
        _ = try write("g,y\n\"a\nb\",1.5\nc,2\n\"a\nb\",2.5\nc,4\n", "e.csv", in: dir)
        let second = try Fixtures.run(
            jobPath: try job(dir, data: "e.csv", formula: "y ~ C(g, Treatment(reference='c'))", name: "e.toml"))
        let name = second.model.coefficients[1].name
        XCTAssertEqual(name, "C(g, Treatment(reference='c'))[T.a\nb]")
        let report = FitReport(
            job: .init(try JobSpec.load(path: path)), cluster: .init(workers: 1, shards: 16), data: second.data,
            model: second.model, cv: nil, network: .init(bytes_sent: 0, bytes_received: 0), timings_s: [:])
        let table = report.table()
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("C(g") || $0.hasPrefix("Intercept") }
        XCTAssertEqual(rows.count, 2, table)
        XCTAssertTrue(rows[1].hasPrefix("C(g, Treatment(reference='c'))[T.a\\nb]  "), table)
        let header = table.split(separator: "\n").first { $0.contains("coef") }
        XCTAssertEqual(Set(rows.map(\.count) + [header?.count ?? 0]).count, 1, "rows of one width:\n\(table)")
        let json = String(decoding: try report.jsonData(), as: UTF8.self)
        XCTAssertTrue(json.contains("[T.a\\nb]"), "report.json keeps the name (JSON-escaped newline)")
        XCTAssertEqual(printable("bell\u{7}\r"), "bell\\u{7}\\r")
    }
}

extension DataFileMessagesTests {
    /// `causa partition` hashes users on the key columns: a key named twice in the header is refused there too.
    func testPartitionRefusesADuplicatedKeyColumn() throws {
        let dir = try folder()
        let data = try write("u,x,y,u\n1,2,3,a\n2,3,4,b\n", "dup.csv", in: dir)
        let job = try self.job(dir, data: "dup.csv", formula: "y ~ x", extraData: "user_key = [\"u\"]\n")
        assertInputError(
            try ShardPartitioner.partition(
                job: try JobSpec.load(path: job), into: dir.appendingPathComponent("s").path),
            file: data, line: 1, column: 4, contains: "the header names 'u' more than once (columns 1, 4)")
    }

    /// Line and paragraph separators are escaped like control characters; values of 1e5 and more print in exponent
    /// form, so a 12-character cell keeps a space before the next.
    func testSeparatorsAndWideNumbersInThePrintedTable() throws {
        XCTAssertEqual(printable("a\u{2028}b\u{2029}c"), "a\\u{2028}b\\u{2029}c")
        let dir = try folder()
        var rows = "x,y\n"
        for i in 0..<8 { rows += "\(i),\(Double(i % 3) * 0.5 - 650_000 + Double(i * i))\n" }  // intercept ≈ −650,000
        _ = try write(rows, "wide.csv", in: dir)
        let path = try job(dir, data: "wide.csv", formula: "y ~ x")
        let fit = try Fixtures.run(jobPath: path)
        let report = FitReport(
            job: .init(try JobSpec.load(path: path)), cluster: .init(workers: 1, shards: 16), data: fit.data,
            model: fit.model, cv: nil, network: .init(bytes_sent: 0, bytes_received: 0), timings_s: [:])
        for row in report.table().split(separator: "\n") where row.hasPrefix("Intercept") || row.hasPrefix("x ") {
            let cells = row.dropFirst(12)
            for k in 0..<7 {
                let cell = cells.dropFirst(12 * k).prefix(12)
                XCTAssertEqual(cell.first, " ", "cell \(k) of '\(row)' runs into the previous one")
            }
        }
    }
}

final class InputErrorLineTests: XCTestCase {
    /// An error naming a level that holds a newline is still one `file:line:column: message` line on stderr.
    func testInputErrorDescriptionIsOneLine() {
        let e = InputError(file: "d.csv", line: 3, column: 2, "level 'a\nb' of C(g) separates the outcome")
        XCTAssertEqual(e.description, "d.csv:3:2: level 'a\\nb' of C(g) separates the outcome")
        XCTAssertEqual(e.message, "level 'a\nb' of C(g) separates the outcome")
    }
}
