# ml-connector: the bot, the poller and the notifier in one process (python app.py serve).

# Stage 1: compile the page reader (intacct/_fastpage.pyx) against the very lxml the app runs with.
FROM python:3.11-slim AS fastpage
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt requirements-build.txt ./
RUN pip install --no-cache-dir -r requirements.txt -r requirements-build.txt
COPY intacct ./intacct
RUN python -m intacct._fastpage_build --require

# Stage 2: the app, without a compiler.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/app/data \
    PORT=3978

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

# A non-root user owns only the data directory (SQLite file, master key file: mode 0600 inside).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin mlc \
    && mkdir -p /app/data && chown mlc /app/data && chmod 700 /app/data
COPY --chown=root:root app.py settings.py ./
COPY --chown=root:root intacct ./intacct
COPY --from=fastpage --chown=root:root /app/intacct/_fastpage.cpython-311-*.so ./intacct/
COPY --chown=root:root poller ./poller
COPY --chown=root:root store ./store
COPY --chown=root:root cards ./cards
COPY --chown=root:root bot ./bot
COPY --chown=root:root graph ./graph
COPY --chown=root:root observability ./observability
COPY --chown=root:root ops ./ops
COPY --chown=root:root sandbox ./sandbox
COPY --chown=root:root appPackage ./appPackage

USER mlc
VOLUME ["/app/data"]
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3978\")}/healthz', timeout=4)" || exit 1
CMD ["python", "app.py", "serve"]
