"""Memory: read (eq. 2), write (eqs. 3-4) and the initial memory schemes."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.autograd import gradcheck

from ntm_course.memory import InitialMemory, read, write

finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@st.composite
def memories(draw, max_B=3, max_N=6, max_M=4):
    """A float64 memory ``(B, N, M)`` with arbitrary finite entries."""
    shape = (draw(st.integers(1, max_B)), draw(st.integers(1, max_N)), draw(st.integers(1, max_M)))
    return torch.from_numpy(draw(arrays(np.float64, shape, elements=finite)))


def one_hot(B, N, rows, dtype=torch.float64):
    return torch.nn.functional.one_hot(torch.as_tensor(rows), N).to(dtype).reshape(B, N)


# ---------------------------------------------------------------- hand-computed cases

def test_read_hand_computed():
    memory = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    w = torch.tensor([[0.5, 0.25, 0.25]])
    # r = 0.5 [1, 2] + 0.25 [3, 4] + 0.25 [5, 6] = [0.5 + 0.75 + 1.25, 1 + 1 + 1.5]
    torch.testing.assert_close(read(memory, w), torch.tensor([[2.5, 3.5]]))


MEMORY = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
W = torch.tensor([[1.0, 0.5]])


def test_erase_hand_computed():
    erase = torch.tensor([[1.0, 0.5]])
    # row 0: [1 (1 - 1*1), 2 (1 - 1*0.5)] = [0, 1]; row 1: [3 (1 - 0.5*1), 4 (1 - 0.5*0.5)] = [1.5, 3]
    expected = torch.tensor([[[0.0, 1.0], [1.5, 3.0]]])
    torch.testing.assert_close(write(MEMORY, W, erase, torch.zeros(1, 2)), expected)


def test_add_hand_computed():
    add = torch.tensor([[2.0, -2.0]])
    # row 0: [1 + 1*2, 2 + 1*(-2)] = [3, 0]; row 1: [3 + 0.5*2, 4 + 0.5*(-2)] = [4, 3]
    expected = torch.tensor([[[3.0, 0.0], [4.0, 3.0]]])
    torch.testing.assert_close(write(MEMORY, W, torch.zeros(1, 2), add), expected)


def test_erase_then_add_hand_computed():
    erase, add = torch.tensor([[1.0, 0.5]]), torch.tensor([[2.0, -2.0]])
    # erased rows [0, 1] and [1.5, 3], plus w(i) a = [2, -2] and [1, -1]
    expected = torch.tensor([[[2.0, -1.0], [2.5, 2.0]]])
    torch.testing.assert_close(write(MEMORY, W, erase, add), expected)


def test_two_write_heads_erase_all_then_add_all():
    memory = torch.tensor([[[4.0], [8.0]]])
    w = torch.tensor([[[1.0, 0.0], [0.5, 0.5]]])          # (B, H=2, N)
    erase = torch.tensor([[[0.5], [0.5]]])
    add = torch.tensor([[[1.0], [2.0]]])
    # keep row 0: (1 - 0.5)(1 - 0.25) = 0.375, row 1: 1 * (1 - 0.25) = 0.75
    # add  row 0: 1*1 + 0.5*2 = 2,              row 1: 0*1 + 0.5*2 = 1
    expected = torch.tensor([[[4 * 0.375 + 2], [8 * 0.75 + 1]]])
    torch.testing.assert_close(write(memory, w, erase, add), expected)


# ---------------------------------------------------------------- properties

@given(memories(), st.data())
def test_read_through_one_hot_returns_that_row(memory, data):
    B, N, _ = memory.shape
    rows = data.draw(st.lists(st.integers(0, N - 1), min_size=B, max_size=B))
    torch.testing.assert_close(read(memory, one_hot(B, N, rows)), memory[torch.arange(B), rows])


@given(memories(), st.data())
def test_full_erase_through_one_hot_clears_exactly_that_row(memory, data):
    B, N, M = memory.shape
    rows = data.draw(st.lists(st.integers(0, N - 1), min_size=B, max_size=B))
    ones, zeros = torch.ones(B, M, dtype=memory.dtype), torch.zeros(B, M, dtype=memory.dtype)
    new = write(memory, one_hot(B, N, rows), erase=ones, add=zeros)
    cleared = one_hot(B, N, rows).bool()
    assert (new[cleared] == 0).all()
    torch.testing.assert_close(new[~cleared], memory[~cleared], rtol=0, atol=0)


@given(memories(), st.data())
def test_write_with_zero_weighting_changes_nothing(memory, data):
    B, N, M = memory.shape
    vec = arrays(np.float64, (B, M), elements=st.floats(0, 1)).map(torch.from_numpy)
    new = write(memory, torch.zeros(B, N, dtype=memory.dtype), data.draw(vec), data.draw(vec))
    torch.testing.assert_close(new, memory, rtol=0, atol=0)


@given(memories(max_B=3), st.data())
def test_write_leaves_inputs_unchanged(memory, data):
    B, N, M = memory.shape
    w = torch.softmax(torch.randn(B, N, dtype=memory.dtype), 1)
    erase, add = torch.rand(B, M, dtype=memory.dtype), torch.randn(B, M, dtype=memory.dtype)
    copies = [t.clone() for t in (memory, w, erase, add)]
    write(memory, w, erase, add)
    for before, after in zip(copies, (memory, w, erase, add)):
        assert torch.equal(before, after)


@given(st.integers(2, 4), st.integers(0, 2**31 - 1))
def test_multi_head_write_is_independent_of_head_order(H, seed):
    gen = torch.Generator().manual_seed(seed)
    B, N, M = 2, 5, 3
    memory = torch.randn(B, N, M, generator=gen, dtype=torch.float64)
    w = torch.softmax(torch.randn(B, H, N, generator=gen, dtype=torch.float64), 2)
    erase = torch.rand(B, H, M, generator=gen, dtype=torch.float64)
    add = torch.randn(B, H, M, generator=gen, dtype=torch.float64)
    perm = torch.randperm(H, generator=gen)
    torch.testing.assert_close(write(memory, w, erase, add), write(memory, w[:, perm], erase[:, perm], add[:, perm]))


@given(st.integers(0, 2**31 - 1), st.integers(0, 2))
def test_batch_elements_never_influence_each_other(seed, b):
    """Perturbing example b changes example b only, for read and for write."""
    gen = torch.Generator().manual_seed(seed)
    B, N, M = 3, 4, 3
    args = [torch.randn(B, N, M, generator=gen, dtype=torch.float64),
            torch.softmax(torch.randn(B, N, generator=gen, dtype=torch.float64), 1),
            torch.rand(B, M, generator=gen, dtype=torch.float64),
            torch.randn(B, M, generator=gen, dtype=torch.float64)]
    perturbed = [a.clone() for a in args]
    for p in perturbed:
        p[b] = p[b] + 0.5
    others = [i for i in range(B) if i != b]
    for fn, n in ((read, 2), (write, 4)):
        before, after = fn(*args[:n]), fn(*perturbed[:n])
        torch.testing.assert_close(after[others], before[others], rtol=0, atol=0)
        assert not torch.equal(after[b], before[b])


def test_one_head_axis_equals_plain_shapes():
    memory, w = torch.randn(2, 4, 3), torch.softmax(torch.randn(2, 4), 1)
    erase, add = torch.rand(2, 3), torch.randn(2, 3)
    torch.testing.assert_close(write(memory, w, erase, add),
                               write(memory, w.unsqueeze(1), erase.unsqueeze(1), add.unsqueeze(1)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_follows_inputs(dtype):
    memory, w = torch.randn(2, 4, 3, dtype=dtype), torch.softmax(torch.randn(2, 4, dtype=dtype), 1)
    erase, add = torch.rand(2, 3, dtype=dtype), torch.randn(2, 3, dtype=dtype)
    assert read(memory, w).dtype == dtype
    assert write(memory, w, erase, add).dtype == dtype


# ---------------------------------------------------------------- gradients

def test_gradcheck_read():
    memory = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    w = torch.softmax(torch.randn(2, 4, dtype=torch.float64), 1).requires_grad_()
    assert gradcheck(read, (memory, w))


@pytest.mark.parametrize("heads", [None, 2])
def test_gradcheck_write(heads):
    lead = (2,) if heads is None else (2, heads)
    memory = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    w = torch.softmax(torch.randn(*lead, 4, dtype=torch.float64), -1).requires_grad_()
    erase = torch.rand(*lead, 3, dtype=torch.float64, requires_grad=True)
    add = torch.randn(*lead, 3, dtype=torch.float64, requires_grad=True)
    assert gradcheck(write, (memory, w, erase, add))


# ---------------------------------------------------------------- bad input

GOOD = dict(memory=torch.zeros(2, 4, 3), w=torch.zeros(2, 4), erase=torch.zeros(2, 3), add=torch.zeros(2, 3))


@pytest.mark.parametrize("name, bad, message", [
    ("memory", torch.zeros(4, 3), r"memory must have shape \(B, N, M\), got 2 dimensions \(4, 3\)"),
    ("memory", [[0.0]], r"memory must be a torch.Tensor of shape \(B, N, M\), got list"),
    ("memory", torch.zeros(2, 4, 3, dtype=torch.int32), r"memory must be a floating-point .* torch.int32 \(2, 4, 3\)"),
    ("w", torch.zeros(3, 4), r"w must have shape \(B, N\) = \(2, 4\), got \(3, 4\)"),
    ("w", torch.zeros(2, 5), r"w must have shape \(B, N\) = \(2, 4\), got \(2, 5\)"),
    ("w", torch.zeros(4), r"w must have shape \(B, N\), got 1 dimensions \(4\)"),
    ("w", torch.zeros(2, 4, dtype=torch.float64), r"share one dtype .* memory: torch.float32 \(2, 4, 3\) .* "
                                                  r"w: torch.float64 \(2, 4\)"),
    ("w", torch.zeros(2, 4, device="meta"), r"share one dtype and device, .* w: torch.float32 \(2, 4\) on meta"),
])
def test_read_bad_input(name, bad, message):
    args = {"memory": GOOD["memory"], "w": GOOD["w"], name: bad}
    with pytest.raises(ValueError, match=message):
        read(**args)


@pytest.mark.parametrize("name, bad, message", [
    ("memory", torch.zeros(2, 4), r"memory must have shape \(B, N, M\), got 2 dimensions \(2, 4\)"),
    ("w", torch.zeros(3, 4), r"w must have shape \(B, N\) = \(2, 4\), got \(3, 4\)"),
    ("w", torch.zeros(2, 1, 5), r"w must have shape \(B, H, N\) = \(2, 1, 4\), got \(2, 1, 5\)"),
    ("w", "w", r"w must be a torch.Tensor"),
    ("erase", torch.zeros(2, 4), r"erase must have shape \(B, M\) = \(2, 3\), got \(2, 4\)"),
    ("erase", torch.zeros(2, 3, dtype=torch.long), r"erase must be a floating-point .* torch.int64 \(2, 3\)"),
    ("add", torch.zeros(1, 3), r"add must have shape \(B, M\) = \(2, 3\), got \(1, 3\)"),
    ("add", torch.zeros(2, 2, 3), r"add must have shape \(B, M\), got 3 dimensions \(2, 2, 3\)"),
    ("add", torch.zeros(2, 3, dtype=torch.float64), r"share one dtype .* add: torch.float64 \(2, 3\)"),
    ("erase", torch.zeros(2, 3, device="meta"), r"share one dtype and device, .* erase: torch.float32 \(2, 3\) "
                                                r"on meta"),
])
def test_write_bad_input(name, bad, message):
    with pytest.raises(ValueError, match=message):
        write(**{**GOOD, name: bad})


def test_write_heads_must_agree_in_number():
    w, erase = torch.full((2, 2, 4), 0.25), torch.zeros(2, 2, 3)
    with pytest.raises(ValueError, match=r"add must have shape \(B, H, M\) = \(2, 2, 3\), got \(2, 3, 3\)"):
        write(GOOD["memory"], w, erase, torch.zeros(2, 3, 3))


# ---------------------------------------------------------------- initial memory

def test_constant_scheme_holds_one_in_a_million():
    memory = InitialMemory(5, 3)(2)
    assert memory.shape == (2, 5, 3)
    assert (memory == 1e-6).all()
    assert list(InitialMemory(5, 3).parameters()) == []


def test_learned_scheme_is_a_parameter_with_gradients():
    init = InitialMemory(5, 3, scheme="learned")
    assert [p.shape for p in init.parameters()] == [torch.Size([5, 3])]
    memory = init(4)
    assert memory.shape == (4, 5, 3)
    torch.testing.assert_close(memory[3], init.weight)
    (memory * torch.arange(4.0).view(4, 1, 1)).sum().backward()
    # every one of the 4 batch copies contributes its multiplier: 0 + 1 + 2 + 3
    torch.testing.assert_close(init.weight.grad, torch.full((5, 3), 6.0))


def test_random_scheme_differs_across_calls_and_stays_in_range():
    init = InitialMemory(5, 3, scheme="random", value_range=0.1)
    a, b = init(2), init(2)
    assert not torch.equal(a, b)
    assert not torch.equal(a[0], a[1])
    assert a.abs().max() <= 0.1


def test_random_scheme_never_touches_the_global_generator():
    """Running a random initial memory leaves torch's global RNG as it was; its noise comes from its own
    generator, so two modules with one seed give the same memories and a generator passed in overrides it."""
    state = torch.get_rng_state()
    a, b = InitialMemory(5, 3, "random", seed=7), InitialMemory(5, 3, "random", seed=7)
    first = a(2)
    assert torch.equal(torch.get_rng_state(), state)
    torch.testing.assert_close(first, b(2), rtol=0, atol=0)
    assert not torch.equal(a(2), first)                     # a fresh draw for the next episode
    given = [InitialMemory(5, 3, "random", seed=s)(2, torch.Generator().manual_seed(3)) for s in (1, 2)]
    torch.testing.assert_close(given[0], given[1], rtol=0, atol=0)


def test_random_scheme_seed_defaults_to_the_global_generator_at_build_time():
    """Without a seed, building the module draws one number from the global generator (as weights do):
    the same manual_seed before building gives the same memories."""
    torch.manual_seed(5)
    a = InitialMemory(4, 2, "random")
    torch.manual_seed(5)
    b = InitialMemory(4, 2, "random")
    torch.testing.assert_close(a(3), b(3), rtol=0, atol=0)


def test_scheme_dtype_follows_the_module():
    for scheme in ("constant", "learned", "random"):
        assert InitialMemory(2, 3, scheme).double()(1).dtype == torch.float64


@pytest.mark.parametrize("kwargs, message", [
    (dict(scheme="zeros"), r"scheme must be one of \('constant', 'learned', 'random'\), got 'zeros'"),
    (dict(N=0), r"N x M must be positive, got N=0, M=3"),
    (dict(M=-1), r"N x M must be positive, got N=5, M=-1"),
])
def test_initial_memory_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        InitialMemory(**{"N": 5, "M": 3, **kwargs})


def test_repr_names_the_scheme():
    assert "scheme='learned'" in repr(InitialMemory(5, 3, "learned"))


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 6), st.integers(1, 4), st.integers(0, 100))
def test_read_on_a_heads_axis_equals_each_head_alone(B, H, N, M, seed):
    g = torch.Generator().manual_seed(seed)
    memory = torch.randn(B, N, M, generator=g, dtype=torch.float64)
    w = torch.softmax(torch.randn(B, H, N, generator=g, dtype=torch.float64), dim=2)
    reads = read(memory, w)
    assert reads.shape == (B, H, M)
    for h in range(H):
        torch.testing.assert_close(reads[:, h], read(memory, w[:, h]))


def test_write_with_one_head_on_a_heads_axis_equals_the_single_head_form():
    g = torch.Generator().manual_seed(1)
    memory = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    w = torch.softmax(torch.randn(2, 5, generator=g, dtype=torch.float64), dim=1)
    e, a = torch.rand(2, 3, generator=g, dtype=torch.float64), torch.randn(2, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(write(memory, w.unsqueeze(1), e.unsqueeze(1), a.unsqueeze(1)), write(memory, w, e, a))
    # eqs. 3-4 written out: M (1 - w e) + w a
    torch.testing.assert_close(write(memory, w, e, a),
                               memory * (1 - w.unsqueeze(2) * e.unsqueeze(1)) + w.unsqueeze(2) * a.unsqueeze(1))


def test_gradcheck_read_and_write_on_a_heads_axis():
    g = torch.Generator().manual_seed(2)
    memory = torch.randn(2, 4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.softmax(torch.randn(2, 3, 4, generator=g, dtype=torch.float64), dim=2).requires_grad_()
    e = torch.rand(2, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    a = torch.randn(2, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    assert gradcheck(read, (memory, w))
    assert gradcheck(write, (memory, w, e, a))


def test_a_row_erased_fully_by_one_head_passes_no_gradient_through_the_others_erase():
    """Head 0 erases row 1 completely (w = 1, e = 1: a keep term of exactly 0): row 1 of M_t is then head 1's add
    alone, whatever head 1 erases, so no gradient reaches head 1's erase or the old memory through that row;
    elsewhere the gradients are those of the product of the two heads' terms."""
    memory = torch.arange(1.0, 7.0).view(1, 3, 2).requires_grad_()
    w = torch.tensor([[[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]]])                        # (B, H, N)
    erase = torch.tensor([[[1.0, 1.0], [0.5, 0.5]]], requires_grad=True)
    add = torch.zeros(1, 2, 2)
    write(memory, w, erase, add).sum().backward()
    assert torch.equal(memory.grad, torch.tensor([[[0.75, 0.75], [0.0, 0.0], [1.0, 1.0]]]))   # 1 - 0.5 * 0.5
    # d/d e_1: -w_1(0) M(0) (row 0; row 1 is erased by head 0): -0.5 * (1, 2)
    assert torch.equal(erase.grad[0, 1], torch.tensor([-0.5, -1.0]))
