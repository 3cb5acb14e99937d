# lavaan side of benchmarks/sem-vs-lavaan: read the CSV, fit the reference model with the reference call
# (shared/reference/stats/sem_feedback_n5000_lavaan.json: sem(model, data=dat, estimator='ML', meanstructure=TRUE)),
# and print the timings and a few estimates as one JSON object on stdout.
# usage: Rscript benchmarks/sem_lavaan_bench.R DATA.csv
# Reads with data.table::fread when data.table is installed (Debian: r-cran-data.table), else read.csv.
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
path <- commandArgs(trailingOnly = TRUE)[1]
model <- "Y ~ X1 + X2 + Z3\nX1 ~ Y + Z1\nX2 ~ Y + Z2"
have_dt <- requireNamespace("data.table", quietly = TRUE)
t0 <- proc.time()[["elapsed"]]
dat <- if (have_dt) as.data.frame(data.table::fread(path, showProgress = FALSE)) else read.csv(path)
t1 <- proc.time()[["elapsed"]]
fit <- sem(model, data = dat, estimator = "ML", meanstructure = TRUE)
t2 <- proc.time()[["elapsed"]]
pe <- parameterEstimates(fit, remove.nonfree = FALSE)
fm <- fitMeasures(fit, c("chisq", "df", "logl"))
cat(toJSON(list(reader = if (have_dt) paste0("data.table::fread ", packageVersion("data.table"), " (threads ", data.table::getDTthreads(), ")") else "read.csv",
                lavaan_version = as.character(packageVersion("lavaan")), rows = nrow(dat),
                read_s = t1 - t0, fit_s = t2 - t1, total_s = t2 - t0,
                converged = lavInspect(fit, "converged"), iterations = lavInspect(fit, "iterations"),
                parameters = pe[, c("lhs", "op", "rhs", "est", "se")], fit = as.list(fm)),
           auto_unbox = TRUE, digits = NA), "\n")
