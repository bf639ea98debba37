"""Print the verification figures of docs/verification.md (a markdown table) from scratch.

Usage: python tools/verification_report.py            (every row)
       python tools/verification_report.py cracks     (the edge-crack openings only)
       python tools/verification_report.py slits      (the Li-filled flaw onsets only)
"""

import sys
import time

from pdssb import backend

backend.init("cpu", "f64")

from pdssb import verification as v  # noqa: E402


def edge_cracks() -> None:
    """CMOD of an edge crack under face pressure: each crack kind, two spacings, each face treatment."""
    from pdssb.mechanics.model import MechanicsModel

    rows = [("pre-crack", "precrack", "geometry", True), ("pre-crack, faces corrected", "precrack", "cut", True),
            ("slit 1 site", "slit1", "geometry", True), ("slit 1 site, faces not corrected", "slit1", "sites", True),
            ("slit 1 site, bridged (no line of sight)", "slit1", "geometry", False),
            ("slit 2 sites", "slit2", "geometry", True), ("slit 2 sites, faces not corrected", "slit2", "sites", True),
            ("slit 2 sites, bridged (no line of sight)", "slit2", "geometry", False)]
    for label, kind, faces, sight in rows:
        MechanicsModel.line_of_sight = sight
        for a in (8, 16):
            t = time.time()
            r = v.edge_crack_opening(kind, a, faces=faces)
            print(f"| edge crack CMOD, {label}, a = {a} sites | 4 V1(a/b) p a/E'' | {r['cmod'] / r['tada']:.4f} | "
                  f"{time.time() - t:.1f} |")
    MechanicsModel.line_of_sight = True


def slits() -> None:
    """Onset pressure of a Li-filled centre flaw over Griffith's, 4 and 2 sites thick (Slit-flaw notes)."""
    for thickness in (4, 2):
        for a in (8, 16, 24):
            t = time.time()
            r = v.li_slit_onset(a, thickness=thickness)
            print(f"| Li-filled flaw {thickness} sites thick, a = {a} sites | K_IC/(Y√(πa)) = {r['griffith'] / 1e6:.0f} MPa | "
                  f"{r['onset_pressure'] / r['griffith']:.4f} ({r['onset_pressure'] / 1e6:.0f} MPa) | {time.time() - t:.1f} |")


def main() -> None:
    print("| problem | closed form | measured / closed form | wall s |")
    print("|---|---|---|---|")
    if sys.argv[1:] == ["cracks"]:
        edge_cracks()
        return
    if sys.argv[1:] == ["slits"]:
        slits()
        return
    for setting, w in (("strain", 16), ("strain", 30), ("stress", 30), ("3d", 12), ("3d", 20)):
        t = time.time()
        r = v.uniaxial_tension(setting, w)
        form = "E/(1-ν²)" if setting == "strain" else "E"
        print(f"| uniaxial tension, {setting}, width {w} sites | σ/ε = {form} | {r['modulus'] / r['expected']:.4f} | {time.time() - t:.1f} |")
    for setting, shape, steps in (("strain", (40, 16), 2000), ("stress", (40, 16), 2000), ("3d", (16, 12), 1500)):
        t = time.time()
        r = v.fracture_energy(setting, *shape, steps=steps)
        print(f"| plane separation, {setting} | G = G_c | {r['energy_per_area'] / r['expected']:.4f} | {time.time() - t:.1f} |")
    for ratio in (4.0, 0.25):
        t = time.time()
        r = v.bimaterial_bar(ratio)
        print(f"| bimaterial bar, E_b/E_a = {ratio:g} | 2/(1/E_a + 1/E_b) | {r['modulus'] / r['expected']:.4f} | {time.time() - t:.1f} |")
    paths = {}
    for n in (4, 8, 16):
        t = time.time()
        paths[n] = v.notch_crack_path(n, shape=(32, 32), break_mode="most_stretched")
        print(f"| notch crack, most-stretched cascade, {n} load steps | same path as 4 steps | "
              f"{paths[n]['broken']} bonds, differing sites vs 4 steps: {int((paths[n]['damaged'] ^ paths[4]['damaged']).sum())} | {time.time() - t:.1f} |")
    for n in (4, 16):
        t = time.time()
        r = v.notch_crack_path(n, shape=(32, 32), break_mode="all")
        print(f"| notch crack, break-all cascade, {n} load steps | (not load-step independent) | {r['broken']} bonds | {time.time() - t:.1f} |")
    edge_cracks()
    slits()


if __name__ == "__main__":
    main()
