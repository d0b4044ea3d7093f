"""Exercise 07_associative_recall: hand-program a machine that answers an associative-recall query (paper section
4.3, one item per step): it stores the items, finds the query's row by content, then shifts +1 to the item that
followed it; graded on the machine's answer (:func:`ntm_course.teaching.harness.run_recall_machine`).
"""
import torch

from ntm_course.handcrafted import shift_distribution
from ntm_course.teaching.harness import run_recall_machine
from ntm_course.teaching.practice.exercises.cases import DTYPES, Case, Understanding, cast


# --- the reference answer -------------------------------------------------------------------------------

BETA = 100.0


def recall_head_params(step, T, W, inputs=None, batch_size=1):
    """Head parameters, set by hand, of a machine that answers an associative-recall query.

    Memory rows have width ``W + 1`` (the last column stays 0); both heads start on row ``N - 1``. While the items
    arrive (``step < T``) the write head shifts +1 and writes each item on its own row (full erase); the read head
    walks beside it (it could be anywhere: the jump ignores where it was). At the query step (``step == T``,
    ``inputs`` = the query) nothing is written, and the read head jumps by content: key = the query, beta = 100,
    gate g = 1, shift 0 (eqs. 5-7). At step ``T + 1`` it shifts +1 by location
    (g = 0) onto the item that followed the query, and reads it.

    Returns:
        ``(write_params, read_params)``: dicts of ``key (B, W + 1)``, ``beta``, ``g``, ``gamma (B, 1)`` and
        ``s (B, 3)``; the write dict also has ``erase`` and ``add (B, W + 1)``.
    """
    B, M = batch_size, W + 1

    def head(offset, key=None, g=0.0):
        return {"key": torch.zeros(B, M) if key is None else key, "beta": torch.full((B, 1), BETA),
                "g": torch.full((B, 1), g), "s": shift_distribution(offset, 3, batch_size=B),
                "gamma": torch.ones(B, 1)}

    rest = dict(head(0), erase=torch.zeros(B, M), add=torch.zeros(B, M))
    if step < T:
        item = torch.cat([inputs, inputs.new_zeros(B, 1)], dim=1)
        return dict(head(+1), erase=torch.ones(B, M), add=item), head(+1)
    if step == T:
        return rest, head(0, key=torch.cat([inputs, inputs.new_zeros(B, 1)], dim=1), g=1.0)
    return rest, head(+1)


# --- the check -----------------------------------------------------------------------------------------

def _recall_variant(answer_shift=+1, jump_gate=1.0, beta=BETA, write_query=False):
    """A wrong recall machine: one of the reference's choices changed."""
    def head_params(step, T, W, inputs=None, batch_size=1):
        write_params, read_params = recall_head_params(step, T, W, inputs, batch_size)
        B, M = batch_size, W + 1
        if step == T:
            read_params.update(g=torch.full((B, 1), jump_gate), beta=torch.full((B, 1), beta))
            if write_query:
                write_params.update(s=shift_distribution(+1, 3, batch_size=B), erase=torch.ones(B, M),
                                    add=torch.cat([inputs, inputs.new_zeros(B, 1)], dim=1))
        elif step == T + 1:
            read_params["s"] = shift_distribution(answer_shift, 3, batch_size=B)
        return write_params, read_params
    return head_params


def _cosines(items, marker):
    """Pairwise cosine similarities of the rows of ``items (T, W)``, with a column of ``marker`` beside them."""
    rows = torch.cat([items, torch.full((len(items), 1), float(marker), dtype=items.dtype)], dim=1)
    rows = rows / rows.norm(dim=1, keepdim=True)
    return rows @ rows.T - 2 * torch.eye(len(items), dtype=items.dtype)   # the diagonal out of the way


GAP = 0.2
"""Every two items of an episode differ in cosine similarity by at least this much (0.12 with a marker column of
ones): a content jump with beta = 100 then lands on its row to within exp(-100 * 0.12), far below the 3 decimals
the machine's answer is compared to, and a blurred jump (small beta) is caught."""


def _items(gen, T, W, real=False):
    """``T`` items ``(T, W)``: distinct, non-zero and far apart in cosine similarity (:data:`GAP`). Bits, or real
    values on a grid of 0.25 (so that the answer, read to 3 decimals, is the item exactly)."""
    for _ in range(10_000):
        if real:
            items = torch.randint(-4, 5, (T, W), generator=gen).to(torch.float64) / 4
        else:
            items = (torch.rand(T, W, generator=gen, dtype=torch.float64) < 0.5).to(torch.float64)
        if (items.abs().sum(dim=1) > 0).all() and _cosines(items, 0).max() <= 1 - GAP \
                and _cosines(items, 1).max() <= 1 - 0.6 * GAP:
            return items
    raise RuntimeError(f"no {T} items of width {W} far enough apart")   # the sizes below always find some


def episode(gen, T, B, W, queries=None, real=False):
    """``(sequence (T, B, W), query (B, W), positions)``: example ``b`` is queried on item ``positions[b]`` (one of
    the first ``T - 1``; random unless ``queries`` gives them)."""
    items = torch.stack([_items(gen, T, W, real) for _ in range(B)], dim=1)                       # (T, B, W)
    if queries is None:
        queries = torch.randint(0, T - 1, (B,), generator=gen).tolist()
    return items, items[queries, torch.arange(B)], list(queries)


def expected_answer(sequence, positions):
    """The item that followed the query in each example: ``(B, W)``."""
    return sequence[[p + 1 for p in positions], torch.arange(sequence.shape[1])]


def _label(what, T, B, W, N, positions, dtype):
    return f"{what}, T={T}, batch {B}, W={W}, N={N}, queried items {positions}, {str(dtype)[6:]}"


def _cases(label, sequence, query, positions, N=None, hint=""):
    T, B, W = sequence.shape
    N = T + 1 if N is None else N
    return [Case(_label(label, T, B, W, N, positions, d), cast((sequence, query, N), d), hint) for d in DTYPES]


def _recall_build(gen):
    values = _cases("random bits", *episode(gen, 3, 1, 4, queries=[1]))   # first: no two mistakes answer alike
    for T, B, W in ((4, 2, 5), (5, 3, 6), (6, 2, 6), (8, 2, 8)):
        values += _cases("random bits", *episode(gen, T, B, W))
    edge = (_cases("the query is the first item", *episode(gen, 5, 2, 5, queries=[0, 0]))
            + _cases("the query is the last-but-one item", *episode(gen, 5, 2, 5, queries=[3, 3]))
            + _cases("the shortest episode, T = 2", *episode(gen, 2, 2, 4, queries=[0, 0]))
            + _cases("each example queried at another position", *episode(gen, 7, 4, 6, queries=[0, 2, 3, 5]),
                     hint="find the query's row by content: its position differs from one example to the next")
            + _cases("a larger memory than needed, N = 12", *episode(gen, 4, 2, 5, queries=[1, 2]), N=12,
                     hint="do not rely on the memory size: the content jump finds the row wherever it is")
            + _cases("real-valued items", *episode(gen, 5, 2, 4, queries=[1, 3], real=True)))
    return {"values": values, "edge cases": edge}


def _recall_call(fn, args):
    """The machine's answer, to 3 decimals: any large enough beta reads the item itself."""
    return torch.round(run_recall_machine(fn, *args), decimals=3)


RECALL = Understanding(
    name="recall_head_params",
    reference=recall_head_params,
    build=_recall_build,
    call=_recall_call,
    inputs=("sequence", "query", "N"),
    values_note="the machine's answer at step T + 1, to 3 decimals, against the item that followed the query; "
                "random bit items, several lengths, widths and batch sizes, float32 and float64",
    notes={"edge cases": "the first and the last-but-one item queried, T = 2, a different position per example, "
                         "a larger memory, real-valued items"},
    mistakes=[
        ("your machine answers with the query itself: the content jump lands on the query's own row, so the next "
         "step must shift the read head +1 (g = 0, s on offset +1) before it reads", _recall_variant(answer_shift=0)),
        ("your machine answers with the item *before* the query: the items were written going down the rows "
         "(shift +1), so the one that followed the query is one row further, offset +1, not -1",
         _recall_variant(answer_shift=-1)),
        ("no content jump happens: with the gate g = 0 at the query step the read head keeps its previous focus "
         "(eq. 7) and never looks at the query, so it reads wherever location took it; set g = 1 there so the "
         "content weighting replaces the previous one",
         _recall_variant(jump_gate=0.0)),
        ("your content jump is blurred: with a small beta the content weighting (eq. 5) spreads over the items that "
         "look a little like the query; a large beta (100) puts all the weight on the row that matches exactly",
         _recall_variant(beta=2.0)),
        ("your write head writes the query into memory at the query step, so two rows match the key and the jump "
         "splits between them: at the query step set erase = 0 and add = 0", _recall_variant(write_query=True)),
    ],
    hint="write each item on its own row (shift +1); at the query step jump by content (key = the query, large "
         "beta, g = 1) without writing; at the next step shift the read head +1 by location (g = 0)",
    shape_hint="return (write_params, read_params): dicts of key (B, W + 1), beta, g, gamma (B, 1), s (B, 3), "
               "and for the write head erase and add (B, W + 1)",
)

CHECKS = (RECALL,)
"""This module's checks, found through the syllabus row that names the module."""
