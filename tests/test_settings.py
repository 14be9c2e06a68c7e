"""Settings come from the environment: embedded defaults for development, refusal without secrets in production."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "EVALUATION_PSEUDONYM_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "rapport.example.nhs.uk",
    "HTTPS": "1",
    "CSRF_TRUSTED_ORIGINS": "https://rapport.example.nhs.uk",
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "backend.settings", **env}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def settings_seen(env: dict[str, str]) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'], "
        "'cache': s.CACHES['default']['BACKEND'], 'hsts': s.SECURE_HSTS_SECONDS, 'hasher': s.PASSWORD_HASHERS[0], 'debug': s.DEBUG}))"
    )
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_no_environment_at_all_it_runs_embedded():
    seen = settings_seen({})
    assert seen["debug"] is True and seen["hsts"] == 0
    assert seen["db"] == "django.db.backends.sqlite3"
    assert seen["layer"] == "channels.layers.InMemoryChannelLayer"
    assert seen["cache"].endswith("LocMemCache")
    assert seen["hasher"].endswith("Argon2PasswordHasher")


def test_redis_url_switches_to_the_redis_channel_layer_and_postgres_url_to_postgresql():
    seen = settings_seen({**PRODUCTION, "REDIS_URL": "redis://127.0.0.1:6379/9", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"})
    assert seen["layer"] == "backend.core.channel_layers.BoundedRedisPubSubChannelLayer"  # channels_redis pub/sub, bounded per consumer
    assert seen["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert seen["db"] == "django.db.backends.postgresql"
    assert seen["hsts"] == 31_536_000


def test_a_configured_database_turns_debug_off_by_default():
    result = run(["manage.py", "check"], {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test", "ALLOWED_HOSTS": "x"})
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_the_pseudonym_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "EVALUATION_PSEUDONYM_KEY"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0 and "EVALUATION_PSEUDONYM_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0 and "ALLOWED_HOSTS is not set" in result.stderr


def test_turn_urls_without_a_secret_are_refused():
    result = run(["manage.py", "check"], {**PRODUCTION, "TURN_URLS": "turn:turn.example.nhs.uk:3478"})
    assert result.returncode != 0 and "TURN_SECRET" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_security_headers_are_sent(db, client):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp


def test_hsts_is_sent_over_https_in_production(db, client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000  # as HTTPS=1 sets it
    response = client.get("/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
