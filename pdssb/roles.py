"""The role of each material id in a cell (electrolyte, lithium, or neither) and the per-site masks.

Codes: 0 for void and any material that is neither (a current collector, an inert filler), SE for
an electrolyte, LI for lithium; the conduction kernels read the same codes (electrochem/conduction.py).
"""

from __future__ import annotations

import numpy as np

OTHER, SE, LI = 0, 1, 2
_CODE = {"electrolyte": SE, "lithium": LI}


def role_codes(roles: list[str]) -> np.ndarray:
    """Role code per id, from role names per id (config.resolve.Setup.roles_by_id: void first)."""
    return np.array([_CODE.get(r, OTHER) for r in roles])


class SiteRoles:
    """The masks of electrolyte and Li sites for the current material ids.

    A coupled run changes ids only where Li fills a crack; :meth:`update` is called then, and the
    masks are new arrays (a mask taken before an update keeps the old roles).
    """

    def __init__(self, role_of: np.ndarray, ids: np.ndarray):
        self.role_of = role_of
        self.update(ids)

    def update(self, ids: np.ndarray) -> None:
        role = self.role_of[ids]
        self.se = role == SE
        self.li = role == LI
