# FlashFlow Workers: one image for migrate, worker, scheduler and console (docker-compose.yml).
# Every Python package comes from uv.lock, hashes checked: a build never resolves versions afresh.
# The transcription image for GPU hosts is Dockerfile.gpu.
FROM python:3.11-slim-bookworm

# ffmpeg: audio extraction and probing of fetched videos; tini: PID 1 that forwards SIGTERM and
# reaps the ffmpeg children a killed stage leaves behind.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg tini \
    && rm -rf /var/lib/apt/lists/*

# uv installs exactly what uv.lock lists; --frozen refuses to re-resolve, so a lock that no longer
# matches pyproject.toml fails the build instead of drifting.
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_PROJECT_ENVIRONMENT=/opt/flashflow \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
# Third-party packages first, in a layer that changes only with the lock; the deno extra is the
# JavaScript runtime yt-dlp needs for YouTube.
RUN uv sync --frozen --no-install-project --extra deno
COPY schedules.yaml ./
COPY flashflow_core ./flashflow_core
COPY flashflow_console ./flashflow_console
COPY jobs ./jobs
COPY workers ./workers
RUN uv sync --frozen --no-editable --extra deno \
    && useradd --create-home --uid 10001 flashflow \
    && mkdir -p /var/lib/flashflow/storage /var/lib/flashflow/models \
    && chown -R flashflow /var/lib/flashflow

USER flashflow
ENV PATH=/opt/flashflow/bin:$PATH \
    FLASHFLOW_HOME=/var/lib/flashflow \
    FLASHFLOW_SCHEDULES_FILE=/app/schedules.yaml \
    FLASHFLOW_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
ENTRYPOINT ["tini", "--", "flashflow"]
CMD ["worker"]
