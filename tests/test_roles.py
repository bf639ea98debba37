"""Role codes of material ids and the per-site masks of a run's current ids."""

import numpy as np

from pdssb.roles import LI, OTHER, SE, SiteRoles, role_codes


def test_role_codes_and_masks_follow_the_ids():
    role_of = role_codes(["void", "electrolyte", "lithium", "collector"])
    assert role_of.tolist() == [OTHER, SE, LI, OTHER]
    ids = np.array([1, 1, 2, 3, 0])
    roles = SiteRoles(role_of, ids)
    assert roles.se.tolist() == [True, True, False, False, False]
    assert roles.li.tolist() == [False, False, True, False, False]
    before = roles.li
    ids[1] = 2  # Li fills a cracked electrolyte site
    roles.update(ids)
    assert roles.li.tolist() == [False, True, True, False, False] and roles.se.tolist() == [True] + [False] * 4
    assert before.tolist() == [False, False, True, False, False]  # a mask taken earlier keeps its roles
