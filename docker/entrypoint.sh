#!/bin/sh
# Container entrypoint: bring the database schema up to date, then become the command (uvicorn by
# default), so it runs as PID 1 and receives the stop signal directly. Migrations run once per
# container start, before uvicorn forks its workers.
set -eu

python manage.py migrate --noinput

exec "$@"
