"""Full-spectrum track finding: every particle the TrackML score weighs, fast.

Learned triplet seeds (all pT down to 0.1 GeV, displaced particles in a second
pass) → following along local 3-hit helices in learned windows → a learned
candidate classifier and greedy hit assignment → overlap duplicates.  See
:mod:`tracklearn.fullspectrum.reconstructor` for the chain and
:mod:`tracklearn.training.fullspectrum` for how it is trained.
"""
