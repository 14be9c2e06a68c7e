# syntax=docker/dockerfile:1
# Rapport's web service: Django (HTTP) and Channels (WebSockets) under uvicorn, static files served
# by WhiteNoise from the same process. docs/deploy.md explains the stack and every variable.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The service runs as this unprivileged user; the code and collected static files stay owned by root,
# so a compromised process cannot rewrite them.
RUN groupadd --system --gid 10001 rapport \
 && useradd --system --uid 10001 --gid rapport --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin rapport

# Dependencies first, so code changes do not reinstall them. Every wheel used has a manylinux build:
# no compiler is needed.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# collectstatic only imports the settings: these build-only values satisfy the production checks in
# backend/settings.py and exist in this RUN line alone, never in the image's environment.
RUN DEBUG=0 SECRET_KEY=build-only-collectstatic-not-a-secret EVALUATION_PSEUDONYM_KEY=build-only-not-a-secret \
    ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput -v0 \
 && chmod 0755 docker/entrypoint.sh

USER rapport
EXPOSE 8000

# Asks for the login page as the reverse proxy would (an allowed Host, X-Forwarded-Proto: https), so
# neither ALLOWED_HOSTS nor the HTTPS redirect turns a healthy service into a failed check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; h = next((x.strip().lstrip('.') for x in os.environ.get('ALLOWED_HOSTS', '').split(',') if x.strip() not in ('', '*')), 'localhost'); r.urlopen(r.Request('http://127.0.0.1:8000/login/', headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=4)"]

# Applies migrations, then runs the CMD.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
# WEB_CONCURRENCY: uvicorn worker processes (they share WebSocket rooms through REDIS_URL).
# FORWARDED_ALLOW_IPS: addresses whose X-Forwarded-For/-Proto uvicorn believes (the reverse proxy).
CMD ["sh", "-c", "exec uvicorn backend.asgi:application --host 0.0.0.0 --port 8000 --workers \"${WEB_CONCURRENCY:-4}\" --proxy-headers --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS:-127.0.0.1}\" --no-server-header"]
