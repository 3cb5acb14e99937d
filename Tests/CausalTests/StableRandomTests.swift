import Causal
import Cluster
import Encoders
import Jobs
import Simulation
import XCTest

/// One definition of the seeded generators and stable hashes for every layer: published reference vectors, and the
/// bits that fold assignment, shard hashing, rendezvous ownership, the hashing encoder and the simulator's streams
/// gave before they moved here (recorded from the code at commit 1e55800, where each layer had its own copy).
final class StableRandomTests: XCTestCase {
    func testPublishedReferenceVectors() {
        // FNV-1a 64: the empty string is the offset basis; "a" and "foobar" from the FNV test suite.
        XCTAssertEqual(FNV1a64.hash(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(FNV1a64.hash("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(FNV1a64.hash("foobar"), 0x8594_4171_f739_67e8)
        // SplitMix64, seed 0 (Vigna's splitmix64.c).
        var sm = SplitMix64(seed: 0)
        XCTAssertEqual(
            [sm.next(), sm.next(), sm.next()], [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
        XCTAssertEqual(SplitMix64.mix(0), 0xE220_A839_7B1D_CDAF)
        // xoshiro256** from state (1, 2, 3, 4) (xoshiro256starstar.c).
        var x = Xoshiro256(state: (1, 2, 3, 4))
        XCTAssertEqual([x.next(), x.next(), x.next(), x.next()], [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240])
    }

    func testShardsFoldsAndRowHashesKeepTheirBits() {
        let h = UserKey.hash(["user", "42"])
        XCTAssertEqual(h, 12_366_626_902_638_188_177)
        XCTAssertEqual(UserKey.hash(["a"]), 12_638_187_200_555_641_996)
        XCTAssertEqual(UserKey.hash([String]()), 14_695_981_039_346_656_037)
        XCTAssertEqual(UserKey.hash(["x, y", "z"]), 10_578_093_655_489_482_107)
        XCTAssertNotEqual(UserKey.hash(["x", "y, z"]), UserKey.hash(["x, y", "z"]))
        XCTAssertEqual(
            [SplitMix64.mix(0), SplitMix64.mix(1), SplitMix64.mix(0xDEAD_BEEF)],
            [16_294_208_416_658_607_535, 10_451_216_379_200_822_465, 5_395_234_354_446_855_067])
        XCTAssertEqual(UserKey.shard(hash: h, shards: 64), 17)
        XCTAssertEqual(UserKey.fold(rowIndex: 5, hash: h, folds: 5, by: .user), 3)
        XCTAssertEqual(UserKey.fold(rowIndex: 5, hash: h, folds: 5, by: .row), 0)
        XCTAssertEqual(UserKey.rowHash(keyFields: [String](), rowIndex: 7, hasKey: false), 7_191_089_600_892_374_487)
    }

    func testRendezvousOwnersKeepTheirBits() {
        XCTAssertEqual(
            Rendezvous.owners(shards: 12, workers: ["w-b", "w-a", "w-c"]),
            ["w-a", "w-c", "w-c", "w-b", "w-a", "w-c", "w-a", "w-c", "w-a", "w-b", "w-b", "w-b"])
    }

    func testHashingEncoderKeepsItsBits() throws {
        let v = try HashingEncoder().encode(["the quick brown fox"])
        let nonzero = v.enumerated().filter { $0.element != 0 }.map { "\($0.offset):\($0.element)" }
        XCTAssertEqual(nonzero, ["14:-0.5", "28:0.5", "252:0.5", "335:-0.5"])
    }

    func testSimulatorStreamsKeepTheirBits() {
        var x = Xoshiro256(seed: 9, stream: 1)
        XCTAssertEqual(
            [x.next(), x.next(), x.next()],
            [8_398_405_707_894_279_160, 4_063_649_252_959_287_843, 6_214_248_569_304_075_876])
        var y = Xoshiro256(seed: 20_240_607, stream: 4)
        XCTAssertEqual(y.uniform(), 0.688771705136124)
        XCTAssertEqual(y.index(1000), 784)
        XCTAssertEqual(y.normal(), -0.1881951259384415)
    }
}
