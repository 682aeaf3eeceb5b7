"""A simple cylindrical tracker: barrel cylinders plus endcap disks.

The built-in quick detector mimics the TrackML layout (pixel, short-strip and
long-strip barrels with endcap disks, same volume and layer numbering) with
ideal cylinders and disks instead of planar modules.  Surfaces are segmented
into modules by azimuth and z (barrel) or azimuth and r (disks), so hits get
TrackML-style ``volume_id, layer_id, module_id``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Cylinder:
    """Barrel layer: radius ``r`` [mm], covering |z| ≤ ``half_z`` [mm]."""

    volume_id: int
    layer_id: int
    r: float  # mm
    half_z: float  # mm
    sigma_rphi: float  # mm, hit resolution along r·φ
    sigma_z: float  # mm, hit resolution along z
    module_phi: float = 40.0  # mm, module width along r·φ
    module_z: float = 100.0  # mm, module length along z


@dataclass(frozen=True)
class Disk:
    """Endcap disk at ``z`` [mm] (signed), covering ``r_min ≤ r ≤ r_max`` [mm]."""

    volume_id: int
    layer_id: int
    z: float  # mm
    r_min: float  # mm
    r_max: float  # mm
    sigma_rphi: float  # mm
    sigma_r: float  # mm
    module_phi: float = 40.0  # mm
    module_r: float = 80.0  # mm


@dataclass(frozen=True)
class CylindricalDetector:
    """Barrel cylinders and endcap disks; the tracker is |z| ≤ ``half_z``, r ≤ ``r_max``."""

    cylinders: tuple[Cylinder, ...]
    disks: tuple[Disk, ...]

    @property
    def r_max(self) -> float:
        """Outer radius [mm]."""
        return max([c.r for c in self.cylinders] + [d.r_max for d in self.disks])

    @property
    def half_z(self) -> float:
        """Half length [mm]."""
        return max([c.half_z for c in self.cylinders] + [abs(d.z) for d in self.disks])

    def barrel_module(
        self, cyl: Cylinder, phi: npt.NDArray[np.float64], z: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int32]:
        """Module id (from 1) of barrel points at azimuth ``phi`` [rad] and ``z`` [mm]."""
        n_phi = max(1, int(np.ceil(2 * np.pi * cyl.r / cyl.module_phi)))
        n_z = max(1, int(np.ceil(2 * cyl.half_z / cyl.module_z)))
        i_phi = np.clip(((phi + np.pi) / (2 * np.pi) * n_phi).astype(np.int64), 0, n_phi - 1)
        i_z = np.clip(((z + cyl.half_z) / (2 * cyl.half_z) * n_z).astype(np.int64), 0, n_z - 1)
        return (i_z * n_phi + i_phi + 1).astype(np.int32)

    def disk_module(
        self, disk: Disk, phi: npt.NDArray[np.float64], r: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int32]:
        """Module id (from 1) of disk points at azimuth ``phi`` [rad] and radius ``r`` [mm]."""
        n_r = max(1, int(np.ceil((disk.r_max - disk.r_min) / disk.module_r)))
        i_r = np.clip(((r - disk.r_min) / disk.module_r).astype(np.int64), 0, n_r - 1)
        # modules per ring from the ring's inner circumference
        ring_r = disk.r_min + i_r * disk.module_r
        n_phi = np.maximum(1, np.ceil(2 * np.pi * np.maximum(ring_r, 1.0) / disk.module_phi))
        i_phi = np.minimum(((phi + np.pi) / (2 * np.pi) * n_phi).astype(np.int64), n_phi - 1)
        return (i_r * 1000 + i_phi + 1).astype(np.int32)


def trackml_like() -> CylindricalDetector:
    """Cylinders and disks at the positions of the TrackML detector's layers.

    Radii and disk positions follow the TrackML geometry (pixel barrel at
    r ≈ 32, 72, 116, 172 mm; short strips at 260-660 mm; long strips at
    820 and 1020 mm); resolutions are typical of pixels (~15 µm × 50 µm) and
    strips (~40 µm × a fraction of the strip length).
    """
    cyl = []
    for i, r in enumerate([32.0, 72.0, 116.0, 172.0]):
        cyl.append(Cylinder(8, 2 * (i + 1), r, 491.0, 0.015, 0.05))
    for i, r in enumerate([260.0, 360.0, 500.0, 660.0]):
        cyl.append(Cylinder(13, 2 * (i + 1), r, 1080.0, 0.04, 0.5))
    for i, r in enumerate([820.0, 1020.0]):
        cyl.append(Cylinder(17, 2 * (i + 1), r, 1080.0, 0.06, 1.0))
    disks = []
    pix_z = [600.0, 700.0, 820.0, 960.0, 1100.0, 1300.0, 1500.0]
    strip_z = [1220.0, 1500.0, 1800.0, 2150.0, 2550.0, 2950.0]
    for vol_neg, vol_pos, zs, rmin, rmax, srphi, sr in (
        (7, 9, pix_z, 30.0, 175.0, 0.015, 0.05),
        (12, 14, strip_z, 230.0, 700.0, 0.04, 0.5),
        (16, 18, strip_z, 720.0, 1020.0, 0.06, 1.0),
    ):
        n = len(zs)
        for i, z in enumerate(zs):
            # TrackML numbers negative-endcap layers from the outside in
            disks.append(Disk(vol_neg, 2 * (n - i), -z, rmin, rmax, srphi, sr))
            disks.append(Disk(vol_pos, 2 * (i + 1), z, rmin, rmax, srphi, sr))
    return CylindricalDetector(tuple(cyl), tuple(disks))
