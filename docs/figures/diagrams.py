"""Draw the course's two diagrams as SVG: docs/figures/ntm_machine.svg (the paper's figure 1: the controller, the
read and write heads, the memory) and docs/figures/addressing_pipeline.svg (the paper's figure 2: content
addressing, interpolation, shift and sharpening, with the parameter each stage takes).

    python docs/figures/diagrams.py        # from the repository root; needs torch only

The small bar charts of the pipeline are computed by the library's own addressing functions
(``ntm_course.addressing``) on a 10-row example, so the picture shows what the code does. Colours are from the
Okabe-Ito palette, which stays distinct under the common colour-vision deficiencies, and nothing is told by colour
alone: reads are solid lines and writes dashed, every box and arrow is labelled, and each SVG has a <title> and a
<desc> that screen readers announce.
"""
from html import escape
from pathlib import Path

import torch

from ntm_course.addressing import content_addressing, interpolate, sharpen, shift

HERE = Path(__file__).resolve().parent
BLUE, ORANGE, SKY, GREEN, VERMILLION, PURPLE, GREY = ("#0072B2", "#E69F00", "#56B4E9", "#009E73", "#D55E00",
                                                       "#CC79A7", "#555555")
FONT = "font-family:DejaVu Sans,Helvetica,Arial,sans-serif"


def svg(width, height, title, desc, body):
    """A whole SVG document with an accessible title and description."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="title desc">\n'
            f'<title id="title">{escape(title)}</title>\n<desc id="desc">{escape(desc)}</desc>\n'
            '<defs>\n'
            f' <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{GREY}"/></marker>\n'
            ' <pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            f'<rect width="6" height="6" fill="white"/><line x1="0" y1="0" x2="0" y2="6" stroke="{ORANGE}" '
            'stroke-width="3"/></pattern>\n'
            '</defs>\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n'
            f'<g style="{FONT}">\n{body}</g>\n</svg>\n')


def text(x, y, content, size=13, anchor="middle", weight="normal", style=""):
    """A line of text; ``content`` may hold <tspan> markup (escaped by the caller)."""
    return (f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}"'
            f'{f" font-style={chr(34)}{style}{chr(34)}" if style else ""}>{content}</text>\n')


def box(x, y, w, h, fill, stroke, lines, size=13, dash=False, rx=8):
    """A rounded box with centred lines of text (the first bold)."""
    out = (f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{rx}" fill="{fill}" stroke="{stroke}" '
           f'stroke-width="2"{" stroke-dasharray=" + chr(34) + "6 4" + chr(34) if dash else ""}/>\n')
    top = y + h / 2 - (len(lines) - 1) * (size + 3) / 2 + size / 3
    for i, line in enumerate(lines):
        out += text(x + w / 2, top + i * (size + 3), line, size=size, weight="bold" if i == 0 else "normal")
    return out


def arrow(x1, y1, x2, y2, label="", dashed=False, lx=None, ly=None, anchor="middle", colour=GREY, width=2):
    """A straight arrow with an optional label (placed at ``lx, ly``, by default beside its middle)."""
    out = (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="{width}" '
           f'marker-end="url(#arrow)"{" stroke-dasharray=" + chr(34) + "7 5" + chr(34) if dashed else ""}/>\n')
    if label:
        out += text((x1 + x2) / 2 + 6 if lx is None else lx, (y1 + y2) / 2 - 6 if ly is None else ly, label,
                    size=12, anchor=anchor)
    return out


def machine():
    """The paper's figure 1, the course's way: one step of the NTM."""
    body = ""
    body += text(380, 28, "A Neural Turing Machine, one time step t", size=17, weight="bold")
    body += (f'<rect x="30" y="90" width="700" height="410" rx="14" fill="none" stroke="{GREY}" '
             'stroke-width="1.5" stroke-dasharray="4 4"/>\n')
    body += text(44, 110, "the NTM", size=12, anchor="start", style="italic")
    body += box(40, 44, 170, 40, "#FFFFFF", GREY, ["input x<tspan baseline-shift='sub' font-size='9'>t</tspan>"])
    body += box(550, 44, 170, 40, "#FFFFFF", GREY, ["output y<tspan baseline-shift='sub' font-size='9'>t</tspan>"])
    body += box(230, 130, 300, 74, "#E8F1F8", BLUE, [
        "Controller (LSTM or feed-forward)",
        "h<tspan baseline-shift='sub' font-size='9'>t</tspan> = controller([x<tspan baseline-shift='sub' "
        "font-size='9'>t</tspan>, r<tspan baseline-shift='sub' font-size='9'>t-1</tspan>])"])
    body += arrow(125, 84, 300, 128, "", lx=0)
    body += arrow(460, 128, 635, 86)
    body += text(545, 140, "y = σ(W [h, r] + b)", size=12, anchor="start")
    body += box(60, 250, 270, 82, "#FDF3E1", ORANGE, [
        "Write heads (dashed lines)", "address M<tspan baseline-shift='sub' font-size='9'>t-1</tspan>"
        " with k, β, g, s, γ (eqs. 5-9)", "then erase e, add a (eqs. 3-4)"], size=12)
    body += box(430, 250, 270, 82, "#E6F4EF", GREEN, [
        "Read heads (solid lines)", "address M<tspan baseline-shift='sub' font-size='9'>t</tspan>"
        " with k, β, g, s, γ (eqs. 5-9)", "then read r (eq. 2)"], size=12)
    body += arrow(300, 206, 200, 248, "head parameters", lx=190, ly=232, anchor="end")
    body += arrow(460, 206, 560, 248, "head parameters", lx=570, ly=232, anchor="start")
    # the memory: N rows of M cells, a write weighting (hatched) and a read weighting (solid) beside it
    mx, my, rows, cols, cell = 250, 372, 6, 14, 16
    body += text(380, 364, "Memory M<tspan baseline-shift='sub' font-size='9'>t</tspan>: N rows × M columns",
                 size=13, weight="bold")
    for i in range(rows):
        for j in range(cols):
            shade = (37 * i + 11 * j) % 5
            body += (f'<rect x="{mx + j * cell}" y="{my + 6 + i * cell}" width="{cell}" height="{cell}" '
                     f'fill="{["#F2F2F2", "#DADADA", "#C2C2C2", "#A8A8A8", "#8E8E8E"][shade]}" stroke="white"/>\n')
    write_w, read_w = [0.05, 0.1, 0.7, 0.1, 0.03, 0.02], [0.02, 0.05, 0.08, 0.75, 0.08, 0.02]
    for i, (ww, rw) in enumerate(zip(write_w, read_w)):
        y = my + 6 + i * cell + 2
        body += (f'<rect x="{mx - 8 - 60 * ww}" y="{y}" width="{60 * ww}" height="{cell - 4}" fill="url(#hatch)" '
                 f'stroke="{ORANGE}"/>\n')
        body += (f'<rect x="{mx + cols * cell + 8}" y="{y}" width="{60 * rw}" height="{cell - 4}" fill="{GREEN}" '
                 f'stroke="{GREEN}"/>\n')
    body += text(mx - 40, my + 6 + rows * cell + 16, "write weighting (hatched)", size=11, anchor="middle")
    body += text(mx + cols * cell + 40, my + 6 + rows * cell + 16, "read weighting (solid)", size=11,
                 anchor="middle")
    body += arrow(195, 334, 240, 400, "", dashed=True, colour=ORANGE, width=2.5)
    body += text(160, 380, "erase, then add", size=12, anchor="end")
    body += text(160, 396, "(rows in proportion", size=11, anchor="end")
    body += text(160, 410, "to the write weighting)", size=11, anchor="end")
    body += arrow(mx + cols * cell + 30, 400, 565, 334, "", colour=GREEN, width=2.5)
    body += text(600, 380, "read vector r<tspan baseline-shift='sub' font-size='9'>t</tspan>", size=12,
                 anchor="start")
    body += text(600, 396, "= Σ w(i) M(i)", size=11, anchor="start")
    body += (f'<path d="M 700 290 C 745 290 745 170 532 167" fill="none" stroke="{GREEN}" stroke-width="2.5" '
             'marker-end="url(#arrow)"/>\n')
    body += text(742, 236, "r<tspan baseline-shift='sub' font-size='9'>t</tspan>", size=12, anchor="start")
    body += text(380, 522, "Order of a step: controller, head parameters, write (address M<tspan baseline-shift='sub' "
                 "font-size='9'>t-1</tspan>, erase, add), read (address M<tspan baseline-shift='sub' "
                 "font-size='9'>t</tspan>, read), output.", size=12)
    title = "A Neural Turing Machine, one time step (the paper's figure 1)"
    desc = ("A controller network takes the input x_t and the previous read vectors r_{t-1} and produces the "
            "output y_t and the parameters of every head. The write heads (orange boxes, dashed arrows, hatched "
            "weighting) address the memory from before the step with a key k, key strength beta, gate g, shift s "
            "and sharpening gamma, then erase and add. The read heads (green boxes, solid arrows, solid weighting) "
            "address the memory after the write and read a weighted sum of its rows, the read vector r_t, which "
            "goes to the output and back into the controller at the next step. The memory is drawn as a grid of "
            "N rows by M columns, with the write weighting on its left and the read weighting on its right.")
    return svg(760, 540, title, desc, body)


def example_weightings():
    """The four stages of the addressing pipeline on a 10-row example, computed by the library: ``{name: list}``."""
    torch.manual_seed(0)
    N, M = 10, 6
    memory = torch.randn(1, N, M, generator=torch.Generator().manual_seed(3))
    key = memory[:, 3] + 0.3 * torch.randn(1, M, generator=torch.Generator().manual_seed(4))
    w_prev = torch.zeros(1, N)
    w_prev[0, 6] = 1.0
    content = content_addressing(memory, key, torch.tensor([[4.0]]))
    gated = interpolate(content, w_prev, torch.tensor([[0.8]]))
    shifted = shift(gated, torch.tensor([[0.1, 0.2, 0.7]]))
    sharpened = sharpen(shifted, torch.tensor([[3.0]]))
    return {name: w[0].tolist() for name, w in (("previous", w_prev), ("content", content), ("gated", gated),
                                                   ("shifted", shifted), ("sharpened", sharpened))}


def bars(x, y, values, fill, width=120, height=52, label=""):
    """A small bar chart of a weighting (rows left to right), its baseline at ``y``."""
    step = width / len(values)
    out = f'<line x1="{x}" y1="{y}" x2="{x + width}" y2="{y}" stroke="{GREY}"/>\n'
    for i, v in enumerate(values):
        h = height * v
        out += (f'<rect x="{x + i * step + 1:.1f}" y="{y - h:.1f}" width="{step - 2:.1f}" height="{h:.1f}" '
                f'fill="{fill}" stroke="{GREY}" stroke-width="0.5"/>\n')
    if label:
        out += text(x + width / 2, y + 16, label, size=11)
    return out


def pipeline():
    """The paper's figure 2: the addressing pipeline, each stage's parameters above it, its weighting below."""
    w = example_weightings()
    sub = "<tspan baseline-shift='sub' font-size='9'>t</tspan>"
    subp = "<tspan baseline-shift='sub' font-size='9'>t-1</tspan>"
    stages = [("Content addressing", "eq. 5 (cosine, eq. 6)", (f"key k{sub}, strength β{sub} > 0", f"memory M{sub}"),
               "content", f"w<tspan baseline-shift='super' font-size='9'>c</tspan>{sub}", BLUE),
              ("Interpolation", "eq. 7", (f"gate g{sub} in (0, 1)",), "gated",
               f"w<tspan baseline-shift='super' font-size='9'>g</tspan>{sub}", SKY),
              ("Convolutional shift", "eq. 8", (f"shift s{sub}: offsets -1, 0, +1",), "shifted", f"w̃{sub}", PURPLE),
              ("Sharpening", "eq. 9", (f"sharpening γ{sub} ≥ 1",), "sharpened", f"w{sub}", VERMILLION)]
    body = text(460, 26, "Addressing: from a head's parameters to its weighting (eqs. 5-9)", size=17,
                weight="bold")
    x0, bw, gap = 10, 190, 30
    for i, (name, eq, params, key, symbol, colour) in enumerate(stages):
        x = x0 + i * (bw + gap)
        for j, line in enumerate(params):
            body += text(x + bw / 2, 58 - 15 * (len(params) - 1 - j), line, size=12)
        body += arrow(x + bw / 2, 64, x + bw / 2, 92)
        body += box(x, 94, bw, 56, "white", colour, [name, eq], size=13)
        if i < len(stages) - 1:
            body += arrow(x + bw + 2, 122, x + bw + gap - 2, 122)
            body += text(x + bw + gap / 2, 112, symbol, size=12)
        else:
            body += arrow(x + bw + 2, 122, x + bw + 26, 122)
            body += text(x + bw + 12, 112, symbol, size=12, anchor="start")
        body += bars(x + (bw - 150) / 2, 240, w[key], colour, width=150, height=70,
                     label=f"{symbol} (stage {i + 1}: {key})")
    interp_x = x0 + bw + gap
    body += text(interp_x + bw / 2, 300, f"previous weighting w{subp}", size=12)
    body += bars(interp_x + (bw - 150) / 2, 372, w["previous"], "url(#hatch)", width=150, height=50)
    body += (f'<path d="M {interp_x + bw - 14} 300 C {interp_x + bw + 10} 250 {interp_x + bw + 10} 200 '
             f'{interp_x + bw - 30} 152" fill="none" stroke="{GREY}" stroke-width="2" stroke-dasharray="7 5" '
             'marker-end="url(#arrow)"/>\n')
    body += text(460, 400, "Bars: the weight on each of 10 memory rows (left to right), computed by "
                 "ntm_course.addressing with β = 4, g = 0.8, s = (0.1, 0.2, 0.7), γ = 3.", size=12)
    body += text(460, 418, "Content finds the row like the key; the gate mixes in the last focus (row 6, hatched);",
                 size=12)
    body += text(460, 436, "the shift moves the focus one row on and blurs it; sharpening undoes the blur.", size=12)
    title = "The addressing pipeline (the paper's figure 2)"
    desc = ("Four stages from left to right, each a box with the parameter it takes written above it and the "
            "weighting it produces drawn below it as a bar chart over 10 memory rows. Content addressing (eq. 5) "
            "compares the key k with every memory row by cosine similarity, scaled by the key strength beta, and "
            "gives w^c. Interpolation (eq. 7) mixes w^c with the previous weighting w_{t-1} by the gate g, giving "
            "w^g; the previous weighting, focused on row 6, is drawn hatched below it. The convolutional shift "
            "(eq. 8) moves the weighting by the offsets -1, 0, +1 with the probabilities s, giving a blurred w "
            "tilde, one row further on. Sharpening (eq. 9) raises it to the power gamma and renormalises, giving "
            "the head's weighting w_t.")
    return svg(920, 450, title, desc, body)


def main():
    for name, draw in (("ntm_machine.svg", machine), ("addressing_pipeline.svg", pipeline)):
        (HERE / name).write_text(draw())
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
