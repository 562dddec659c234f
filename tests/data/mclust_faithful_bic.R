# mclust's BIC table of tests/data/faithful.csv for tests/test_selection.py.
# Run from tests/data: Rscript mclust_faithful_bic.R
library(mclust)
d <- read.csv("faithful.csv")
X <- as.matrix(d)
fit <- Mclust(X, G = 1:9, verbose = FALSE)
tab <- fit$BIC
out <- data.frame(G = rep(as.integer(rownames(tab)), ncol(tab)),
                  model = rep(colnames(tab), each = nrow(tab)),
                  bic = sprintf("%.6f", -as.vector(tab)))
con <- file("mclust_faithful_bic.csv", "w")
writeLines(c(
  "# mclust's BIC of every candidate of Mclust(X, G = 1:9) on faithful (its defaults: one start from hc on SVD-scaled data, tol 1e-5),",
  "# in scikit-learn's sign (-BIC; lower is better); NA where mclust has none.",
  paste0("# Made by ", R.version.string, ", mclust ", packageVersion("mclust"), "."),
  "# Data: tests/data/faithful.csv (272 x 2: R's datasets::faithful, eruptions and waiting)",
  "# Command: Rscript mclust_faithful_bic.R"), con)
write.csv(out, con, row.names = FALSE, quote = FALSE)
close(con)
