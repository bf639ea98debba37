"""Print the verification figures of docs/verification.md (a markdown table) from scratch.

Usage: python tools/verification_report.py
"""

import time

from pdssb import backend

backend.init("cpu", "f64")

from pdssb import verification as v  # noqa: E402


def main() -> None:
    print("| problem | closed form | measured / closed form | wall s |")
    print("|---|---|---|---|")
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


if __name__ == "__main__":
    main()
