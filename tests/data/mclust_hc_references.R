# Reference merges, partitions and SVD scaling of R mclust's hc (VVV, use = "SVD")
# for tests/test_hc.py. Run from tests/data: Rscript mclust_hc_references.R
library(mclust)
header <- function(what, data, cmd) {
  c(paste0("# ", what),
    paste0("# Made by ", R.version.string, ", mclust ", packageVersion("mclust"), "."),
    paste0("# Data: ", data),
    paste0("# Command: ", cmd))
}
write_with_header <- function(lines, table, path) {
  con <- file(path, "w")
  writeLines(lines, con)
  write.csv(table, con, row.names = FALSE, quote = FALSE)
  close(con)
}
wine <- read.csv("wine.csv")
faithful_csv <- read.csv("faithful.csv")
sets <- list(
  wine = list(X = wine, G = 2:9, data = "tests/data/wine.csv (178 x 13: scikit-learn's load_wine() features)"),
  faithful = list(X = faithful_csv, G = 2:5, data = "tests/data/faithful.csv (272 x 2)")
)
for (name in names(sets)) {
  s <- sets[[name]]
  h <- hc(s$X, modelName = "VVV", use = "SVD")
  cl <- hclass(h, s$G)
  colnames(cl) <- paste0("G", s$G)
  write_with_header(
    header(paste0("mclust's hierarchical partitions of ", name, ": column Gk is the partition into k groups, one row per data row."),
           s$data, paste0("X <- read.csv(...); hclass(hc(X, modelName = \"VVV\", use = \"SVD\"), ", deparse(s$G), ")")),
    cl, paste0("mclust_hc_", name, "_partitions.csv"))
  pairs <- t(h); colnames(pairs) <- c("low", "high")
  write_with_header(
    header(paste0("mclust's merges of ", name, ": row s joins the groups labelled low and high (1-based; the result is labelled low)."),
           s$data, "X <- read.csv(...); t(hc(X, modelName = \"VVV\", use = \"SVD\"))"),
    pairs, paste0("mclust_hc_", name, "_merges.csv"))
  if (name == "wine") {
    Z <- attr(h, "data")[1:5, ]
    colnames(Z) <- paste0("z", 1:ncol(Z))
    write_with_header(
      header("mclust's SVD scaling of wine (use = \"SVD\"), its first 5 rows; the signs of columns are LAPACK's.",
             s$data, "X <- read.csv(...); attr(hc(X, modelName = \"VVV\", use = \"SVD\"), \"data\")[1:5, ]"),
      matrix(sprintf("%.17g", Z), nrow = nrow(Z), dimnames = dimnames(Z)), "mclust_hc_wine_svd_rows.csv")
  }
}
