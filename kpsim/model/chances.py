"""The setter chair's chance of passing per text, compiled (numba): exactly, or its stances over fixed draws; and
the noisy stances of every meeting from their noise's bins (bounded_stances, for actors.noisy_stances).

The setter plans once per meeting, rule and draw, and under --uncertainty full that planning was most of a run's
CPU, most of it numpy's overhead on arrays of a few hundred cells. Each kernel here makes the IEEE operations of the
numpy code it stands for (kpsim.model.chair.stance_chances and count_test_chance, PlenaryModel.stances_for), in
the same order, without fastmath (LLVM then fuses no multiply-add), and sums a row as numpy does (pairwise_sum):
the plans and stances are the same to the bit (tests/model/test_chances.py, test_bounded_stances.py). The normal CDF stays numpy's (scipy's ndtr has
no numba form): the exact chance takes its arguments from normal_args and their ndtr.

Imported only when a setter plans or stances are first taken with noise (numba costs about 0.6 s to import;
actors.compiled; kpsim.run.worker has them ready in a worker server).
"""

from __future__ import annotations

import numba
import numpy as np

from kpsim.model.streams import _C1, _C2, _S27, _S30, _S31  # frozen into the disk cache: touch this file if they change

jit = numba.njit(cache=True)  # cached on disk beside this file


@jit
def law_window(support, objection, abstain, g, l, veto, start, width, first):
    """The law of L = g·S − l·O per row (index `start` is L = 0), adding one voter at a time, at the indices from
    `first` up (the ones the test sums). After i voters L lies in [start − l·i, start + g·i]: each step updates only
    that window (outside it the law is 0), and within it only the cells the remaining voters can still lift to
    `first`: a cell below that feeds only cells below it, so the cells summed are the same to the bit (left at 0
    below).

    A cell is abstain·(cell) + support·(cell − g) + object·(cell + l), added in the order numpy's three window
    updates added them. A term from outside the window reads a 0 (the buffers are padded, and zero outside what was
    last written), and adding a 0 changes no nonzero number, only a zero's sign, which the test's sum (0.0 + …)
    drops: the numbers summed are numpy's (tests/model). Unsigned indices spare numba's check for negative ones, so
    LLVM vectorises the loops (it reorders no operation)."""
    rows, n = support.shape
    out = np.zeros((rows, width))
    cur = np.zeros(width + g + l)  # the law at [g, g + width): g cells of padding below, l above
    nxt = np.zeros(width + g + l)
    ug, ul = np.uint64(g), np.uint64(l)
    for r in range(rows):
        if r:
            cur[:] = 0.0
            nxt[:] = 0.0
        cur[start + g] = 1.0
        low_cur, low_nxt = start + g, width + g + l  # each buffer's lowest cell that may not be 0
        a = b = start
        for i in range(n):
            ab, su, ob = abstain[r, i], support[r, i], objection[r, i]
            live = max(a - l, first - g * (n - 1 - i))  # below: no support left can reach `first`
            lo, hi = live + g, b + 2 * g + 1
            for c in range(np.uint64(max(a - l + g, low_nxt)), np.uint64(min(lo, hi))):
                nxt[c] = 0.0
            if lo < hi:
                if veto:
                    for c in range(np.uint64(lo), np.uint64(hi)):
                        nxt[c] = cur[c] * ab + cur[c - ug] * su
                else:
                    for c in range(np.uint64(lo), np.uint64(hi)):
                        nxt[c] = (cur[c] * ab + cur[c - ug] * su) + cur[c + ul] * ob
                low_nxt = min(low_nxt, lo)
            a, b = a - l, b + g
            cur, nxt = nxt, cur  # the older law lies inside the next window, all of it written (0 below `live`)
            low_cur, low_nxt = low_nxt, low_cur
        for c in range(width):
            out[r, c] = cur[c + g]
    return out


@jit
def _block_sum(a, lo, n):
    # numpy's pairwise_sum on at most 128 values: eight accumulators, then the rest one by one
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3, r4, r5, r6, r7 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - n % 8:
        k = lo + i
        r0 += a[k]
        r1 += a[k + 1]
        r2 += a[k + 2]
        r3 += a[k + 3]
        r4 += a[k + 4]
        r5 += a[k + 5]
        r6 += a[k + 6]
        r7 += a[k + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@jit
def pairwise_sum(a, lo, n):
    """a[lo : lo + n].sum() to the bit, as numpy sums a contiguous row: blocks of at most 128, halved at a multiple
    of 8 (numpy's reduction starts from its identity, 0.0, and adds this)."""
    if n <= 128:
        return _block_sum(a, lo, n)
    half = n // 2
    half -= half % 8
    return pairwise_sum(a, lo, half) + pairwise_sum(a, lo + half, n - half)


@jit
def _law_meets(support, objection, abstain, g, l, offset, strict, veto):
    # chair._law_meets: the law by law_window, summed from L = 0 (1 where a tie fails) up
    n = support.shape[1]
    low = offset - l * n
    width = offset + g * n - low + 1
    first = -low + (1 if strict else 0)
    law = law_window(support, objection, abstain, g, 0 if veto else l, veto, offset - low, width, first)
    f = max(first, 0)
    out = np.empty(law.shape[0])
    for r in range(law.shape[0]):
        out[r] = 0.0 + pairwise_sum(law[r], f, max(width - f, 0))
    return out


@jit
def count_chance(support, objection, g, l, offset, strict, veto, need_support):
    """chair.count_test_chance for CountTest(g, l, offset, strict, veto, need_support), to the bit."""
    abstain = 1.0 - support - objection
    chance = _law_meets(support, objection, abstain, g, l, offset, strict, veto)
    if need_support:
        if offset == 0 and not strict and (l != 0 or veto):
            for r in range(len(chance)):
                p = 1.0  # numpy's product of a row: from its identity, one factor at a time
                for j in range(abstain.shape[1]):
                    p *= abstain[r, j]
                chance[r] -= p
        elif offset > 0 or (offset == 0 and not strict):
            chance -= _law_meets(np.zeros_like(support), objection, abstain, g, l, offset, strict, veto)
    for r in range(len(chance)):  # np.clip: NaN and −0.0 stay as they are
        if chance[r] < 0.0:
            chance[r] = 0.0
        elif chance[r] > 1.0:
            chance[r] = 1.0
    return chance


@jit
def normal_args(x, t, sq, sal, r, cut, eta, voters):
    """The arguments of the normal CDF in chair.stance_chances (noise η > 0), for the voters' columns: P(support) is
    ndtr of [0], P(object) of [1]. Left at 0 for an actor with salience 0 (it never takes a side)."""
    out = np.zeros((2, len(t), len(voters)))
    for v in range(len(voters)):
        j = voters[v]
        if sal[j] > 0:
            support_at, object_at, reach = r / sal[j], cut[j] / sal[j], abs(sq - x[j])
            for i in range(len(t)):
                gain = reach - abs(t[i] - x[j])
                out[0, i, v] = (gain - support_at) / eta
                out[1, i, v] = (object_at - gain) / eta
    return out


@jit
def exact_chance(normal, x, t, sq, sal, r, cut, eta, voters, red, direction, g, l, offset, strict, veto, need_support):
    """chair.exact_chance to the bit: the voters' stance chances (`normal`: ndtr of normal_args; unread at η = 0),
    with red lines (`red`: each voter's, NaN for none), then count_chance."""
    support = np.empty((len(t), len(voters)))
    objection = np.empty((len(t), len(voters)))
    for v in range(len(voters)):
        j = voters[v]
        reach = abs(sq - x[j])
        for i in range(len(t)):
            if eta == 0:
                d = sal[j] * (reach - abs(t[i] - x[j]))
                s, o = 1.0 if d > r else 0.0, 1.0 if d < cut[j] else 0.0
            elif sal[j] > 0:
                s, o = normal[0, i, v], normal[1, i, v]
            else:
                s, o = 0.0, 0.0
            if direction * (t[i] - red[v]) < 0:  # below its red line (never with NaN)
                s, o = 0.0, 1.0
            support[i, v], objection[i, v] = s, o
    return count_chance(support, objection, g, l, offset, strict, veto, need_support)


@jit
def stance_grid(x, t, draws, sq, eta, sal, r, cut, red_cols, red_values, direction):
    """PlenaryModel.stances_for(x, t[:, None, None], draws[None]) to the bit, as (texts × draws, actors) rows."""
    n, m = len(x), draws.shape[0]
    reach = np.empty(n)
    for j in range(n):
        reach[j] = abs(sq - x[j])
    shift = eta * draws
    gain = np.empty(n)
    out = np.empty((len(t) * m, n), np.int8)
    for i in range(len(t)):
        for j in range(n):
            gain[j] = reach[j] - abs(t[i] - x[j])
        for k in range(m):
            row = i * m + k
            for j in range(n):
                d = sal[j] * (gain[j] + shift[k, j])
                out[row, j] = (1 if d > r else 0) - (1 if d < cut[j] else 0)
        for c in range(len(red_cols)):
            if direction * (t[i] - red_values[c]) < 0:
                out[i * m : (i + 1) * m, red_cols[c]] = -1
    return out


@jit
def best_index(p, t, chair_x, sq):
    """np.argmax(p·u(t) + (1 − p)·u(sq)) with u(t) = −|t − chair_x|: the same numbers, the first of the best."""
    stay = -abs(sq - chair_x)
    best, top = 0, 0.0
    for i in range(len(t)):
        e = p[i] * -abs(t[i] - chair_x) + (1.0 - p[i]) * stay
        if e != e:  # np.argmax: the first NaN
            return i
        if i == 0 or e > top:
            best, top = i, e
    return best


@jit
def bounded_stances(keys, lanes, x, text, sq, middle, reach, sal, r, cut, red_cols, red_values, direction, shift):
    """actors.noisy_stances' stances from the noise's bins, to the bit: per pair, g = |sq − x| − |text − x| + middle[b]
    (b the top bits of `bits`), its lowest and highest d = (g ∓ reach[b])·salience, the stance of the lowest, and
    whether the highest's differs (a close call: its flat index is returned, and its bits). The bits are
    Streams.bits': keys[i] + lanes[j], mixed (SplitMix64's finaliser; integers, so exact). A pair below its actor's red line
    objects (apply_red_lines) and is never a close call. x and cut are (rows or 1, actors), text (rows, 1).
    The sides are taken without branches (a stance is a coin flip to the branch predictor)."""
    rows, n = len(keys), len(lanes)
    out = np.empty((rows, n), np.int8)
    bits = np.empty(n, np.uint64)
    differs = np.empty(n, np.bool_)
    close_bits = np.empty(64, np.uint64)
    close = np.empty(64, np.int64)
    count = 0
    red = np.zeros(n, np.bool_)
    for i in range(rows):
        t = text[i, 0]
        xi = i if x.shape[0] > 1 else 0
        ci = i if cut.shape[0] > 1 else 0
        for j in range(n):
            z = keys[i] + lanes[j]
            z ^= z >> _S30
            z *= _C1
            z ^= z >> _S27
            z *= _C2
            z ^= z >> _S31
            bits[j] = z
        for j in range(n):
            xv = x[xi, j]
            b = bits[j] >> shift
            g = abs(sq - xv) - abs(t - xv)
            g = g + middle[b]
            spread = reach[b]
            low = (g - spread) * sal[j]
            high = (g + spread) * sal[j]
            c = cut[ci, j]
            s = np.int8(low > r) - np.int8(low < c)
            out[i, j] = s
            differs[j] = s != np.int8(high > r) - np.int8(high < c)
        for k in range(len(red_cols)):
            below = direction * (t - red_values[k]) < 0
            red[red_cols[k]] = below
            if below:
                out[i, red_cols[k]] = -1
        for j in range(n):
            if differs[j] and not red[j]:
                if count == len(close):
                    close = np.concatenate((close, np.empty(count, np.int64)))
                    close_bits = np.concatenate((close_bits, np.empty(count, np.uint64)))
                close[count] = i * n + j
                close_bits[count] = bits[j]
                count += 1
    return out, close[:count], close_bits[:count]


def warm_up() -> None:
    """Every kernel compiled (or loaded from numba's disk cache) for the argument types the model passes: once per
    process, before the first real call (actors.compiled), so that no compile starts later, mid-run. A worker server
    does it before forking its workers, which would otherwise each spend about 0.6 s on it in their first task."""
    z, one, cols = np.zeros((1, 1)), np.zeros(1), np.zeros(1, dtype=np.intp)
    law_window(z, z, z, 1, 1, False, 0, 2, 0)
    exact_chance(normal_args(one, one, 0.0, one, 0.0, one, 1.0, cols), one, one, 0.0, one, 0.0, one, 1.0, cols, one, 1.0,
                 1, 1, 0, False, False, True)
    stance_grid(one, one, z, 0.0, 0.0, one, 0.0, one, cols, one, 1.0)
    best_index(one, one, 0.0, 0.0)
    keys, lanes = np.zeros(1, dtype=np.uint64), np.zeros(1, dtype=np.uint64)
    lanes.flags.writeable = False  # as Streams.lane_keys gives them: numba compiles read-only arrays apart
    bounded_stances(keys, lanes, z, z, 0.0, one, one, one, 0.0, z, cols, one, np.float64(1.0), np.uint64(1))
