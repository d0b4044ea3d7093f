# A container for grading untrusted submissions with `ntm-course-instructor grade`, on top of the grader's own isolation.
#
#   docker build -t ntm-course-grader .
#   docker run --rm --network none --memory 8g --pids-limit 512 \
#       -v "$PWD/submissions:/submissions:ro" -v "$PWD/out:/out" \
#       ntm-course-grader --csv /out/gradebook.csv --feedback /out/feedback --jobs 4
#
# It grades every notebook in /submissions (more options after the image name go to `ntm-course-instructor grade`).
#
# The container holds only the course (CPU torch) and what you mount: no credentials, no network
# (--network none), bounded memory and processes. The grader runs as root inside it, so each submission's
# worker drops to its own unprivileged uid; each worker's private machine (bubblewrap: namespaces, a minimal
# filesystem) also needs `--cap-add SYS_ADMIN` (or a seccomp profile that allows namespaces) -- without it the
# grader prints a warning and relies on the container's own isolation.
FROM python:3.11-slim

RUN apt-get update && apt-get install -y --no-install-recommends util-linux bubblewrap && rm -rf /var/lib/apt/lists/*
WORKDIR /course
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY ntm_course ./ntm_course
COPY ntm_course_instructor ./ntm_course_instructor
COPY instructor ./instructor
COPY notebooks ./notebooks
COPY exercises ./exercises
COPY solutions ./solutions
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch \
    && pip install --no-cache-dir . ./instructor \
    && python -c "import ntm_course_instructor.grading.gradebook"
ENV OMP_NUM_THREADS=1 MPLBACKEND=Agg
WORKDIR /out
ENTRYPOINT ["sh", "-c", "exec ntm-course-instructor grade /submissions/*.ipynb \"$@\"", "grade"]
