"""The input checks: every message names the argument and the shapes."""
import pytest
import torch

from ntm_course.checks import check_heads, check_lead, check_memory, check_same_device_dtype, check_tensor


def test_check_tensor_returns_its_input_when_valid():
    x = torch.zeros(2, 3)
    assert check_tensor("x", x, 2, "B, N", (2, None)) is x


def test_non_tensor_names_argument_and_expected_shape():
    with pytest.raises(ValueError, match=r"x must be a torch.Tensor of shape \(B, N\), got list"):
        check_tensor("x", [[1.0, 2.0]], 2, "B, N")


def test_integer_tensor_names_dtype_and_shape():
    with pytest.raises(ValueError, match=r"x must be a floating-point tensor .* \(B, N\), got torch.int64 \(2, 3\)"):
        check_tensor("x", torch.zeros(2, 3, dtype=torch.long), 2, "B, N")


def test_bool_tensor_is_rejected():
    with pytest.raises(ValueError, match=r"x must be a floating-point tensor"):
        check_tensor("x", torch.zeros(2, 3, dtype=torch.bool), 2, "B, N")


def test_wrong_ndim_names_shape():
    with pytest.raises(ValueError, match=r"x must have shape \(B, N\), got 3 dimensions \(2, 3, 4\)"):
        check_tensor("x", torch.zeros(2, 3, 4), 2, "B, N")


def test_wrong_size_shows_expected_and_actual():
    with pytest.raises(ValueError, match=r"w must have shape \(B, N\) = \(2, 8\), got \(2, 7\)"):
        check_tensor("w", torch.zeros(2, 7), 2, "B, N", (2, 8))


def test_unconstrained_dimension_shows_question_mark():
    with pytest.raises(ValueError, match=r"s must have shape \(B, K\) = \(3, \?\), got \(2, 5\)"):
        check_tensor("s", torch.zeros(2, 5), 2, "B, K", (3, None))


def test_check_memory_returns_its_shape():
    assert check_memory(torch.zeros(2, 5, 3)) == (2, 5, 3)
    with pytest.raises(ValueError, match=r"memory must have shape \(B, N, M\), got 2 dimensions \(5, 3\)"):
        check_memory(torch.zeros(5, 3))


def test_check_lead_and_heads_take_one_head_or_a_heads_axis():
    assert check_lead("w", torch.zeros(4, 5), "N") == (4,)
    assert check_lead("w", torch.zeros(4, 2, 5), "N") == (4, 2)
    check_heads("beta", torch.ones(4, 2, 1), (4, 2), "1", 1)
    with pytest.raises(ValueError, match=r"beta must have shape \(B, 1\), got 1 dimensions \(4\)"):
        check_heads("beta", torch.ones(4), (4,), "1", 1)
    with pytest.raises(ValueError, match=r"beta must have shape \(B, H, 1\) = \(4, 2, 1\), got \(4, 2, 2\)"):
        check_heads("beta", torch.ones(4, 2, 2), (4, 2), "1", 1)


def test_mixed_dtype_lists_every_argument_with_shape():
    with pytest.raises(ValueError, match=r"share one dtype and device, got a: torch.float32 \(2, 3\) on cpu, "
                                         r"b: torch.float64 \(2\) on cpu"):
        check_same_device_dtype(a=torch.zeros(2, 3), b=torch.zeros(2, dtype=torch.float64))


def test_same_dtype_passes():
    check_same_device_dtype(a=torch.zeros(2, 3), b=torch.zeros(1), c=torch.zeros(4, 4))


def test_mixed_device_lists_every_argument_with_its_device():
    # the "meta" device stands in for a second device on machines without a GPU
    with pytest.raises(ValueError, match=r"got a: torch.float32 \(2, 3\) on cpu, b: torch.float32 \(2, 3\) on meta"):
        check_same_device_dtype(a=torch.zeros(2, 3), b=torch.zeros(2, 3, device="meta"))
