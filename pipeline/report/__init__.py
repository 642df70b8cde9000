"""Stage 7: execute the notebooks against the results and export the report; the loader the notebooks read with."""
