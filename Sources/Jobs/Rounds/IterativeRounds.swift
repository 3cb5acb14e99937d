import Statistics

extension ShardExecutor {
    /// Runs a round again and again until every fit has stopped, each by its own rule: the driver of iterative
    /// estimators (Newton's full fit and CV fits today). A new iterative estimator is a round whose statistic is a
    /// `StatisticList` (one statistic per fit) and a step function.
    ///
    /// Each round is built from the fits still going (`round`, with their indices into `fits`, in order); its
    /// statistics are merged in shard order (`merge(_:job:)`), and `step` gets each active fit's merged statistic, in
    /// fit order, updates the fit and returns whether it has stopped.
    /// - Parameters:
    ///   - fits: every fit's state; updated in place.
    ///   - round: the round for the active fits.
    ///   - step: one iteration of fit `index`; true when the fit stops.
    ///   - afterRound: called after each round with its number (1-based) and the count of fits it served.
    /// - Returns: the number of rounds run.
    /// - Throws: what `merge(_:job:)` or `step` throws.
    @discardableResult
    public func iterate<R: Round, State, Element>(
        _ fits: inout [State], job prepared: PreparedJob, round: ([(index: Int, state: State)]) -> R,
        step: (_ index: Int, _ state: inout State, _ statistic: Element) throws -> Bool,
        afterRound: (_ round: Int, _ active: Int) -> Void = { _, _ in }
    ) throws -> Int where R.Statistic == StatisticList<Element> {
        var stopped = [Bool](repeating: false, count: fits.count)
        var rounds = 0
        while stopped.contains(false) {
            let active = fits.indices.filter { !stopped[$0] }
            let merged = try merge(round(active.map { ($0, fits[$0]) }), job: prepared)
            precondition(
                merged.items.count == active.count, "iterate: \(merged.items.count) statistics for \(active.count) fits"
            )
            for (i, index) in active.enumerated() {
                stopped[index] = try step(index, &fits[index], merged.items[i])
            }
            rounds += 1
            afterRound(rounds, active.count)
        }
        return rounds
    }
}
