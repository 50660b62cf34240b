# syntax=docker/dockerfile:1
# Targets: `app` (default: granian, or gunicorn with WEB_SERVER=gunicorn; also runs celery
# worker/beat and the one-shot migrate) and `nginx` (nginx.conf + the collected static files).
# docker-compose.yml builds both.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- dependencies: binary wheels (psycopg[binary], hiredis), so no compiler in any image -------
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

# --- the project on top of the dependencies ----------------------------------------------------
FROM ${PYTHON_IMAGE} AS base
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=etrainer.settings.production \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/app/var/media \
    BACKUP_DIR=/app/var/backups
RUN groupadd --system --gid 10001 etrainer \
 && useradd --system --uid 10001 --gid etrainer --home-dir /app --shell /usr/sbin/nologin etrainer
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY . /app
# The compiled message catalogs (not committed): Babel, from requirements.txt.
RUN pybabel compile -d locale -D django

# --- static files, collected once at build (production settings need a key to import) ---------
FROM base AS static
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput --verbosity 0

# --- nginx: Debian bookworm's package, the same nginx deploy/tests/test_nginx.py runs -----------
FROM debian:bookworm-slim AS nginx
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log
COPY nginx.conf /etc/nginx/nginx.conf
COPY deploy/nginx/*.conf /etc/nginx/etrainer/
COPY --from=static /app/staticfiles /srv/etrainer/static
EXPOSE 80 443
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
    CMD curl -fsS http://127.0.0.1/nginx-health || exit 1
CMD ["nginx", "-g", "daemon off;"]

# --- the app (default target) ------------------------------------------------------------------
FROM base AS app
COPY --from=static /app/staticfiles /app/staticfiles
# Mount points of the compose volumes (media, backups): a new named volume copies this ownership.
# Not /app/media: that is the media app's code.
RUN mkdir -p /app/var/media /app/var/backups \
 && chown -R etrainer:etrainer /app/var
USER etrainer
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "manage.py", "healthcheck"]
# etrainer/serve.py: granian, one worker per core (GRANIAN_*), crashed workers respawned, graceful
# shutdown on SIGTERM; WEB_SERVER=gunicorn runs gunicorn.conf.py (GUNICORN_*) instead.
CMD ["python", "-m", "etrainer.serve"]
