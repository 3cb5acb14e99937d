import ArgumentParser
import Foundation
import Jobs

struct Partition: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cut a job's data file into one file per shard, for jobs with data.source = \"shards\".",
        discussion: """
            Writes DIR/shard-NNNNN.csv (rows of users hashed to shard N, in data order, with their row index and line in \\
            the source file) and DIR/manifest.json. A job whose [data] says source = "shards" and path = DIR then has each \\
            worker read its own shards: rows no longer pass through the coordinator (the workers must see DIR at that path).
            """)

    @Option(
        help: ArgumentHelp("The job file (TOML) whose data, user key and shard count to use.", valueName: "JOB.toml"))
    var job: String
    @Option(help: ArgumentHelp("Folder to create for the shards (must not exist).", valueName: "DIR")) var out: String
    @OptionGroup var common: CommonOptions

    func run() throws {
        _ = common.bootstrap()
        try guarded {
            let spec = try loadJob(job)
            let manifest = try ShardPartitioner.partition(job: spec, into: out)
            print("wrote \(manifest.rows.reduce(0, +)) rows into \(manifest.shards) shard files in \(out)")
        }
    }
}
