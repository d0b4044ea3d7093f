"""Exercise 08_param_count: the number of trainable parameters of ``ntm_course.NTM`` as a formula of its sizes.
Graded on the count alone, exactly, for configurations of both controllers, several heads and shift widths, and
for machines far too big to build (up to 10^21 parameters, more than one 64-bit tensor size): a formula, not a
model, so an answer that builds the NTM and counts fails there.
"""
import operator

from ntm_course.teaching.practice.exercises.cases import Case, Understanding


# --- the reference answer -------------------------------------------------------------------------------

CONTROLLERS = ("lstm", "feedforward")


def ntm_parameter_count(input_size, output_size, controller="lstm", controller_size=100, controller_layers=1,
                        N=128, M=20, R=1, W=1, K=3):
    """The number of trainable parameters of ``ntm_course.NTM(input_size, output_size, controller=controller,
    controller_size=controller_size, controller_layers=controller_layers, N=N, M=M, num_read_heads=R,
    num_write_heads=W, shift_width=K)``, its other options at their defaults (a constant initial memory, a
    learned initial state), in Python integers (exact, never overflowing).

    - controller: its input is ``[x_t; r_{t-1}]``, ``I = input_size + R M`` wide; C = controller_size.
      An LSTM layer (torch's ``LSTMCell``) has 4 gates, each with a weight on its input, one on the hidden state
      and two bias vectors (``b_ih``, ``b_hh``): ``4C (in + C + 2)``; a feed-forward layer ``C (in + 1)``. The
      first layer's ``in`` is I, every later layer's C.
    - heads: one linear layer per kind from the controller output to the heads' raw vectors, ``M + K + 3`` per
      read head, ``3M + K + 3`` per write head: ``R (M + K + 3)(C + 1) + W (3M + K + 3)(C + 1)``.
    - output layer from ``[h_t; r_t]``: ``output_size (C + R M + 1)``.
    - the learned initial state: the read vectors ``R M`` and the weightings' logits ``N (R + W)``.
    """
    sizes = dict(input_size=input_size, output_size=output_size, controller_size=controller_size,
                 controller_layers=controller_layers, N=N, M=M, R=R, K=K)
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if isinstance(W, bool) or not isinstance(W, int) or W < 0:
        raise ValueError(f"W (the number of write heads) must be an int >= 0, got {W!r}")
    if K % 2 != 1:
        raise ValueError(f"the shift width K must be odd and positive, got K={K}")
    if controller not in CONTROLLERS:
        raise ValueError(f"controller must be one of {sorted(CONTROLLERS)}, got {controller!r}")
    C, I = controller_size, input_size + R * M
    if controller == "lstm":
        layers = 4 * C * (I + C + 2) + (controller_layers - 1) * 4 * C * (C + C + 2)
    else:
        layers = C * (I + 1) + (controller_layers - 1) * C * (C + 1)
    heads = (R * (M + K + 3) + W * (3 * M + K + 3)) * (C + 1)
    output = output_size * (C + R * M + 1)
    initial_state = R * M + N * (R + W)
    return layers + heads + output + initial_state


# --- the check -----------------------------------------------------------------------------------------

def _call(fn, args):
    """The learner's count for the configuration ``args[0]`` (a dict of the function's arguments), exactly:
    ``{"count": n, "last three digits": n % 1000}`` (a number is compared to a relative 1e-5; its last digits
    are not)."""
    config = args[0]
    count = fn(**config)
    if isinstance(count, bool):
        raise ValueError(f"ntm_parameter_count must return an int (the number of parameters), got a bool: {count}")
    try:
        count = operator.index(count)
    except TypeError:
        raise ValueError(f"ntm_parameter_count must return an int (the number of parameters), got "
                         f"{type(count).__name__} {count!r}: count with integers (// rather than /, no floats)"
                         ) from None
    return {"count": count, "last three digits": count % 1000}


def _without(**changes):
    """A wrong count: the reference with some of its terms computed the way a classic mistake does."""
    def ntm_parameter_count(input_size, output_size, controller="lstm", controller_size=100, controller_layers=1,
                            N=128, M=20, R=1, W=1, K=3):
        C = controller_size
        I = input_size + (0 if changes.get("controller_reads") is False else R * M)
        bias = 0 if changes.get("biases") is False else 1
        lstm_biases = changes.get("lstm_biases", 2) * bias
        gates = changes.get("gates", 4)
        later_in = I if changes.get("later_layers_read_input") else C
        if controller == "lstm":
            layers = (gates * C * (I + C + lstm_biases)
                      + (controller_layers - 1) * gates * C * (later_in + C + lstm_biases))
        else:
            layers = C * (I + bias) + (controller_layers - 1) * C * (later_in + bias)
        write_width = M + K + 3 if changes.get("write_like_read") else 3 * M + K + 3
        heads = (R * (M + K + 3) + W * write_width) * (C + bias)
        output = output_size * (C + (0 if changes.get("output_reads") is False else R * M) + bias)
        initial_state = 0 if changes.get("initial_state") is False else R * M + N * (R + W)
        return layers + heads + output + initial_state
    return ntm_parameter_count


def _config(input_size, output_size, controller="lstm", controller_size=100, controller_layers=1, N=128, M=20, R=1,
            W=1, K=3):
    return dict(input_size=input_size, output_size=output_size, controller=controller,
                controller_size=controller_size, controller_layers=controller_layers, N=N, M=M, R=R, W=W, K=K)


def _label(config):
    c = config
    layers = f"{c['controller_layers']}x" if c["controller_layers"] > 1 else ""
    return (f"{c['controller']} {layers}{c['controller_size']:,}, in {c['input_size']}, out {c['output_size']}, "
            f"N={c['N']:,}, M={c['M']:,}, R={c['R']}, W={c['W']}, K={c['K']}")


def _cases(configs, hint=""):
    return [Case(f"{title}: {_label(config)}" if title else _label(config), (config,), hint)
            for title, config in configs]


TOO_BIG = ("a formula, not a model: this machine is far too big to build (its tensors would not fit in any "
           "computer's memory), so count from the sizes alone, with Python ints")


TOO_BIG_CONFIGS = (
    _config(9, 8, "lstm", 10_000_000),                                       # 4 x 10^14
    _config(9, 8, "feedforward", 10_000_000, M=10_000_000),                   # 5 x 10^14
    _config(9, 8, "lstm", 10_000_000_000, 2, N=10**6, M=1000, R=4, W=4, K=21),  # 10^21: a tensor over 2^63 elements
)


def _about(config):
    """The reference's count of ``config`` to one digit, ``about 4 x 10^14``."""
    mantissa, exponent = f"{ntm_parameter_count(**config):.1e}".split("e")
    return f"about {float(mantissa):g} x 10^{int(exponent)}"


def _build(gen):
    del gen   # every configuration is fixed: nothing random
    values = _cases([
        ("copy, the paper's LSTM NTM", _config(9, 8)),
        ("copy, the paper's feed-forward NTM", _config(9, 8, "feedforward")),
        ("associative recall, 4 heads of each kind", _config(8, 6, "feedforward", 256, R=4, W=4)),
        ("priority sort, 5 heads of each kind, 2 LSTM layers", _config(10, 8, "lstm", 100, 2, R=5, W=5)),
        ("", _config(3, 2, "lstm", 7, N=10, M=4, R=2, W=1, K=5)),
        ("", _config(5, 7, "feedforward", 13, N=6, M=3, R=1, W=3, K=7)),
        ("", _config(1, 1, "lstm", 32, N=64, M=8, R=3, W=2, K=1)),
        ("", _config(4, 4, "feedforward", 50, 2, N=20, M=10, R=2, W=2, K=9)),
    ])
    edge = _cases([
        ("no write heads", _config(6, 5, "lstm", 20, N=16, M=5, R=2, W=0)),
        ("no write heads, feed-forward", _config(6, 5, "feedforward", 20, N=16, M=5, R=1, W=0, K=5)),
        ("three LSTM layers", _config(7, 3, "lstm", 16, 3, N=12, M=6, R=1, W=2)),
        ("three feed-forward layers", _config(7, 3, "feedforward", 16, 3, N=12, M=6, R=2, W=1, K=5)),
        ("the smallest machine", _config(1, 1, "lstm", 1, N=1, M=1, R=1, W=0, K=1)),
        ("a shift width wider than the memory", _config(2, 2, "feedforward", 8, N=5, M=2, R=1, W=1, K=11)),
    ]) + _cases([
        (f"too big to build, {_about(config)} parameters", config) for config in TOO_BIG_CONFIGS], TOO_BIG)
    return {"values": values, "edge cases": edge}


class _Count(Understanding):
    """An :class:`Understanding` whose hint for an error raised while building a huge model says why."""

    def error_hint(self, error):
        text = str(error).lower()
        if isinstance(error, MemoryError) or any(word in text for word in ("allocate", "overflow", "out of memory")):
            return TOO_BIG
        return super().error_hint(error)


PARAM_COUNT = _Count(
    name="ntm_parameter_count",
    reference=ntm_parameter_count,
    build=_build,
    call=_call,
    inputs=("config",),
    only_groups=("values", "edge cases"),
    notes={"values": "the paper's machines and others, both controllers, 1 to 5 heads of each kind, K = 1 to 9",
           "edge cases": "no write heads, three controller layers, the smallest machine, K > N, and three machines "
                         "far too big to build (10^14 to 10^21 parameters)"},
    mistakes=[
        ("the controller reads more than the input: its input is [x_t; r_{t-1}], the input and the R read vectors "
         "of the step before, M numbers each", _without(controller_reads=False)),
        ("a write head emits more than a read head: after key, beta, g, s and gamma it also emits its erase and add "
         "vectors, M numbers each", _without(write_like_read=True)),
        ("every linear layer has a bias vector beside its weight matrix, one number per output: the controller's "
         "layers, the heads' layers and the output layer", _without(biases=False)),
        ("an LSTM layer is four gated layers in one (input, forget and output gates and the cell candidate), each "
         "with its own weights and biases", _without(gates=1)),
        ("torch's LSTM keeps two bias vectors per gate, b_ih and b_hh (both trainable, though one would do)",
         _without(lstm_biases=1)),
        ("the output layer reads more than the controller: y_t comes from [h_t; r_t], the controller's output and "
         "this step's R read vectors", _without(output_reads=False)),
        ("the initial state is learned too (learn_initial_state=True, the default): the initial read vectors and "
         "the logits of every head's initial weighting", _without(initial_state=False)),
        ("only the first controller layer reads the controller's input: every later layer reads the layer below "
         "it, controller_size wide", _without(later_layers_read_input=True)),
    ],
    hint="walk through NTM's modules: the controller (its input is [x_t; r_{t-1}]), the read and the write heads' "
         "linear layers, the output layer (from [h_t; r_t]) and the learned initial state; a linear layer from "
         "n to m has n m weights and m biases",
    shape_hint="return one int, the number of trainable parameters",
)

CHECKS = (PARAM_COUNT,)
"""This module's checks, found through the syllabus row that names the module."""
