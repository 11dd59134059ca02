# restore-bot: the Slack bot that restores Pinecone indexes, as one container.
#
#   docker build -t restore-bot .
#   docker run -d --name restore-bot --env-file .env -p 3000:3000 -v restore-bot-data:/data restore-bot
#
# Settings come from the environment (README, "Settings"); none are baked into the image.
# The job store lives on the /data volume: keep it across upgrades, and run one container per store.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged user: numeric so that orchestrators can verify "runAsNonRoot".
RUN groupadd --system --gid 10001 restorebot \
 && useradd --system --uid 10001 --gid restorebot --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin restorebot

# Only what the package needs (README.md is its long description); tests and tooling stay out.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install . \
 && rm -rf /src \
 && mkdir -p /data \
 && chown restorebot:restorebot /data

# The job store. A relative DATABASE_URL would also land here, as this is the working directory.
ENV DATABASE_URL=sqlite:////data/restore-bot.sqlite3 \
    PORT=3000
VOLUME ["/data"]
WORKDIR /data

USER 10001:10001
EXPOSE 3000

# slim has no curl: ask /healthz with Python (no proxy; 503 while draining, so not healthy).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]

# Exec form: the bot is PID 1 and gets SIGTERM itself; it drains in-flight work for up to 20 s,
# so stop it with `docker stop -t 30` (compose: stop_grace_period).
CMD ["python", "-m", "bot"]
