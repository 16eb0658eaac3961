# One image for web (gunicorn), worker and beat; configured only by environment variables.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# The exact versions and hashes of requirements.lock (`make lock` refreshes it), then the project without deps.
COPY requirements.lock ./
RUN pip install --quiet --require-hashes -r requirements.lock
COPY . .
RUN pip install --quiet --no-deps -e .
COPY --from=assets /app/node_modules ./node_modules
# Settings refuse to load without SECRET_KEY and REDIS_URL when DEBUG is off; collectstatic connects to neither.
RUN SECRET_KEY=build-only REDIS_URL=redis://build-only python manage.py collectstatic --noinput -v0
RUN useradd --create-home csp && chown -R csp /app
USER csp
EXPOSE 8000
# --preload imports the app once before forking (csp/wsgi.py warms it up); gthread keeps SDK connections alive and
# overlaps the commit waits of /v1 calls. The same settings bench_ingest measures (docs/ingestion.md).
CMD ["gunicorn", "csp.wsgi:application", "--bind", "0.0.0.0:8000", "--preload", "--workers", "3", \
     "--worker-class", "gthread", "--threads", "4", "--access-logfile", "-"]
