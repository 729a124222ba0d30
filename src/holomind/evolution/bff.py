"""The BFF interpreter and soup kernels, bit-exact with cubff, compiled by numba.

Every random number comes from SplitMix64 keyed by the run's seed and the epoch,
exactly as cubff draws them, so a soup here and a soup in cubff stay identical
byte for byte. The epoch kernel runs the pairs in parallel (``numba.prange``);
set the thread count with ``numba.set_num_threads``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

PROGRAM_SIZE = 64  # bytes per program
TAPE_SIZE = 2 * PROGRAM_SIZE  # a pair's concatenation
STEP_LIMIT = 8 * 1024  # steps before an interaction is cut off
MUTATION_PROB = 1 << 18  # per-byte mutation probability, out of 2**30
MUTATION_DENOMINATOR = 1 << 30
LANGUAGES = ("bff_noheads", "bff")

# Opcodes: 0 is a no-op (any byte that is not one of the ten instructions).
_NOOP, _DEC0, _INC0, _DEC1, _INC1, _PLUS, _MINUS, _COPY01, _COPY10, _OPEN, _CLOSE = range(11)
INSTRUCTIONS = "<>{}+-.,[]"
OPCODES = np.zeros(256, dtype=np.uint8)
for _code, _char in enumerate(INSTRUCTIONS, start=1):
    OPCODES[ord(_char)] = _code

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_MIX1 = _U64(0xBF58476D1CE4E5B9)
_MIX2 = _U64(0x94D049BB133111EB)
_S27, _S30, _S31, _S8 = _U64(27), _U64(30), _U64(31), _U64(8)
_LOW30 = _U64((1 << 30) - 1)
_BYTE = _U64(0xFF)
_TAPE_U64 = _U64(TAPE_SIZE)
_PROG_U64 = _U64(PROGRAM_SIZE)
_WORDS = PROGRAM_SIZE // 8


@njit(cache=True, inline="always")
def splitmix64(x: np.uint64) -> np.uint64:
    """SplitMix64's output for state ``x`` (one step of the generator, stateless)."""
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def stream_seed(run_seed: np.uint64, key: np.uint64) -> np.uint64:
    """cubff's per-purpose seed: SplitMix64(SplitMix64(run_seed) ^ SplitMix64(key))."""
    return splitmix64(splitmix64(run_seed) ^ splitmix64(key))


_DEBRUIJN = _U64(0x03F79D71B4CB0A89)
_S58 = _U64(58)
_ONE = _U64(1)
_ALL = _U64(0xFFFFFFFFFFFFFFFF)
_DEBRUIJN_INDEX = np.zeros(64, dtype=np.int64)
for _i in range(64):
    _DEBRUIJN_INDEX[(_DEBRUIJN << _U64(_i)) >> _S58] = _i  # shifts wrap at 64 bits


@njit(cache=True, inline="always")
def _lowest_bit(m: np.uint64) -> int:
    """Index of the lowest set bit of a non-zero word (de Bruijn multiplication)."""
    return _DEBRUIJN_INDEX[((m & (~m + _ONE)) * _DEBRUIJN) >> _S58]


@njit(cache=True, inline="always")
def _highest_bit(m: np.uint64) -> int:
    """Index of the highest set bit of a non-zero word."""
    m |= m >> _U64(1)
    m |= m >> _U64(2)
    m |= m >> _U64(4)
    m |= m >> _U64(8)
    m |= m >> _U64(16)
    m |= m >> _U64(32)
    return _DEBRUIJN_INDEX[((m ^ (m >> _ONE)) * _DEBRUIJN) >> _S58]


@njit(cache=True, inline="always")
def _next_set(lo: np.uint64, hi: np.uint64, pos: int) -> int:
    """First position >= pos set in the 128-bit mask (lo, hi); TAPE_SIZE when none."""
    if pos < PROGRAM_SIZE:
        m = lo >> _U64(pos)
        if m:
            return pos + _lowest_bit(m)
        return PROGRAM_SIZE + _lowest_bit(hi) if hi else TAPE_SIZE
    if pos >= TAPE_SIZE:
        return TAPE_SIZE
    m = hi >> _U64(pos - PROGRAM_SIZE)
    return pos + _lowest_bit(m) if m else TAPE_SIZE


@njit(cache=True, inline="always")
def _prev_set(lo: np.uint64, hi: np.uint64, pos: int) -> int:
    """Last position <= pos set in the 128-bit mask (lo, hi); -1 when none."""
    if pos >= PROGRAM_SIZE:
        m = hi & (_ALL >> _U64(TAPE_SIZE - 1 - pos))
        if m:
            return PROGRAM_SIZE + _highest_bit(m)
        pos = PROGRAM_SIZE - 1
    if pos < 0:
        return -1
    m = lo & (_ALL >> _U64(PROGRAM_SIZE - 1 - pos))
    return _highest_bit(m) if m else -1


@njit(cache=True, inline="always")
def _set_bit(lo: np.uint64, hi: np.uint64, at: int, on: bool) -> tuple[np.uint64, np.uint64]:
    """The 128-bit mask (lo, hi) with bit ``at`` set or cleared."""
    if at < PROGRAM_SIZE:
        bit = _ONE << _U64(at)
        lo = (lo | bit) if on else (lo & ~bit)
    else:
        bit = _ONE << _U64(at - PROGRAM_SIZE)
        hi = (hi | bit) if on else (hi & ~bit)
    return lo, hi


@njit(cache=True)
def evaluate(tape: np.ndarray, heads: bool, step_limit: int) -> int:
    """Run one 128-byte tape in place; return the instructions executed (no-ops excluded).

    Three shortcuts keep it exact while skipping work: a run of no-ops is consumed in
    one go, brackets are matched by hopping from bracket to bracket, and a loop that
    comes back to the same place with the same heads and an unchanged tape is periodic,
    so whole periods are jumped over up to the step limit.
    """
    if heads:
        head0 = np.int64(tape[0]) % TAPE_SIZE
        head1 = np.int64(tape[1]) % TAPE_SIZE
        pos = 2
    else:
        head0 = 0
        head1 = 0
        pos = 0
    # Which bytes are instructions, and which are brackets, as 128-bit masks (two
    # words each) kept current on every write: a run of no-ops is skipped with one bit
    # scan, and bracket matching hops from bracket to bracket instead of byte by byte.
    lo = hi = blo = bhi = _U64(0)
    for i in range(TAPE_SIZE):
        code = OPCODES[tape[i]]
        lo, hi = _set_bit(lo, hi, i, code != _NOOP)
        blo, bhi = _set_bit(blo, bhi, i, code >= _OPEN)
    steps = 0
    skipped = 0
    # Cycle detection (Brent's method) over the states seen right after backward jumps;
    # any write that changes a byte invalidates it, since the tape is part of the state.
    changed = True
    anchor_pos = anchor_h0 = anchor_h1 = anchor_steps = anchor_skipped = 0
    power = 1
    since_anchor = 0
    while steps < step_limit:
        head0 &= TAPE_SIZE - 1
        head1 &= TAPE_SIZE - 1
        op = OPCODES[tape[pos]]
        if op == _NOOP:
            n = min(_next_set(lo, hi, pos) - pos, step_limit - steps)
            steps += n
            skipped += n
            pos += n
            if pos >= TAPE_SIZE:
                break
            continue
        jumped_back = False
        if op == _DEC0:
            head0 -= 1
        elif op == _INC0:
            head0 += 1
        elif op == _DEC1:
            head1 -= 1
        elif op == _INC1:
            head1 += 1
        elif op <= _COPY10:  # the four writes
            at = head0
            if op == _PLUS:
                tape[at] += np.uint8(1)
            elif op == _MINUS:
                tape[at] -= np.uint8(1)
            elif op == _COPY01:
                at = head1 if tape[head1] != tape[head0] else -1
                if at >= 0:
                    tape[at] = tape[head0]
            elif tape[head0] != tape[head1]:
                tape[at] = tape[head1]
            else:
                at = -1
            if at >= 0:
                code = OPCODES[tape[at]]
                lo, hi = _set_bit(lo, hi, at, code != _NOOP)
                blo, bhi = _set_bit(blo, bhi, at, code >= _OPEN)
                changed = True
        elif op == _OPEN:
            if tape[head0] == 0:
                depth = 1
                q = pos
                while depth > 0:
                    q = _next_set(blo, bhi, q + 1)
                    if q >= TAPE_SIZE:
                        break
                    depth += -1 if OPCODES[tape[q]] == _CLOSE else 1
                pos = q if depth == 0 else TAPE_SIZE
        elif tape[head0] != 0:  # _CLOSE
            depth = 1
            q = pos
            while depth > 0:
                q = _prev_set(blo, bhi, q - 1)
                if q < 0:
                    break
                depth += 1 if OPCODES[tape[q]] == _CLOSE else -1
            if depth == 0:
                pos = q
                jumped_back = True
            else:
                pos = -1
        steps += 1
        if pos < 0:
            break
        pos += 1
        if pos >= TAPE_SIZE:
            break
        if jumped_back:
            h0 = head0 & (TAPE_SIZE - 1)
            h1 = head1 & (TAPE_SIZE - 1)
            if changed or since_anchor == power:
                power = 1 if changed else 2 * power
                changed = False
                since_anchor = 0
                anchor_pos, anchor_h0, anchor_h1 = pos, h0, h1
                anchor_steps, anchor_skipped = steps, skipped
            else:
                since_anchor += 1
                if pos == anchor_pos and h0 == anchor_h0 and h1 == anchor_h1:
                    period = steps - anchor_steps
                    periods = (step_limit - steps) // period
                    steps += periods * period
                    skipped += periods * (skipped - anchor_skipped)
                    anchor_steps, anchor_skipped = steps, skipped
    return steps - skipped


@njit(cache=True, parallel=True)
def init_soup(run_seed: np.uint64, num_programs: int) -> np.ndarray:
    """The initial soup (num_programs x 64 bytes) cubff draws for this seed."""
    soup = np.empty((num_programs, PROGRAM_SIZE), dtype=np.uint8)
    base = stream_seed(run_seed, _U64(0)) * _U64(num_programs) * _PROG_U64
    for p in prange(num_programs):
        row = base + _U64(p) * _PROG_U64
        for i in range(PROGRAM_SIZE):
            soup[p, i] = np.uint8(splitmix64(row + _U64(i)) & _BYTE)
    return soup


# Serial on purpose: it takes about a millisecond, less than waking a thread pool.
@njit(cache=True)
def pairing(run_seed: np.uint64, epoch: int, num_programs: int) -> np.ndarray:
    """This epoch's Fisher–Yates permutation of the programs; pairs are (2k, 2k+1)."""
    n = num_programs
    base = _U64(epoch) * _U64(n)
    order = np.arange(n).astype(np.uint32)
    for i in range(n - 1, -1, -1):
        j = np.int64(splitmix64(stream_seed(run_seed, base + _U64(i))) % _U64(i + 1))
        order[i], order[j] = order[j], order[i]
    return order


@njit(cache=True, parallel=True)
def run_epoch(
    soup: np.ndarray,
    order: np.ndarray,
    epoch_seed: np.uint64,
    mutation_prob: int,
    heads: bool,
    step_limit: int,
    chunks: int,
) -> int:
    """Mutate and run every pair of one epoch in place; return the instructions executed."""
    n = soup.shape[0]
    soup64 = soup.view(np.uint64)
    pairs = n // 2
    prob = _U64(mutation_prob)
    ops = np.zeros(chunks, dtype=np.int64)
    per_chunk = (pairs + chunks - 1) // chunks
    for c in prange(chunks):
        first = c * per_chunk
        count = max(0, min(pairs, first + per_chunk) - first)
        # The pairs are scattered over the soup: gathering a block of them in one tight
        # loop lets the memory loads overlap instead of stalling once per pair.
        # Copies move 8-byte words: per-byte loops and slice assignments cost more here.
        words = np.empty((count, TAPE_SIZE // 8), dtype=np.uint64)
        tapes = words.view(np.uint8)
        for j in range(count):
            p1 = order[2 * (first + j)]
            p2 = order[2 * (first + j) + 1]
            for w in range(_WORDS):
                words[j, w] = soup64[p1, w]
                words[j, _WORDS + w] = soup64[p2, w]
        total = 0
        for j in range(count):
            tape = tapes[j]
            base = (_U64(n) * epoch_seed + _U64(first + j)) * _TAPE_U64
            for i in range(TAPE_SIZE):
                rng = splitmix64(base + _U64(i))
                if ((rng >> _S8) & _LOW30) < prob:
                    tape[i] = np.uint8(rng & _BYTE)
            total += evaluate(tape, heads, step_limit)
        for j in range(count):
            p1 = order[2 * (first + j)]
            p2 = order[2 * (first + j) + 1]
            for w in range(_WORDS):
                soup64[p1, w] = words[j, w]
                soup64[p2, w] = words[j, _WORDS + w]
        ops[c] = total
    return ops.sum()


# A hand-written bff_noheads self-replicator (not from cubff): ``[>{]`` moves the heads
# 64 apart, ``.>}[.>}].`` copies the program's upper half forward, ``<{[<{]<{`` walks
# back, ``.<{[.<{]`` copies the lower half backward, and the last ``[`` halts. The
# zero bytes at positions 32 and 63 end the loops. It scores 64 on `selfrep_scores`.
_REPLICATOR_CODE = b"[>{].>}[.>}].<{[<{]<{.<{[.<{]["
NOHEADS_REPLICATOR = (
    _REPLICATOR_CODE + b"a" * (32 - len(_REPLICATOR_CODE)) + b"\x00" + b"a" * 30 + b"\x00"
)

SELFREP_TRIALS = 13  # independent noise partners per program
SELFREP_GENERATIONS = 5  # interactions per trial: the first plus four copies of a copy
SELFREP_THRESHOLD = 5  # a score at or above this counts as a replicator (cubff's display)


@njit(cache=True, parallel=True)
def selfrep_scores(
    soup: np.ndarray, epoch_seed: np.uint64, heads: bool, step_limit: int
) -> np.ndarray:
    """cubff's self-replication score for every program (0..64; higher copies more faithfully).

    Each program runs against fixed random noise; what lands in the second half is
    run again against the same noise, five interactions in all, in 13 trials. A byte
    position counts when more than a quarter of the trials agree on it (and, in the
    first half, agree with the program); the score is the smaller half's count.
    """
    n = soup.shape[0]
    scores = np.zeros(n, dtype=np.int64)
    quorum = SELFREP_TRIALS // 4
    for p in prange(n):
        local = splitmix64(_U64(n) * epoch_seed + _U64(p))
        tapes = np.empty((SELFREP_TRIALS, TAPE_SIZE), dtype=np.uint8)
        noise = np.empty(PROGRAM_SIZE, dtype=np.uint8)
        for t in range(SELFREP_TRIALS):
            for j in range(PROGRAM_SIZE):
                key = _U64((t + 1) * PROGRAM_SIZE + j)
                noise[j] = np.uint8(splitmix64(local ^ splitmix64(key)) & _BYTE)
            tape = tapes[t]
            for j in range(PROGRAM_SIZE):
                tape[j] = soup[p, j]
                tape[j + PROGRAM_SIZE] = noise[j]
            evaluate(tape, heads, step_limit)
            for _ in range(SELFREP_GENERATIONS - 1):
                for j in range(PROGRAM_SIZE):
                    tape[j] = tape[j + PROGRAM_SIZE]
                    tape[j + PROGRAM_SIZE] = noise[j]
                evaluate(tape, heads, step_limit)
        halves = np.zeros(2, dtype=np.int64)
        for i in range(TAPE_SIZE):
            for a in range(SELFREP_TRIALS):
                if i < PROGRAM_SIZE and tapes[a, i] != soup[p, i]:
                    continue
                count = 1
                for b in range(a + 1, SELFREP_TRIALS):
                    if tapes[a, i] == tapes[b, i]:
                        count += 1
                if count > quorum:
                    halves[i // PROGRAM_SIZE] += 1
                    break
        scores[p] = min(halves[0], halves[1])
    return scores


@njit(cache=True, parallel=True)
def program_hashes(soup: np.ndarray) -> np.ndarray:
    """A 64-bit fingerprint per program (SplitMix64 chained over its eight words)."""
    n = soup.shape[0]
    words = soup.view(np.uint64)
    out = np.empty(n, dtype=np.uint64)
    for p in prange(n):
        h = _U64(0)
        for w in range(PROGRAM_SIZE // 8):
            h = splitmix64(h ^ words[p, w])
        out[p] = h
    return out


@njit(cache=True)
def byte_counts(data: np.ndarray) -> np.ndarray:
    """How often each byte value occurs in ``data`` (any shape)."""
    counts = np.zeros(256, dtype=np.int64)
    for b in data.ravel():
        counts[b] += 1
    return counts
