"""Site-blocked PMB bond forces for the CPU: the lean bond loop vectorised across consecutive sites.

The per-site kernel (pmb.bond_forces) runs the offsets k of one site in its inner loop; the
neighbour u[i + lin[k]] of consecutive k lies at scattered addresses, so a vectorised k loop
would need gathers and LLVM leaves it scalar. Here one parallel iteration handles a block of S
consecutive padded sites i0 … i0+S−1, and the inner loop runs over s (a runtime loop, which LLVM's
loop vectoriser turns into one S-wide vector iteration): for a fixed offset k, the S sites read
u[i0+s+lin[k]] at consecutive addresses, i.e. contiguous vector loads.

Layout. Contiguous loads need the components apart: ``uT`` holds u as flat SoA, uT[a·n + i], and
``bitsT`` the bond bits transposed, bitsT[w·n + i] (n the padded size). Taichi computes i32 indices
without the no-signed-wrap flag and sign-extends them, so LLVM cannot prove that sext(x + s) and
sext(x + s + 1) are adjacent; the index is therefore written ((a·n + base) & M30) + s: the mask
bounds the base below 2^30, which proves that the S addresses are consecutive. The mask changes
nothing as long as dim·n and words·n are below 2^30 (:func:`eligible`); otherwise the per-site
kernel is used.

Blocks. A preparation pass, the first loop of :func:`blocked_forces`, rebuilds uT, bitsT, the
block table and the eigenstrain flag on the device at every force call (bits and materials change
in many places: breaking, reforming, Li filling, checkpoint loads), so nothing can go stale. A
block is *lean* (table entry = its material m > 0) when every non-void site of it is lean (no
MIXED_FLAG: one material, no surface site in its neighbourhood) and of material m, and all S sites'
neighbourhoods lie inside the padded array; *void* (0) when it has no non-void site; *mixed* (−1)
otherwise. Lean blocks take the vector loop with c = c_mm and G = 1 and the bond bit as a select;
void and mixed blocks take the engine's per-site code (pmb.site_force) site by site, so they have
exactly the general semantics (pair table, surface correction, eigenstrain, body force, prescribed
components, fabs).

Lean arithmetic. With r = |y| the bond force is f y with f = c β V (1/l0 − 1/r), which equals the
engine's cbv/|y| with cbv = c β V (r/l0 − 1), so |cbv| = |f| r for fabs. Eigenstrain: a device flag
says whether any ε* is non-zero; each lean block branches on it, outside the offset loop, between
an ε-free loop and one that reads ε*_i, ε*_j (each a vector loop).
"""

import taichi as ti

from .pmb import ID_MASK, MIXED_FLAG, finish_site, nd, rest_inv_length, site_force

#: sites per block: 8 lanes of f32 on AVX2 (f64 packs 2 × 4)
S_BLOCK = 8
#: the index mask of the flat SoA arrays (see the module docstring)
M30 = (1 << 30) - 1


def eligible(n_padded: int, dim: int, words: int) -> bool:
    """The masked flat index is exact: dim·n and words·n below 2^30."""
    return dim * n_padded < 2**30 and words * n_padded < 2**30


def extra_bytes(n_padded: int, dim: int, words: int, float_bytes: int, S: int = S_BLOCK) -> int:
    """Device bytes of the blocked path's arrays: uT, bitsT, the block table and the flag."""
    nb = (n_padded + S - 1) // S
    return n_padded * (dim * float_bytes + 4 * words) + 4 * nb + 4


@ti.func
def _block_code(mat: ti.template(), i0, n, lin_min, lin_max, S: ti.template()):
    """The block table entry of the block at i0: its material (lean), 0 (void) or −1 (mixed)."""
    m = 0
    mixed = False
    for s in ti.static(range(S)):
        i = i0 + s
        if i < n:
            wi = mat[i]
            mi = wi & ID_MASK
            if mi != 0:
                if wi & MIXED_FLAG != 0 or (m != 0 and mi != m):
                    mixed = True
                m = mi
    code = m
    if m != 0 and (mixed or i0 + lin_min < 0 or i0 + S - 1 + lin_max >= n):
        code = -1
    return code


@ti.func
def _prepare_block(u: ti.template(), bits: ti.template(), mat: ti.template(), eps: ti.template(),
                   uT: ti.template(), bitsT: ti.template(), btab: ti.template(), flag: ti.template(), b,
                   lin_min, lin_max, dim: ti.template(), S: ti.template()):
    """The preparation of block b: its sites' uT and bitsT, its block table entry, flag[0] = 1 if an ε* ≠ 0.

    A full block copies with S-wide stores, the block that straddles the array end site by site.
    """
    n = mat.shape[0]
    nw = bits.shape[1]
    i0 = b * S
    any_eps = False
    if i0 + S <= n:
        for a in ti.static(range(dim)):
            for s in ti.static(range(S)):
                uT[a * n + i0 + s] = u[i0 + s][a]
        for w in range(nw):
            for s in ti.static(range(S)):
                bitsT[w * n + i0 + s] = bits[i0 + s, w]
        for s in ti.static(range(S)):
            if eps[i0 + s] != 0.0:
                any_eps = True
    else:
        for s in range(S):
            i = i0 + s
            if i < n:
                for a in ti.static(range(dim)):
                    uT[a * n + i] = u[i][a]
                for w in range(nw):
                    bitsT[w * n + i] = bits[i, w]
                if eps[i] != 0.0:
                    any_eps = True
    btab[b] = _block_code(mat, i0, n, lin_min, lin_max, S)
    if any_eps:
        flag[0] = 1  # every writer writes 1: the race is benign


@ti.kernel
def prepare(u: nd, bits: nd, mat: nd, eps: nd, uT: nd, bitsT: nd, btab: nd, flag: nd,
            lin_min: ti.i32, lin_max: ti.i32, dim: ti.template(), S: ti.template()):
    """The preparation pass of :func:`blocked_forces` as a kernel of its own (tests, timing).

    uT[a·n+i] = u[i][a], bitsT[w·n+i] = bits[i, w], the block table, flag[0] = any ε* ≠ 0;
    ``lin_min``/``lin_max``: the smallest and largest linear stencil offsets.
    """
    flag[0] = 0
    for b in range(btab.shape[0]):
        _prepare_block(u, bits, mat, eps, uT, bitsT, btab, flag, b, lin_min, lin_max, dim, S)


@ti.func
def _lean_block(uT: ti.template(), eps: ti.template(), bitsT: ti.template(), lin: ti.template(),
                xi: ti.template(), inv_len: ti.template(), bvol: ti.template(), c, i0, n,
                dim: ti.template(), S: ti.template(), with_eps: ti.template(), with_abs: ti.template()):
    """(Σ_j f_ij y_ij per site as a dim×S matrix, Σ_j |cbv_ij| per site) of the lean block at i0."""
    acc = ti.Matrix.zero(float, dim, S)
    aabs = ti.Vector.zero(float, S)
    for k in range(lin.shape[0]):
        d = lin[k]
        il = inv_len[k]
        cb = c * bvol[k]
        w = k >> 5
        sh = ti.cast(k & 31, ti.u32)
        xk = xi[k]
        wb = (w * n + i0) & M30
        ib = ti.Vector([(a * n + i0) & M30 for a in ti.static(range(dim))])
        jb = ti.Vector([(a * n + i0 + d) & M30 for a in ti.static(range(dim))])
        for s in range(S):  # a runtime loop: the loop vectoriser makes it one S-wide iteration
            on = ((bitsT[wb + s] >> sh) & ti.u32(1)) != 0
            y = ti.Vector([xk[a] + uT[jb[a] + s] - uT[ib[a] + s] for a in ti.static(range(dim))])
            r = ti.sqrt(y.dot(y))
            inv_l0 = il
            if ti.static(with_eps):
                inv_l0 = rest_inv_length(il, eps[(i0 & M30) + s], eps[((i0 + d) & M30) + s], True)
            # a select, not a product: a broken bond may have |y| = 0 (f = ±inf)
            f = ti.select(on, cb * (inv_l0 - 1.0 / r), 0.0)
            for a in ti.static(range(dim)):
                acc[a, s] += f * y[a]
            if ti.static(with_abs):
                aabs[s] += ti.abs(f) * r
    return acc, aabs


@ti.func
def _lean_block_forces(uT: ti.template(), eps: ti.template(), mat: ti.template(), bitsT: ti.template(),
                       lin: ti.template(), xi: ti.template(), inv_len: ti.template(), bvol: ti.template(), c,
                       body: ti.template(), body_scale, fixmask: ti.template(), force: ti.template(),
                       fabs: ti.template(), i0, n, dim: ti.template(), S: ti.template(), with_eps: ti.template(),
                       with_abs: ti.template()):
    """force and fabs of the S sites of the lean block at i0 (zero on its void sites)."""
    acc, aabs = _lean_block(uT, eps, bitsT, lin, xi, inv_len, bvol, c, i0, n, dim, S, with_eps, with_abs)
    for s in ti.static(range(S)):
        i = i0 + s
        fi = ti.Vector.zero(float, dim)
        ai = 0.0
        if mat[i] & ID_MASK != 0:
            fi = finish_site(ti.Vector([acc[a, s] for a in ti.static(range(dim))]), body, body_scale, fixmask, i,
                             dim)
            ai = aabs[s]
        force[i] = fi
        if ti.static(with_abs):
            fabs[i] = ai


@ti.kernel
def blocked_forces(
    u: nd, uT: nd, eps: nd, mat: nd, gcorr: nd, bits: nd, bitsT: nd, btab: nd, flag: nd, lin: nd, xi: nd,
    inv_len: nd, bvol: nd, cpair: nd, lawpair: nd, hist: nd, grow: ti.i32, body: nd, body_scale: float,
    fixmask: nd,
    force: nd, fabs: nd, lin_min: ti.i32, lin_max: ti.i32, dim: ti.template(), with_abs: ti.template(),
    S: ti.template(),
):
    """force and fabs as pmb.bond_forces, block by block.

    Three parallel loops over the blocks, run one after the other, each an LLVM function of its own:
    the preparation pass (uT, bitsT, the block table and the ε* flag, rebuilt from u, bits, mat and eps
    at every call: nothing can go stale; in this kernel rather than a kernel of its own, which saves a
    kernel launch per call); the forces of the mixed and void blocks, and of the lean
    blocks when no ε* is set; the lean blocks when one is. The branch on the flag is per block, outside
    the offset loop. (With both lean loops in one function, LLVM 15 vectorises only one of them.)
    """
    n = mat.shape[0]
    flag[0] = 0
    for b in range(btab.shape[0]):
        _prepare_block(u, bits, mat, eps, uT, bitsT, btab, flag, b, lin_min, lin_max, dim, S)
    for b in range(btab.shape[0]):
        i0 = b * S
        m = btab[b]
        if m > 0:
            if flag[0] == 0:
                _lean_block_forces(uT, eps, mat, bitsT, lin, xi, inv_len, bvol, cpair[m, m], body, body_scale,
                                   fixmask, force, fabs, i0, n, dim, S, False, with_abs)
        else:
            for s in range(S):
                i = i0 + s
                if i < n:
                    fi, ai = site_force(u, eps, mat, gcorr, bits, lin, xi, inv_len, bvol, cpair, lawpair, hist, grow,
                                        body, body_scale, fixmask, i, dim, with_abs)
                    force[i] = fi
                    if ti.static(with_abs):
                        fabs[i] = ai
    for b in range(btab.shape[0]):
        m = btab[b]
        if m > 0 and flag[0] != 0:
            _lean_block_forces(uT, eps, mat, bitsT, lin, xi, inv_len, bvol, cpair[m, m], body, body_scale,
                               fixmask, force, fabs, b * S, n, dim, S, True, with_abs)


class BlockedForces:
    """The blocked path's device arrays for one model (allocated when the path is first used)."""

    def __init__(self, model, S: int = S_BLOCK):
        n, d, w = model.lattice.n_padded, model.dim, model.stencil.words
        if not eligible(n, d, w):
            raise ValueError(f"blocked forces need dim·n and words·n below 2^30 (n = {n})")
        self.S = S
        self.uT = ti.ndarray(model.fdtype, d * n)
        self.bitsT = ti.ndarray(ti.u32, w * n)
        self.btab = ti.ndarray(ti.i32, (n + S - 1) // S)
        self.flag = ti.ndarray(ti.i32, 1)
        lin = model.lin.to_numpy()
        self.lin_min, self.lin_max = int(lin.min()), int(lin.max())
        self.nbytes = extra_bytes(n, d, w, 8 if model.fdtype == ti.f64 else 4, S)

    def prepare(self, m) -> None:
        """The preparation pass alone (the force call runs it itself): for tests and timing."""
        prepare(m.u, m.bits, m.mat, m.eps, self.uT, self.bitsT, self.btab, self.flag, self.lin_min, self.lin_max,
                m.dim, self.S)

    def __call__(self, m, with_abs: bool) -> None:
        """m.force (and m.fabs if ``with_abs``) from m's current state."""
        blocked_forces(m.u, self.uT, m.eps, m.mat, m.gcorr, m.bits, self.bitsT, self.btab, self.flag, m.lin, m.xi,
                       m.inv_len, m.bvol, m.cpair, m.lawpair, m.hist, int(m.damage_grows), m.body, m.load, m.fixmask,
                       m.force, m.fabs,
                       self.lin_min, self.lin_max, m.dim, with_abs, self.S)
