#!/bin/sh
# Registers the two example clients for docker-compose.yml (profile
# "examples") and leaves their settings in /shared for the apps:
#   /shared/rp-client.json   client id and secret of the web app (as printed
#                            by `gatehouse clients create --json`)
#   /shared/spa-config.json  issuer and client id of the single-page app
# It runs once per volume: delete the volume (docker compose down -v) to
# register them again.
set -eu

gatehouse migrate

if [ ! -s /shared/rp-client.json ]; then
	gatehouse clients create --name "Example app" \
		--redirect-uri http://localhost:5555/callback \
		--post-logout-redirect-uri http://localhost:5555/signed-out \
		--backchannel-logout-uri http://localhost:5555/backchannel-logout \
		--json >/shared/rp-client.json.tmp
	mv /shared/rp-client.json.tmp /shared/rp-client.json
	echo "registered the example web app"
fi

if [ ! -s /shared/spa-config.json ]; then
	id="$(gatehouse clients create --name "Example SPA" --public \
		--redirect-uri http://localhost:5173/callback \
		--post-logout-redirect-uri http://localhost:5173/signed-out \
		--json | sed -n 's/.*"client_id": *"\([^"]*\)".*/\1/p')"
	[ -n "$id" ] || { echo "could not register the SPA" >&2; exit 1; }
	printf '{"issuer": "%s", "client_id": "%s"}\n' "$GATEHOUSE_ISSUER" "$id" >/shared/spa-config.json
	echo "registered the example SPA"
fi
chmod 0644 /shared/rp-client.json /shared/spa-config.json
