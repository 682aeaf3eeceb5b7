"""Hit graphs: construction (geometric, module map, metric learning) and truth labels."""
