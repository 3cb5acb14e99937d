import Foundation
import Statistics
import Tabular

/// An evaluation policy read from a policy file: π(a | user, position) over a catalogue of items.
///
/// File format (CSV with a header; `data.delimiter`):
///
/// - `item_id,probability` (the item column may also carry the name of `policy.action`): the same distribution for
///   every row;
/// - with a `position` column (or the column named by `policy.position`): one distribution per position, as obp's
///   `action_dist[:, :, position]` (positions as in the data, 1-based);
/// - with the `data.user_key` columns in front: one distribution per user (and position);
/// - with an `epsilon` column (the compact form): a group lists its items with their probabilities π(a | …), and
///   ε, the mass left, is spread evenly over the items it does not list (each gets ε / (|A| − listed)). An ε-greedy
///   top-k policy over 2,000 items is k rows per user, not 2,000. Without `epsilon`, unlisted items have probability 0.
///
/// Every group's probabilities plus ε sum to 1 within 1e-9 (`tolerance`); items must be in the catalogue; a group
/// may not list an item twice. Learned policies are written in the same format.
public struct PolicyTable: Sendable, Equatable {
    /// One user's (or position's, or everyone's) distribution.
    public struct Group: Sendable, Equatable {
        /// Catalogue indices of the listed items, in file order.
        public var items: [Int32]
        /// Their probabilities.
        public var probabilities: [Double]
        /// The mass spread over the unlisted items (0 without an `epsilon` column).
        public var epsilon: Double
        public init(items: [Int32], probabilities: [Double], epsilon: Double) {
            self.items = items
            self.probabilities = probabilities
            self.epsilon = epsilon
        }
    }

    /// Identifies a group: the user-key hash (0 when the file is not per user) and the position (0 when not per
    /// position).
    public struct GroupKey: Hashable, Sendable, Comparable {
        public var user: UInt64
        public var position: Int
        public init(user: UInt64, position: Int) {
            self.user = user
            self.position = position
        }
        public static func < (a: GroupKey, b: GroupKey) -> Bool { (a.user, a.position) < (b.user, b.position) }
    }

    /// How far a group's total may be from 1.
    public static let tolerance = 1e-9

    /// Number of items in the catalogue, |A|.
    public var catalogueSize: Int
    /// Whether groups are per user (the file has the user-key columns).
    public var byUser: Bool
    /// Whether groups are per position.
    public var byPosition: Bool
    /// The groups.
    public var groups: [GroupKey: Group] {
        didSet { users = Set(groups.keys.map(\.user)) }
    }
    /// The user-key hashes the table lists (per-user tables).
    public private(set) var users: Set<UInt64>

    public init(catalogueSize: Int, byUser: Bool, byPosition: Bool, groups: [GroupKey: Group]) {
        self.catalogueSize = catalogueSize
        self.byUser = byUser
        self.byPosition = byPosition
        self.groups = groups
        self.users = Set(groups.keys.map(\.user))
    }

    /// The group for a row, or nil when the file has none for its user or position.
    public func group(user: UInt64, position: Int) -> Group? {
        groups[GroupKey(user: byUser ? user : 0, position: byPosition ? position : 0)]
    }

    /// The part of a per-user table whose users hash to `shards` (of `shardCount`); the whole table otherwise.
    public func part(forShards shards: [Int], shardCount: Int) -> PolicyTable {
        guard byUser else { return self }
        let owned = Set(shards)
        var t = self
        t.groups = groups.filter { owned.contains(UserKey.shard(hash: $0.key.user, shards: shardCount)) }
        return t
    }
}

extension PolicyTable.Group {
    /// The probability of an unlisted item: ε / (|A| − listed), 0 when nothing is left.
    public func unlisted(catalogueSize: Int) -> Double {
        let rest = catalogueSize - items.count
        return rest > 0 && epsilon > 0 ? epsilon / Double(rest) : 0
    }
}

extension PolicyTable {
    /// Reads and checks a policy file.
    /// - Parameters:
    ///   - path: the file.
    ///   - written: the path as the job file writes it (for messages).
    ///   - catalogue: the catalogue's item keys → index.
    ///   - policy: the job's `[policy]` (column names).
    ///   - userKey: the job's `data.user_key`.
    ///   - delimiter: `data.delimiter`.
    /// - Throws: `InputError` naming the file, line and column: no item or probability column, some but not all
    ///   user-key columns, a probability that is not a number in [0, 1], an ε that is not a number in [0, 1] or
    ///   differs within a group, an item not in the catalogue, an item listed twice in a group, a group whose total
    ///   is not 1 within 1e-9, ε > 0 with nothing left to spread it over, a file without rows.
    public static func read(
        path: String, catalogue: [String: Int], policy: PolicySpec, userKey: [String], delimiter: CSVDelimiter
    ) throws -> PolicyTable {
        var table: CSVTable
        do {
            table = try CSVTable(path: path, delimiter: delimiter)
            // Policy files are Causa's own format, written with commas: read them so when data.delimiter differs.
            if delimiter != .comma, table.header.count == 1, table.header[0].contains(",") {
                table = try CSVTable(path: path, delimiter: .comma)
            }
        } catch let e as TabularError {
            throw InputError(e)
        }
        let header = table.header
        func column(_ names: [String]) -> Int? { names.lazy.compactMap { header.firstIndex(of: $0) }.first }
        let shown = "(the header has: \(header.prefix(20).map { "'\($0)'" }.joined(separator: ", ")))"
        let itemNames = policy.action == "item_id" ? ["item_id"] : [policy.action, "item_id"]
        guard let itemColumn = column(itemNames) else {
            throw InputError(
                file: path, line: 1,
                "a policy file needs an item column named \(itemNames.map { "'\($0)'" }.joined(separator: " or ")) \(shown)\(table.delimiterHint)"
            )
        }
        // Every column must mean something: a user-key column of another job, a misspelt name or a column named twice
        // would otherwise be ignored and change what the file says.
        let positionNames = (policy.position.map { [$0] } ?? []) + ["position"]
        let known = Set(itemNames + ["probability", "epsilon", "rank", "predicted_reward"] + positionNames + userKey)
        for (i, name) in header.enumerated() {
            if let j = header.firstIndex(of: name), j < i {
                throw InputError(
                    file: path, line: 1, column: i + 1,
                    "the column '\(printable(name))' is named twice (columns \(j + 1) and \(i + 1))")
            }
            guard known.contains(name) else {
                let keys = userKey.isEmpty ? "" : ", the data.user_key columns (\(userKey.joined(separator: ", ")))"
                throw InputError(
                    file: path, line: 1, column: i + 1,
                    "unknown column '\(printable(name))' in a policy file (expected \(itemNames[0]), probability, and optionally \(positionNames[0]), epsilon\(keys); rank and predicted_reward are ignored)\(userKey.isEmpty ? ". A per-user policy needs data.user_key in the job" : "")"
                )
            }
        }
        guard let probabilityColumn = column(["probability"]) else {
            throw InputError(file: path, line: 1, "a policy file needs a 'probability' column \(shown)")
        }
        let positionColumn = column(positionNames)
        if let c = positionColumn, policy.position == nil {
            throw InputError(
                file: path, line: 1, column: c + 1,
                "this policy file gives probabilities per position ('\(header[c])'): set policy.position to the data's position column"
            )
        }
        let epsilonColumn = column(["epsilon"])
        let keyColumns = userKey.compactMap { header.firstIndex(of: $0) }
        if !keyColumns.isEmpty, keyColumns.count < userKey.count {
            let absent = userKey.filter { !header.contains($0) }
            throw InputError(
                file: path, line: 1,
                "a per-user policy file needs every data.user_key column; it lacks \(absent.map { "'\($0)'" }.joined(separator: ", "))"
            )
        }
        let byUser = !keyColumns.isEmpty
        let byPosition = positionColumn != nil
        var groups: [GroupKey: Group] = [:]
        var firstLine: [GroupKey: Int] = [:]
        var itemLines: [GroupKey: [Int32: Int]] = [:]
        var describe: [GroupKey: String] = [:]
        var rows = 0
        do {
            while let r = try table.next() {
                rows += 1
                func cell(_ c: Int) -> String { c < r.fields.count ? r.fields[c] : "" }
                func fail(_ c: Int, _ message: String) -> InputError {
                    InputError(file: path, line: r.line, column: c + 1, message)
                }
                let itemText = cell(itemColumn)
                guard let item = catalogue[itemText] else {
                    throw fail(
                        itemColumn,
                        "item '\(printable(itemText))' is not in the catalogue of \(catalogue.count) items (keys are compared as text: 7 and 7.0 differ)"
                    )
                }
                let pText = cell(probabilityColumn)
                guard let p = Cell.number(pText), p >= 0, p <= 1 else {
                    throw fail(probabilityColumn, "probability '\(printable(pText))' is not a number in [0, 1]")
                }
                var position = 0
                if let c = positionColumn {
                    let text = cell(c)
                    guard let v = Cell.number(text), v == v.rounded(), abs(v) < 1e9 else {
                        throw fail(c, "position '\(printable(text))' is not a whole number")
                    }
                    position = Int(v)
                }
                var epsilon = 0.0
                if let c = epsilonColumn {
                    let text = cell(c)
                    guard let e = Cell.number(text), e >= 0, e <= 1 else {
                        throw fail(c, "epsilon '\(printable(text))' is not a number in [0, 1]")
                    }
                    epsilon = e
                }
                let user = byUser ? UserKey.hash(keyColumns.map { cell($0) }) : 0
                let key = GroupKey(user: user, position: position)
                if var g = groups[key] {
                    if let earlier = itemLines[key]?[Int32(item)] {
                        throw fail(
                            itemColumn,
                            "item '\(printable(itemText))' is listed twice for \(describe[key]!) (first on line \(earlier))"
                        )
                    }
                    if g.epsilon != epsilon {
                        throw fail(
                            epsilonColumn!,
                            "epsilon \(epsilon) differs from \(g.epsilon) on line \(firstLine[key]!) for \(describe[key]!): a group has one epsilon"
                        )
                    }
                    g.items.append(Int32(item))
                    g.probabilities.append(p)
                    groups[key] = g
                } else {
                    groups[key] = Group(items: [Int32(item)], probabilities: [p], epsilon: epsilon)
                    firstLine[key] = r.line
                    var parts: [String] = []
                    if byUser { parts.append("user \(keyColumns.map { printable(cell($0)) }.joined(separator: ", "))") }
                    if byPosition { parts.append("position \(position)") }
                    describe[key] = parts.isEmpty ? "the policy" : parts.joined(separator: " at ")
                }
                itemLines[key, default: [:]][Int32(item)] = r.line
            }
        } catch let e as TabularError { throw InputError(e) }
        guard rows > 0 else { throw InputError(file: path, line: 2, "the policy file has a header but no rows") }
        for key in groups.keys.sorted(by: { firstLine[$0]! < firstLine[$1]! }) {
            let g = groups[key]!
            var total = CompensatedSum()
            for p in g.probabilities { total.add(p) }
            total.add(g.epsilon)
            if g.epsilon > 0, g.items.count >= catalogue.count {
                throw InputError(
                    file: path, line: firstLine[key]!, column: epsilonColumn.map { $0 + 1 },
                    "\(describe[key]!) lists every item of the catalogue and an epsilon of \(g.epsilon): there is no unlisted item to spread it over"
                )
            }
            guard abs(total.value - 1) <= tolerance else {
                let what = epsilonColumn == nil ? "probabilities" : "probabilities plus epsilon"
                throw InputError(
                    file: path, line: firstLine[key]!, column: probabilityColumn + 1,
                    "the \(what) of \(describe[key]!) (\(g.items.count) rows from this line) sum to \(total.value), not 1 (tolerance \(tolerance)); write them to full precision, or divide by their sum"
                )
            }
        }
        return PolicyTable(catalogueSize: catalogue.count, byUser: byUser, byPosition: byPosition, groups: groups)
    }
}
