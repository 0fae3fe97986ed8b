FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/bot.sqlite3 PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 resident \
    && mkdir -p /data && chown resident /data

WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY migrations ./migrations
COPY config ./config
COPY surveys ./surveys
RUN pip install -e . \
    && pybabel compile -d bot/i18n/locales -D messages

USER resident
VOLUME ["/data"]
CMD ["sh", "-c", "resident-bot migrate && exec resident-bot run"]
