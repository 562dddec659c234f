# mclust's BIC table of tests/data/wine.csv for tests/test_selection.py.
# Run from tests/data: Rscript mclust_wine_bic.R
library(mclust)
d <- read.csv("wine.csv")
X <- as.matrix(d[, setdiff(names(d), "label")])
fit <- Mclust(X, G = 1:9, verbose = FALSE)
tab <- fit$BIC
out <- data.frame(G = rep(as.integer(rownames(tab)), ncol(tab)),
                  model = rep(colnames(tab), each = nrow(tab)),
                  bic = sprintf("%.6f", -as.vector(tab)))
con <- file("mclust_wine_bic.csv", "w")
writeLines(c(
  "# mclust's BIC of every candidate of Mclust(X, G = 1:9) on wine (its defaults: one start from hc on SVD-scaled data, tol 1e-5),",
  "# in scikit-learn's sign (-BIC; lower is better); NA where mclust has none.",
  paste0("# Made by ", R.version.string, ", mclust ", packageVersion("mclust"), "."),
  "# Data: tests/data/wine.csv (178 x 13: scikit-learn's load_wine() features)",
  "# Command: Rscript mclust_wine_bic.R"), con)
write.csv(out, con, row.names = FALSE, quote = FALSE)
close(con)
