"""Stage 6: shared themes (the LDA sweep and choice of K, stability, prevalence and roles, cross-checks, LDAvis)."""
