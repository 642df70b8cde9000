"""Stage 4: the governance lexicon, lexicon-aware segmentation and text units."""
