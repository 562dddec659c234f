# mclust's BIC table of tests/data/<name>.csv for tests/test_selection.py
# (every column but "label" is a feature).
# Run from tests/data: Rscript mclust_bic.R wine; Rscript mclust_bic.R faithful
library(mclust)
name <- commandArgs(TRUE)[1]
described <- c(
  wine = "178 x 13: scikit-learn's load_wine() features",
  faithful = "272 x 2: R's datasets::faithful, eruptions and waiting"
)
d <- read.csv(paste0(name, ".csv"))
X <- as.matrix(d[, setdiff(names(d), "label")])
fit <- Mclust(X, G = 1:9, verbose = FALSE)
tab <- fit$BIC
out <- data.frame(G = rep(as.integer(rownames(tab)), ncol(tab)),
                  model = rep(colnames(tab), each = nrow(tab)),
                  bic = sprintf("%.6f", -as.vector(tab)))
con <- file(paste0("mclust_", name, "_bic.csv"), "w")
writeLines(c(
  paste0("# mclust's BIC of every candidate of Mclust(X, G = 1:9) on ", name,
         " (its defaults: one start from hc on SVD-scaled data, tol 1e-5),"),
  "# in scikit-learn's sign (-BIC; lower is better); NA where mclust has none.",
  paste0("# Made by ", R.version.string, ", mclust ", packageVersion("mclust"), "."),
  paste0("# Data: tests/data/", name, ".csv (", described[[name]], ")"),
  paste0("# Command: Rscript mclust_bic.R ", name)), con)
write.csv(out, con, row.names = FALSE, quote = FALSE)
close(con)
