"""The scaling benchmark (`make bench`): the study on corpora 10, 100 and 1000 times the real one."""
