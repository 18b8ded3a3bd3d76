#!/usr/bin/env bash
# Writes a public ratings dataset as CSV for `marquee admin reco-eval`: the
# MovieLens "latest-small" sample (100,004 ratings of 9,066 films by 671 users,
# 1995-2016) that Debian's r-cran-dslabs package ships as dslabs::movielens.
# Installs that package (and R) when missing and running as root.
#
#   scripts/reco-public-dataset.sh [DIR]   (default .marquee/reco)
#
# DIR/movielens-interactions.csv  viewer,item,timestamp,weight (weight = rating)
# DIR/movielens-items.csv         id,genres,tags,cast,text,published_at
#                                 (genres |-separated, text = title, published
#                                 = 1 January of the release year)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

out=${1:-.marquee/reco}
mkdir -p "$out"
if ! have Rscript || ! Rscript -e 'quit(status = !requireNamespace("dslabs", quietly = TRUE))' >/dev/null 2>&1; then
	apt_install r-cran-dslabs || die "could not install r-cran-dslabs (Debian's R package with the MovieLens sample)"
fi
Rscript - "$out" <<'R'
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]
data("movielens", package = "dslabs")
ml <- movielens
ml <- ml[order(ml$userId, ml$timestamp, ml$movieId), ]
inter <- data.frame(viewer = paste0("u", ml$userId), item = paste0("m", ml$movieId),
                    timestamp = ml$timestamp, weight = ml$rating)
write.csv(inter, file.path(out, "movielens-interactions.csv"), row.names = FALSE, quote = TRUE)
films <- ml[!duplicated(ml$movieId), c("movieId", "title", "year", "genres")]
films <- films[order(films$movieId), ]
genres <- as.character(films$genres)
genres[genres == "(no genres listed)"] <- ""
year <- ifelse(is.na(films$year), "", sprintf("%04d-01-01T00:00:00Z", films$year))
items <- data.frame(id = paste0("m", films$movieId), genres = genres, tags = "", cast = "",
                    text = as.character(films$title), published_at = year)
write.csv(items, file.path(out, "movielens-items.csv"), row.names = FALSE, quote = TRUE, na = "")
cat(sprintf("%d interactions, %d viewers, %d titles\n", nrow(inter), length(unique(ml$userId)), nrow(items)))
R
say "wrote $out/movielens-interactions.csv and $out/movielens-items.csv"
