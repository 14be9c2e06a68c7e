#!/bin/sh
# `make run`: start Debian's janus on loopback for group sessions, when it is installed. Prints the settings
# Rapport needs (eval them); prints nothing when janus is not installed, so groups say "not available".
# Development only: secrets are generated once into var/janus/ and Janus listens on 127.0.0.1:8188.
set -eu
command -v janus >/dev/null 2>&1 || exit 0
here=$(cd "$(dirname "$0")" && pwd)
dir=var/janus
mkdir -p "$dir"
[ -f "$dir/secrets" ] || printf 'token=%s\nkey=%s\n' "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$dir/secrets"
token=$(sed -n 's/^token=//p' "$dir/secrets"); key=$(sed -n 's/^key=//p' "$dir/secrets")
sed "s|^general: {|general: {\n    token_auth = true\n    token_auth_secret = \"$token\"|" "$here/janus.jcfg" > "$dir/janus.jcfg"
sed -e 's/^    port = 8088/    port = 8188\n    ip = "127.0.0.1"/' -e 's|^cors: {|cors: {\n    allow_origin = "http://127.0.0.1:8000"|' \
  "$here/janus.transport.http.jcfg" > "$dir/janus.transport.http.jcfg"
printf 'general: {\n    admin_key = "%s"\n}\n' "$key" > "$dir/janus.plugin.videoroom.jcfg"
if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then kill "$(cat "$dir/pid")"; sleep 1; fi
janus --configs-folder="$dir" --config="$dir/janus.jcfg" \
  --rtp-port-range=20000-20200 --log-file="$dir/janus.log" --disable-colors >/dev/null 2>&1 &
echo $! > "$dir/pid"
echo "export JANUS_SERVERS=http://127.0.0.1:8188/janus JANUS_TOKEN_SECRET=$token JANUS_ADMIN_KEY=$key"
