import Foundation

extension SimulatedDataset {
    public static let fileNames = ["users.csv", "items.csv", "impressions.csv", "truth.json"]

    /// RFC 4180 field: quoted when it holds a comma, quote or line break.
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Shortest representation that reads back as the same Double (JSON- and CSV-safe for finite values).
    static func number(_ x: Double) -> String { "\(x)" }
    static func cents(_ x: Double) -> String { String(format: "%.2f", x) }

    public func usersCSV() -> String {
        var out = "user_id,segment,signup_days,profile\n"
        for u in users { out += "\(u.id),\(u.segmentName),\(u.signupDays),\(Self.csvField(u.profile))\n" }
        return out
    }

    public func itemsCSV() -> String {
        var out = "item_id,category,price,description\n"
        for i in items { out += "\(i.id),\(i.categoryName),\(Self.cents(i.price)),\(Self.csvField(i.description))\n" }
        return out
    }

    public func impressionsCSV() -> String {
        var out = "user_id,slate_id,timestamp,item_id,position,category,price,propensity,click,query\n"
        out.reserveCapacity(impressions.count * 110)
        for r in impressions {
            let item = items[r.item]
            out +=
                "\(r.user),\(r.slate),\(String(format: "%.4f", r.timestamp)),\(r.item),\(r.position),\(item.categoryName),"
            out +=
                "\(Self.cents(item.price)),\(Self.number(r.propensity)),\(r.click ? 1 : 0),\(Self.csvField(r.query))\n"
        }
        return out
    }

    public func truthJSON() -> String {
        let c = config
        func list(_ xs: [Double]) -> String { "[" + xs.map(Self.number).joined(separator: ",") + "]" }
        func matrix(_ flat: [Double], columns: Int) -> String {
            guard columns > 0, !flat.isEmpty else { return "[]" }
            var rows: [String] = []
            rows.reserveCapacity(flat.count / columns)
            for start in stride(from: 0, to: flat.count, by: columns) {
                rows.append("    " + list(Array(flat[start..<start + columns])))
            }
            return "[\n" + rows.joined(separator: ",\n") + "\n  ]"
        }
        let segmentEffects = zip(Vocabulary.segments, c.segmentEffects).map { "\"\($0)\": \(Self.number($1))" }.joined(
            separator: ", ")
        let basePrices = zip(Vocabulary.categories, Vocabulary.basePrice).map { "\"\($0)\": \(Self.number($1))" }
            .joined(separator: ", ")
        var out = "{\n"
        out += "  \"generator\": \"causa simulate\",\n"
        out += "  \"format_version\": 1,\n"
        out += "  \"seed\": \(c.seed),\n"
        out += "  \"parameters\": {\n"
        out +=
            "    \"users\": \(c.users), \"items\": \(c.items), \"impressions_per_user\": \(c.impressionsPerUser), \"positions\": \(c.positions),\n"
        out +=
            "    \"latent_dimension\": \(SimulationConfig.latentDimension), \"themes\": [\(Vocabulary.themes.map { "\"\($0)\"" }.joined(separator: ", "))],\n"
        out += "    \"latent_noise_sd\": \(Self.number(c.latentNoiseSD)),\n"
        out +=
            "    \"alpha\": \(Self.number(c.alpha)), \"beta\": \(Self.number(c.beta)), \"delta\": \(Self.number(c.delta)),\n"
        out +=
            "    \"position_decay\": \(Self.number(c.positionDecay)), \"position_effects\": \(list(c.positionEffects)),\n"
        out +=
            "    \"segment_effects\": {\(segmentEffects)}, \"signup_effect\": \(Self.number(c.signupEffect)), \"user_noise_sd\": \(Self.number(c.userNoiseSD)),\n"
        out += "    \"price_log_sd\": \(Self.number(c.priceLogSD)), \"category_base_price\": {\(basePrices)},\n"
        out +=
            "    \"logging_temperature\": \(Self.number(c.loggingTemperature)), \"logging_noise_sd\": \(Self.number(c.loggingNoiseSD)), \"logging_score_decimals\": 6,\n"
        out += "    \"days\": \(Self.number(c.days))\n"
        out += "  },\n"
        out +=
            "  \"policy_values\": {\"logging\": \(Self.number(policyValues.logging)), \"uniform\": \(Self.number(policyValues.uniform)), \"oracle\": \(Self.number(policyValues.oracle))},\n"
        out += "  \"oracle_items\": [\(oracleItems.map(String.init).joined(separator: ","))],\n"
        out += "  \"user_effects\": \(list(users.map(\.effect))),\n"
        out += "  \"user_latents\": \(matrix(users.flatMap(\.latent), columns: SimulationConfig.latentDimension)),\n"
        out += "  \"item_latents\": \(matrix(items.flatMap(\.latent), columns: SimulationConfig.latentDimension)),\n"
        out += "  \"click_probability_position1\": \(matrix(clickProbability, columns: items.count)),\n"
        out += "  \"logging_scores\": \(matrix(loggingScores, columns: items.count))\n"
        out += "}\n"
        return out
    }

    /// Writes the four files into `directory` (created if missing), each to a temporary file renamed into place.
    /// Returns their paths in `fileNames` order.
    @discardableResult
    public func write(to directory: String) throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SimulationError.write(
                path: directory, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        let contents = [usersCSV(), itemsCSV(), impressionsCSV(), truthJSON()]
        var paths: [String] = []
        for (name, text) in zip(Self.fileNames, contents) {
            let path = (directory as NSString).appendingPathComponent(name)
            let temporary = (directory as NSString).appendingPathComponent(".\(name).tmp-\(getpid())")
            guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
                throw SimulationError.write(path: temporary, reason: "the file could not be created")
            }
            if rename(temporary, path) != 0 {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw SimulationError.write(path: path, reason: reason)
            }
            paths.append(path)
        }
        return paths
    }
}
