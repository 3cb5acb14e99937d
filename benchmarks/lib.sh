# Helpers shared by the benchmark scripts (source this file; it defines functions only).

# make_repeated_obd N OUT: the OBD random sample repeated N times, row index renumbered (skipped if OUT exists).
make_repeated_obd() {
    local n=$1 out=$2
    [ -f "$out" ] && return 0
    mkdir -p "$(dirname "$out")"
    python3 - "$n" "$out" <<'PY'
import csv, sys
n, out = int(sys.argv[1]), sys.argv[2]
rows = list(csv.reader(open("data/obd/random/all/all.csv")))
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n"); w.writerow(rows[0]); i = 0
    for _ in range(n):
        for r in rows[1:]:
            w.writerow([str(i)] + r[1:]); i += 1
PY
}

# The shared reference's design B as a formula.
DESIGN_B='click ~ C(position) + I(user_feature_0 == "cef3390ed299c09874189c387777674a") + I(item_id == 6) + I(item_id == 18) + I(item_id == 36) + I(item_id == 44) + I(item_id == 49) + I(item_id == 53) + I(item_id == 57) + I(item_id == 58)'

# write_job KIND DATA OUT: a design-B job on DATA (absolute or repo-relative path), 5-fold CV by row, 64 shards.
write_job() {
    cat > "$3" <<TOML
[data]
path = "$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
user_key = ["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]
[model]
kind = "$1"
formula = '$DESIGN_B'
[cv]
folds = 5
[cluster]
shards = 64
TOML
}
