#!/usr/bin/env bash
# Side-by-side bond throughput: pdssb's pmb-cube (f32 and f64) and LAMMPS peri/pmb on the same cube,
# back to back on this machine, then the ratio. Needs Debian's lammps package (apt-get install -y lammps).
# Usage: tools/bench_vs_lammps.sh [N=40] [steps=100] [ranks=2]
set -euo pipefail
N=${1:-40} steps=${2:-100} ranks=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
anchor=${PDSSB_LAMMPS_ANCHOR:-$here/../../shared/anchors/lammps/run.sh}
[ -x "$anchor" ] || { echo "error: LAMMPS anchor not found at $anchor (set PDSSB_LAMMPS_ANCHOR)" >&2; exit 2; }
command -v lmp >/dev/null || { echo "error: lmp not found: apt-get install -y lammps" >&2; exit 2; }
threads=${PDSSB_THREADS:-$ranks}
f32=$(PDSSB_THREADS=$threads pdssb bench --size "$N" --steps "$steps" --precision f32 --arch cpu --json)
f64=$(PDSSB_THREADS=$threads pdssb bench --size "$N" --steps "$steps" --precision f64 --arch cpu --json)
lmp_line=$("$anchor" "$N" "$steps" "$ranks")
echo "$lmp_line"
python3 - "$f32" "$f64" "$lmp_line" "$threads" <<'PY'
import json, re, sys
f32, f64, lmp, threads = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
lammps = float(re.search(r"bond_evals_per_s=([0-9.e+-]+)", lmp).group(1))
for r in (f32, f64):
    print(f"pdssb pmb-cube {r['precision']}: sites={r['sites']} directed_bonds={r['directed_bonds']} steps={r['steps']} "
          f"threads={threads} loop_s={r['loop_s']:.3f} bond_evals_per_s={r['bond_evals_per_s']:.3e} "
          f"ratio_vs_lammps={r['bond_evals_per_s'] / lammps:.2f}")
PY
