"""Exercise 11_allocation: the Differentiable Neural Computer's memory allocation (Graves et al. 2016, "Hybrid
computing using a neural network with dynamic external memory", Methods: "Dynamic memory allocation").

``usage_update``: the retention ``psi = prod_r (1 - f_r w^r_{t-1})`` over the R read heads, then the usage
``u_t = (u_{t-1} + w^w_{t-1} - u_{t-1} * w^w_{t-1}) * psi`` (one write head).
``allocation``: with ``phi`` the rows sorted by ascending usage (ties: the lower row first, a stable sort),
``a[phi_j] = (1 - u[phi_j]) prod_{i < j} u[phi_i]``. Its gradients flow through the usage values with the sort
order held fixed, as in the DNC paper (the sort itself has no gradient); the gradient cases have no ties.
"""
import torch

from ntm_course.checks import check_same_device_dtype, check_tensor
from ntm_course.teaching.practice.exercises.cases import DTYPES, Case, Understanding, both, cast, rand


# --- the reference answers ------------------------------------------------------------------------------

def usage_update(u_prev, w_write_prev, free_gates, w_read_prev):
    r"""The DNC's usage after one step: what was written is used, what the read heads free is not.

    .. math::
        \psi_t = \prod_{r=1}^{R} (1 - f^r_t\, w^{r}_{t-1}) \qquad
        u_t = (u_{t-1} + w^w_{t-1} - u_{t-1} \circ w^w_{t-1}) \circ \psi_t

    Args:
        u_prev: ``(B, N)``, the usage before, in [0, 1].
        w_write_prev: ``(B, N)``, the previous step's write weighting.
        free_gates: ``(B, R)``, one free gate in [0, 1] per read head.
        w_read_prev: ``(B, R, N)``, the previous step's read weightings.
    Returns:
        ``(B, N)``, the usage now.
    """
    B, N = check_tensor("u_prev", u_prev, 2, "B, N").shape
    check_tensor("w_write_prev", w_write_prev, 2, "B, N", (B, N))
    R = check_tensor("free_gates", free_gates, 2, "B, R", (B, None)).shape[1]
    check_tensor("w_read_prev", w_read_prev, 3, "B, R, N", (B, R, N))
    check_same_device_dtype(u_prev=u_prev, w_write_prev=w_write_prev, free_gates=free_gates, w_read_prev=w_read_prev)
    retention = (1 - free_gates.unsqueeze(2) * w_read_prev).prod(dim=1)        # psi (B, N)
    return (u_prev + w_write_prev - u_prev * w_write_prev) * retention


def allocation(u):
    r"""The DNC's allocation weighting: the least-used row gets most of the weight.

    .. math:: a[\phi_j] = (1 - u[\phi_j]) \prod_{i < j} u[\phi_i], \qquad \phi = \operatorname{argsort}(u)

    Args:
        u: ``(B, N)``, usage in [0, 1].
    Returns:
        ``(B, N)``: ``phi`` sorts the rows by ascending usage, rows of equal usage lower index first (a stable
        sort). Gradients flow through the usage values; the order is held fixed.
    """
    check_tensor("u", u, 2, "B, N")
    order = torch.sort(u.detach(), dim=1, stable=True).indices              # phi (B, N)
    sorted_u = u.gather(1, order)
    before = torch.cat([torch.ones_like(sorted_u[:, :1]), sorted_u[:, :-1]], dim=1)
    a_sorted = (1 - sorted_u) * torch.cumprod(before, dim=1)                 # (1 - u[phi_j]) prod_{i<j} u[phi_i]
    return torch.zeros_like(u).scatter(1, order, a_sorted)


# --- the wrong answers learners give --------------------------------------------------------------------

def _no_retention(u_prev, w_write_prev, free_gates, w_read_prev):
    return u_prev + w_write_prev - u_prev * w_write_prev


def _retention_of_gates_only(u_prev, w_write_prev, free_gates, w_read_prev):
    retention = (1 - free_gates).prod(dim=1, keepdim=True)
    return (u_prev + w_write_prev - u_prev * w_write_prev) * retention


def _written_adds_up(u_prev, w_write_prev, free_gates, w_read_prev):
    retention = (1 - free_gates.unsqueeze(2) * w_read_prev).prod(dim=1)
    return (u_prev + w_write_prev) * retention


def _allocation_variant(descending=False, inclusive=False, keep_free=True):
    def allocation(u):
        order = torch.sort(u.detach(), dim=1, stable=True, descending=descending).indices
        sorted_u = u.gather(1, order)
        before = sorted_u if inclusive else torch.cat([torch.ones_like(sorted_u[:, :1]), sorted_u[:, :-1]], dim=1)
        a_sorted = (1 - sorted_u if keep_free else 1) * torch.cumprod(before, dim=1)
        return torch.zeros_like(u).scatter(1, order, a_sorted)
    return allocation


# --- the checks -----------------------------------------------------------------------------------------

SIZES = ((1, 5, 1), (2, 6, 2), (3, 7, 3), (4, 4, 1), (2, 8, 4))    # (B, N, R)


def _weighting(gen, *shape):
    return torch.softmax(2 * torch.randn(*shape, generator=gen, dtype=torch.float64), dim=-1)


def _usage_case(gen, B, N, R):
    return (rand(gen, B, N), _weighting(gen, B, N), rand(gen, B, R), _weighting(gen, B, R, N))


def _one_hot(B, N, row, R=None):
    w = torch.zeros(B, N, dtype=torch.float64) if R is None else torch.zeros(B, R, N, dtype=torch.float64)
    w[..., row] = 1.0
    return w


def _usage_build(gen):
    values = []
    for _ in range(2):
        for B, N, R in SIZES:
            args = _usage_case(gen, B, N, R)
            values += [Case(f"random, batch {B}, N={N}, R={R}, {str(d)[6:]}", cast(args, d)) for d in DTYPES]
    u = rand(gen, 2, 6)
    edge = (both("a read head frees row 3 completely (free gate 1, read weighting one-hot on row 3)",
                 (u, _one_hot(2, 6, 1), torch.tensor([[1.0], [1.0]], dtype=torch.float64), _one_hot(2, 6, 3, R=1)),
                 "psi(3) = 1 - f w^r(3) = 0: a row its reader frees ends with usage 0")
            + both("free gates 0: nothing is freed, the write only raises the usage",
                   (u, _weighting(gen, 2, 6), torch.zeros(2, 2, dtype=torch.float64), _weighting(gen, 2, 2, 6)))
            + both("free gates 1 but a spread read weighting: each row keeps 1 - w^r(i) of its usage",
                   (u, _weighting(gen, 2, 6), torch.ones(2, 1, dtype=torch.float64), _weighting(gen, 2, 1, 6)),
                   "retention frees each row as much as the read head was on it: 1 - f w^r(i), not 1 - f")
            + both("a full row written again stays full (u = 1, w = 1)",
                   (torch.ones(2, 5, dtype=torch.float64), _one_hot(2, 5, 2), torch.zeros(2, 1, dtype=torch.float64),
                    _weighting(gen, 2, 1, 5)), "u + w - u w = 1 when u = 1: usage never goes above 1")
            + both("an empty memory: the usage is what was written, times the retention",
                   (torch.zeros(3, 5, dtype=torch.float64), _weighting(gen, 3, 5), rand(gen, 3, 3),
                    _weighting(gen, 3, 3, 5))))
    grads = [Case(f"gradients, batch {B}, N={N}, R={R}, float64", _usage_case(gen, B, N, R))
             for B, N, R in ((2, 6, 2), (3, 5, 3))]
    return {"values": values, "edge cases": edge, "gradients": grads}


USAGE_UPDATE = Understanding(
    name="usage_update",
    reference=usage_update,
    build=_usage_build,
    grad_args=(0, 1, 2, 3),
    values_note="batch 1 to 4, N = 4 to 8, R = 1 to 4 read heads, float32 and float64",
    notes={"edge cases": "a row freed completely, free gates 0, free gates 1 with a spread read weighting, "
                         "a full row written again, an empty memory"},
    mistakes=[
        ("the read heads' free gates are missing: multiply by the retention psi = prod_r (1 - f_r w^r), which "
         "lowers the usage of the rows the read heads release", _no_retention),
        ("the retention frees a row only as much as a read head was on it: 1 - f_r w^r(i) per row, not 1 - f_r "
         "for every row", _retention_of_gates_only),
        ("u + w can exceed 1: a write raises the usage by what is still free, u + w - u w = 1 - (1 - u)(1 - w)",
         _written_adds_up),
    ],
    hint="psi (B, N) is a product over the R read heads of 1 - f_r w^r; multiply it into u_prev + w - u_prev w",
    shape_hint="free_gates (B, R) against w_read_prev (B, R, N): free_gates.unsqueeze(2) * w_read_prev is (B, R, N); "
               "take the product over dim 1 for psi (B, N)",
)


def _allocation_build(gen):
    values = []
    for _ in range(2):
        for B, N in ((1, 5), (2, 6), (3, 7), (4, 4), (2, 8), (3, 12)):
            u = rand(gen, B, N)
            values += [Case(f"random usage, batch {B}, N={N}, {str(d)[6:]}", cast((u,), d)) for d in DTYPES]
    predict = torch.zeros(2, 6, dtype=torch.float64)
    predict[:, 2] = 1.0
    edge = (both("all rows free (u = 0): allocate the first row", (torch.zeros(2, 5, dtype=torch.float64),),
                 "rows of equal usage go lower index first (a stable sort), so row 0 gets all the weight; dividing "
                 "the inclusive product by u gives 0 / 0 here")
            + both("all rows full (u = 1): nothing to allocate", (torch.ones(2, 5, dtype=torch.float64),),
                   "1 - u = 0 on every row: a = 0")
            + both("row 2 fully used, every other row free: allocate row 0", (predict,),
                   "the free rows tie at u = 0: the lowest of them, row 0, gets all the weight")
            + both("a nearly full memory: the weights sum to less than 1",
                   (rand(gen, 2, 6, low=0.8, high=1.0),))
            + both("one row free, the others partly used, in a long memory", (torch.cat(
                [rand(gen, 2, 5, low=0.3, high=0.9), torch.zeros(2, 1, dtype=torch.float64),
                 rand(gen, 2, 10, low=0.3, high=0.9)], dim=1),)))
    grads = [Case(f"gradients, batch {B}, N={N}, float64 (no ties)", (rand(gen, B, N, low=0.05, high=0.95),))
             for B, N in ((2, 6), (3, 5), (1, 9))]
    return {"values": values, "edge cases": edge, "gradients": grads}


ALLOCATION = Understanding(
    name="allocation",
    reference=allocation,
    build=_allocation_build,
    grad_args=(0,),
    values_note="random usage in [0, 1] (no ties), batch 1 to 4, N = 4 to 12, float32 and float64",
    notes={"edge cases": "all rows free, all rows full, one row used (the Predict question), a nearly full "
                         "memory, one free row in a long memory",
           "gradients": "float64, through the usage values with the sort order held fixed, compared with the "
                        "reference's"},
    mistakes=[
        ("the least-used row comes first: sort by ascending usage, so the freest row gets most of the weight",
         _allocation_variant(descending=True)),
        ("the product runs over the rows before row phi_j only (i < j): including u[phi_j] itself scales every "
         "weight by its own usage", _allocation_variant(inclusive=True)),
        ("a row gives only as much as it is free: multiply by (1 - u[phi_j]); without it a used row takes weight",
         _allocation_variant(keep_free=False)),
    ],
    hint="sort the usage ascending (stable), then a_sorted[j] = (1 - s[j]) * prod_{i<j} s[i] (an exclusive "
         "cumulative product), then put each weight back on its row",
    shape_hint="return a (B, N) like u: sort along dim 1 and scatter the sorted weights back with the same indices",
)

CHECKS = (USAGE_UPDATE, ALLOCATION)
"""This module's checks, found through the syllabus row that names the module."""
