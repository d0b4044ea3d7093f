"""The feedback page of one graded submission: each check's points, result, failing case and hint, as one
self-contained HTML file (``ntm-course-instructor grade --feedback DIR``), its reasons and reports cut to a sane
size whatever the submission printed or raised."""
import html
from pathlib import Path

from .submission import MAX_REASON, MAX_REPORT, points_text


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }}
.full {{ color: #176c2e; }} .lost {{ color: #a4262c; }}
pre {{ background: #f6f6f6; padding: .8rem; overflow-x: auto; white-space: pre-wrap; }}
</style></head><body>
<h1>{title}</h1>
<p>Assignment <b>{assignment}</b>: <b>{points} / {max_points}</b> points.</p>
<p>These scores were computed by the course's grader, outside your notebook: it ran your functions on its
own inputs and compared what they returned with the reference. Your notebook's own check cells were not used.</p>
<table><tr><th>check</th><th>points</th><th>result</th></tr>
{rows}
</table>
{reasons}
{details}
</body></html>
"""


def feedback_page(grade):
    """One self-contained HTML page: each check's points, result, failing case and hint."""
    e = html.escape
    rows, details = [], []
    for gid, max_points in grade.max_scores.items():
        points = grade.scores.get(gid, 0.0)
        full = points == max_points
        status = "full marks" if full else next((r.split(": ", 1)[1] for r in grade.reasons
                                                if r.startswith(f"{gid}: ")), "points lost")
        rows.append(f'<tr><td>{e(gid)}</td><td class="{"full" if full else "lost"}">{points_text(points)} / '
                    f'{points_text(max_points)}</td><td>{e(status)}</td></tr>')
        report = grade.reports.get(gid, "")[:MAX_REPORT]
        if report:
            details.append(f"<h2>{e(gid)}</h2>\n<pre>{e(report)}</pre>")
    general = [r[:MAX_REASON] for r in grade.reasons if not any(r.startswith(f"{g}: ") for g in grade.max_scores)]
    reasons = ("<ul>" + "".join(f"<li>{e(r)}</li>" for r in general) + "</ul>") if general else ""
    return PAGE.format(title=e(f"Feedback: {Path(grade.submission).name}"), assignment=e(grade.assignment or "?"),
                       points=points_text(grade.points), max_points=points_text(grade.max_points), rows="\n".join(rows),
                       reasons=reasons, details="\n".join(details))


def write_feedback(grade, folder, used):
    """Write ``grade``'s page into ``folder`` (a :class:`.safe_files.Folder`, made before any worker started) as
    ``<submission>.html`` (``-2``, ``-3``... when that name is in ``used``, the names written so far), never
    through a link; returns its path."""
    stem, n = Path(grade.submission).stem, 1
    name = f"{stem}.html"
    while name in used:
        n += 1
        name = f"{stem}-{n}.html"
    used.add(name)
    return Path(folder.write_text(name, feedback_page(grade)))
