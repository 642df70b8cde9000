"""Stage 5: place-specific emphases (TF-IDF and weighted log-odds with a bootstrap)."""
