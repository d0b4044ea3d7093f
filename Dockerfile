# A container for grading untrusted submissions with `ntm-course grade`, on top of the grader's own isolation.
#
#   docker build -t ntm-course-grader .
#   docker run --rm --network none --memory 8g --pids-limit 512 \
#       -v "$PWD/submissions:/submissions:ro" -v "$PWD/out:/out" \
#       ntm-course-grader --csv /out/gradebook.csv --feedback /out/feedback --jobs 4
#
# It grades every notebook in /submissions (more options after the image name go to `ntm-course grade`).
#
# The container holds only the course (CPU torch) and what you mount: no credentials, no network
# (--network none), bounded memory and processes. The grader runs as root inside it, so each submission's
# worker drops to its own unprivileged uid; per-worker network/mount/PID namespaces also need
# `--cap-add SYS_ADMIN` (or a seccomp profile that allows unshare) -- without it the grader prints a warning
# and relies on the container's own isolation.
FROM python:3.11-slim

RUN apt-get update && apt-get install -y --no-install-recommends util-linux && rm -rf /var/lib/apt/lists/*
WORKDIR /course
COPY pyproject.toml README.md ./
COPY ntm_course ./ntm_course
COPY solutions ./solutions
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch \
    && pip install --no-cache-dir -e '.[grading]' \
    && python -c "import ntm_course.teaching.grading.gradebook"
ENV OMP_NUM_THREADS=1 MPLBACKEND=Agg
WORKDIR /out
ENTRYPOINT ["sh", "-c", "exec ntm-course grade --source /course/solutions /submissions/*.ipynb \"$@\"", "grade"]
