# Reference fits for the SEM tests (Tests/StatisticsTests/SEM*.swift), lavaan 0.6.14 from Debian (r-cran-lavaan).
# usage (from the repository root): Rscript Tests/Fixtures/scripts/sem_lavaan.R
# Writes Tests/Fixtures/reference/sem/sem_lavaan_fits.json. Every fit: sem(model, data, estimator = "ML",
# meanstructure = TRUE), other options at lavaan's defaults (fixed.x = TRUE, expected information).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
dir <- "Tests/Fixtures/reference/sem"
fits <- list(
  list(name = "latent", data = "sem_latent_n2000.csv",
       model = "sat =~ s1 + s2 + s3\nsat ~ quality + price\nclick ~ sat + price"),
  list(name = "two_factor", data = "sem_latent_n2000.csv",
       model = paste0("# two correlated factors, two outcomes\n",
                      "f1 =~ s1 + s2 +\n      s3\n",
                      "f2 =~ b1 + b2 + 0.7*b3 ; y2 ~ f2 + f1   # two statements\n",
                      "click ~ a*f1 + price\n",
                      "s1 ~~ s2\n")),
  list(name = "feedback", data = "sem_feedback_n5000.csv",
       model = "Y ~ X1 + X2 + Z3\nX1 ~ Y + Z1\nX2 ~ Y + Z2")
)
out <- list(lavaan_version = as.character(packageVersion("lavaan")), R_version = R.version.string,
            call = "sem(model, data = dat, estimator = 'ML', meanstructure = TRUE)", fits = list())
for (f in fits) {
  dat <- read.csv(file.path(dir, f$data))
  warns <- character(0)
  fit <- withCallingHandlers(sem(f$model, data = dat, estimator = "ML", meanstructure = TRUE),
                             warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  pe <- parameterEstimates(fit, remove.nonfree = FALSE, remove.system.eq = FALSE)
  pt <- parTable(fit)
  std <- standardizedSolution(fit, type = "std.all", remove.eq = FALSE, remove.ineq = FALSE, remove.def = FALSE)
  key <- function(d) paste(d$lhs, d$op, d$rhs)
  if (is.null(pe$label)) pe$label <- ""
  pe$free <- pt$free[match(key(pe), key(pt))] > 0
  pe$std.all <- std$est.std[match(key(pe), key(std))]
  fm <- fitMeasures(fit)
  ss <- lavInspect(fit, "sampstat"); im <- lavInspect(fit, "implied")
  out$fits[[f$name]] <- list(
    data_file = file.path(dir, f$data), model = f$model, n = nrow(dat), warnings = warns,
    converged = lavInspect(fit, "converged"), iterations = lavInspect(fit, "iterations"),
    parameters = pe[, c("lhs", "op", "rhs", "label", "free", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all")],
    fit_measures = as.list(fm[c("npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df",
                                "baseline.pvalue", "cfi", "tli", "nnfi", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
                                "rmsea.pvalue", "srmr", "logl", "unrestricted.logl", "aic", "bic", "ntotal")]),
    variable_order = rownames(ss$cov),
    sample_cov_divisor_N = unclass(ss$cov), sample_mean = unclass(ss$mean),
    implied_cov = unclass(im$cov), implied_mean = unclass(im$mean))
}
path <- file.path(dir, "sem_lavaan_fits.json")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), path)
cat("wrote", path, "\n")
