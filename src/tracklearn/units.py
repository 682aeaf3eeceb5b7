"""Internal units of tracklearn, written down once.

Every length is in millimetres, every momentum and energy in GeV, every time in
nanoseconds, every magnetic field in tesla and every angle in radians.  Multiply
by a unit to convert *into* internal units and divide to convert *out of* them::

    >>> from tracklearn import units as u
    >>> 1.5 * u.m
    1500.0
    >>> 250 * u.MeV
    0.25
"""

from __future__ import annotations

import math

# length
mm: float = 1.0
um: float = 1e-3 * mm
cm: float = 10.0 * mm
m: float = 1000.0 * mm

# energy / momentum
GeV: float = 1.0
MeV: float = 1e-3 * GeV
keV: float = 1e-6 * GeV
TeV: float = 1e3 * GeV

# time
ns: float = 1.0
s: float = 1e9 * ns

# magnetic field
T: float = 1.0

# angle
rad: float = 1.0
deg: float = math.pi / 180.0 * rad

#: Curvature constant: a track of transverse momentum ``pt`` [GeV] and charge
#: ``q`` [e] in a field ``B`` [T] has radius ``R = pt / (C_LIGHT_GEV_PER_T_MM * |q| * B)``
#: in mm; ``0.299792458 GeV / (T m)`` expressed per millimetre.
C_LIGHT_GEV_PER_T_MM: float = 0.299792458e-3
