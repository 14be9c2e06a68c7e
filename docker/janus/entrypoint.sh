#!/bin/sh
# Janus for Rapport: the secrets come from the environment, never from files in the image.
# JANUS_TOKEN_SECRET -> token_auth_secret and JANUS_ADMIN_KEY -> the VideoRoom admin_key, both written here.
set -eu
: "${JANUS_TOKEN_SECRET:?set JANUS_TOKEN_SECRET}"
: "${JANUS_ADMIN_KEY:?set JANUS_ADMIN_KEY}"
: "${JANUS_PUBLIC_IP:?set JANUS_PUBLIC_IP (the address browsers reach this host on)}"
config=/tmp/rapport-janus
mkdir -p "$config"
cp /etc/rapport-janus/janus.transport.http.jcfg "$config/"
# Janus 1.1.2 reads --token-auth-secret as a number, so the secret goes into the general section here.
sed "s|^general: {|general: {\n    token_auth = true\n    token_auth_secret = \"$JANUS_TOKEN_SECRET\"|" /etc/rapport-janus/janus.jcfg > "$config/janus.jcfg"
printf 'general: {\n    admin_key = "%s"\n    lock_rtp_forward = true\n}\n' "$JANUS_ADMIN_KEY" > "$config/janus.plugin.videoroom.jcfg"
exec janus --configs-folder="$config" --config="$config/janus.jcfg" \
  --nat-1-1="$JANUS_PUBLIC_IP" --rtp-port-range="${JANUS_RTP_PORTS:-20000-20200}"
