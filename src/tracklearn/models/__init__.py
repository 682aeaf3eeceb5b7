"""Torch modules, one per file (torch is imported only here, in training/ and graph embedding)."""
