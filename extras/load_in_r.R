# Load the study's exports into quanteda and stm.
# Run from the project root after `make results`; not run by the test suite.
#   install.packages(c("Matrix", "quanteda", "stm", "yaml"))
library(Matrix)
library(quanteda)
library(stm)

exports <- file.path("results", "exports")
vocab <- readLines(file.path(exports, "vocabulary.txt"), encoding = "UTF-8")

read_dfm <- function(matrix_file, docvars_file, id_column) {
  counts <- readMM(file.path(exports, matrix_file))
  vars <- read.csv(file.path(exports, docvars_file), encoding = "UTF-8",
                   stringsAsFactors = FALSE, na.strings = "")
  dimnames(counts) <- list(vars[[id_column]], vocab)
  d <- as.dfm(as(counts, "CsparseMatrix"))
  docvars(d) <- vars
  d
}

units <- read_dfm("dtm_units.mtx", "docvars_units.csv", "unit_id")
articles <- read_dfm("dtm_articles.mtx", "docvars_articles.csv", "doc_id")

# The governance lexicon as a quanteda dictionary. Tokens are the study's own
# (variants already mapped to their canonical term), so dfm_lookup counts
# exactly what the study's lexicon profile counts.
governance <- dictionary(file = file.path(exports, "dictionary.yml"))
profile <- dfm_lookup(dfm_group(units, groups = place), governance)
print(profile)

# The same lexicon with its three levels (dimension -> concept -> terms):
# levels = 2 counts each place's policy concepts, as place_concepts.csv does.
concepts <- dictionary(file = file.path(exports, "dictionary_concepts.yml"))
print(dfm_lookup(dfm_group(units, groups = place), concepts, levels = 2))

# An stm model over the units, with place as a prevalence covariate.
stm_input <- convert(units, to = "stm")
fit <- stm(stm_input$documents, stm_input$vocab, K = 6,
           prevalence = ~ place, data = stm_input$meta, seed = 1)
effect <- estimateEffect(1:6 ~ place, fit, metadata = stm_input$meta)
summary(effect)
