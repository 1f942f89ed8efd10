# FlashFlow Workers: one image for migrate, worker and scheduler (docker-compose.yml).
FROM python:3.11-slim-bookworm

# ffmpeg: audio extraction and probing of fetched videos; tini: PID 1 that forwards SIGTERM and
# reaps the ffmpeg children a killed stage leaves behind.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg tini \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md schedules.yaml ./
COPY flashflow_core ./flashflow_core
COPY jobs ./jobs
COPY workers ./workers
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 flashflow \
    && mkdir -p /var/lib/flashflow/storage \
    && chown -R flashflow /var/lib/flashflow

USER flashflow
ENV FLASHFLOW_HOME=/var/lib/flashflow \
    FLASHFLOW_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
ENTRYPOINT ["tini", "--", "flashflow"]
CMD ["worker"]
