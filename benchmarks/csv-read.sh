#!/usr/bin/env bash
# CSV parse speed: Causa's Tabular.CSVTable against yaslab/CSV.swift (the library it replaced) and pandas.read_csv,
# on data/bench/obd_x4.csv (40,000 rows x 90 columns, 20 MB; made by benchmarks/network-bytes.sh). Run by hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f data/bench/obd_x4.csv ] || { echo "run benchmarks/network-bytes.sh first (it makes data/bench/obd_x4.csv)"; exit 1; }
work=$(mktemp -d)
mkdir -p "$work/Sources/csvbench"
cat > "$work/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription
let package = Package(name: "csvbench",
  dependencies: [.package(path: "$PWD"), .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0")],
  targets: [.executableTarget(name: "csvbench", dependencies: [.product(name: "Tabular", package: "main"),
            .product(name: "CSV", package: "CSV.swift")])], swiftLanguageModes: [.v5])
SWIFT
cat > "$work/Sources/csvbench/main.swift" <<'SWIFT'
import CSV
import Foundation
import Tabular
let path = CommandLine.arguments[1]
func time(_ name: String, _ body: () throws -> Int) rethrows {
    let t = Date(); let n = try body()
    print(String(format: "%-34@ %6.3f s  (%d fields)", name as NSString, Date().timeIntervalSince(t), n))
}
try time("Causa CSVTable, all columns") { let t = try CSVTable(path: path); var f = 0; while let r = try t.next() { f += r.fields.count }; return f }
try time("Causa CSVTable, 7 columns") { let t = try CSVTable(path: path); var f = 0; while let r = try t.next(selecting: [2,3,4,6,7,8,9]) { f += r.fields.count }; return f }
try time("CSV.swift 2.5, all columns") {
    let r = try CSVReader(string: String(contentsOfFile: path, encoding: .utf8), hasHeaderRow: true); var f = 0
    while let row = r.next() { f += row.count }; return f }
SWIFT
(cd "$work" && swift build -c release 2>&1 | tail -1 && .build/release/csvbench "$OLDPWD/data/bench/obd_x4.csv")
PY=${PYTHON:-/tmp/refvenv/bin/python}
if [ -x "$PY" ]; then
  "$PY" - data/bench/obd_x4.csv <<'PYEOF'
import sys, time, pandas as pd
t = time.time(); d = pd.read_csv(sys.argv[1]); print(f"pandas.read_csv {pd.__version__}, all columns  {time.time()-t:6.3f} s  ({d.size} fields)")
t = time.time(); d = pd.read_csv(sys.argv[1], usecols=[2,3,4,6,7,8,9]); print(f"pandas.read_csv, 7 columns          {time.time()-t:6.3f} s  ({d.size} fields)")
PYEOF
fi
