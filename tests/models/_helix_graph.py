"""A fixed, seeded hit graph of helices through barrel layers (for the edge models).

Pure numpy from a seeded ``np.random.Generator``, so the graph is the same on
every machine: the identity test of the shipped models' scores reads it.
"""

from __future__ import annotations

import numpy as np

from tracklearn.edm import Graph
from tracklearn.graph.features import edge_features, node_features_from

#: barrel layer radii [mm]
LAYERS_MM = (32.0, 72.0, 116.0, 172.0, 260.0, 360.0, 500.0, 660.0, 820.0, 1020.0)


def helix_graph(n_particles: int = 40, n_noise: int = 60, seed: int = 17) -> Graph:
    """Helices (pT 0.8 to 5 GeV in 2 T) through :data:`LAYERS_MM`, noise, overlap hits.

    Edges join hits of adjacent layers (and one layer skipped) within a φ window
    and a z0 window, plus same-layer overlap pairs (|dr| < 5 mm); ``y`` marks the
    segments of one particle.  Node and edge features are the IN-paper ones.

    Shapes: about 500 nodes and a few thousand edges.
    """
    rng = np.random.default_rng(seed)
    radii = np.asarray(LAYERS_MM)
    r, phi, z, pid, layer = [], [], [], [], []
    for p in range(1, n_particles + 1):
        pt = rng.uniform(0.8, 5.0)  # GeV
        q = rng.choice([-1.0, 1.0])
        phi0, eta, z0 = rng.uniform(-np.pi, np.pi), rng.uniform(-1.5, 1.5), rng.normal(0, 30)
        radius = pt / (0.3 * 2.0) * 1000.0  # mm
        for k, rk in enumerate(radii):
            rr = rk + rng.normal(0, 0.5)
            arc = 2 * radius * np.arcsin(min(rr / (2 * radius), 1.0))
            r.append(rr)
            phi.append(phi0 - q * np.arcsin(min(rr / (2 * radius), 1.0)) + rng.normal(0, 2e-4))
            z.append(z0 + arc * np.sinh(eta) + rng.normal(0, 0.1))
            pid.append(p)
            layer.append(k)
            if rng.random() < 0.1:  # an overlap hit 2 mm outside on the same layer
                r.append(rr + 2.0)
                phi.append(phi[-1] + rng.normal(0, 1e-3))
                z.append(z[-1] + rng.normal(0, 1.0))
                pid.append(p)
                layer.append(k)
    for _ in range(n_noise):
        k = int(rng.integers(len(radii)))
        r.append(radii[k] + rng.normal(0, 0.5))
        phi.append(rng.uniform(-np.pi, np.pi))
        z.append(rng.uniform(-1000, 1000))
        pid.append(0)
        layer.append(k)
    r_a, phi_a, z_a = np.asarray(r), np.asarray(phi), np.asarray(z)
    pid_a, layer_a = np.asarray(pid), np.asarray(layer)
    phi_a = np.mod(phi_a + np.pi, 2 * np.pi) - np.pi
    x = node_features_from(r_a, phi_a, z_a)
    a, b = np.meshgrid(np.arange(len(r_a)), np.arange(len(r_a)), indexing="ij")
    a, b = a.ravel(), b.ravel()
    dl = layer_a[b] - layer_a[a]
    dr = r_a[b] - r_a[a]
    dphi = np.abs(np.mod(phi_a[b] - phi_a[a] + np.pi, 2 * np.pi) - np.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = z_a[a] - r_a[a] * (z_a[b] - z_a[a]) / dr
    between = ((dl == 1) | (dl == 2)) & (dphi < 2e-4 * np.abs(dr) + 0.02) & (np.abs(z0) < 300)
    overlap = (dl == 0) & (dr > 0) & (dr < 5) & (dphi < 0.01)
    keep = between | overlap
    edge_index = np.stack([a[keep], b[keep]]).astype(np.int64)
    y = ((pid_a[a[keep]] == pid_a[b[keep]]) & (pid_a[a[keep]] > 0)).astype(np.float32)
    return Graph(
        hit_index=np.arange(len(r_a), dtype=np.int64),
        x=x,
        edge_index=edge_index,
        edge_attr=edge_features(x, edge_index),
        y=y,
        event_id=seed,
    )
