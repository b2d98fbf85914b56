#!/usr/bin/env bash
# `make demo`: start the lab (its Active Directory, its Okta emulator and its
# Microsoft Graph emulator) and a Cordon server on all three, with the embedded SQLite store, and print the URL and
# an admin token. Ctrl-C stops them all. State lives in .cordon/ (delete it to
# start over).
set -euo pipefail
BUILD=${1:-build}
CORDON="$PWD/$BUILD/src/cli/cordon"
STATE="$PWD/.cordon"
LAB="$STATE/lab"
DEMO="$STATE/demo"
PORT=${CORDON_DEMO_PORT:-8443}

"$CORDON" lab up --dir "$LAB"
trap '"$CORDON" lab down --dir "$LAB" >/dev/null 2>&1 || true' EXIT

mkdir -p "$DEMO"
chmod 700 "$DEMO"
if [ ! -f "$DEMO/server.pem" ]; then
  # The server's certificate, signed by the lab's CA, so clients verify it.
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$DEMO/server.key" -out "$DEMO/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$DEMO/server.ext"
  openssl x509 -req -in "$DEMO/server.csr" -CA "$LAB/ca/ca.pem" -CAkey "$LAB/ca/ca.key" -CAcreateserial \
    -days 30 -extfile "$DEMO/server.ext" -out "$DEMO/server.pem" 2>/dev/null
  chmod 600 "$DEMO/server.key"
fi
{
  printf '# Written by scripts/demo.sh for the lab; see docs/configuration.md.\n'
  printf '[server]\naddress = "127.0.0.1"\nport = %s\ntls_cert_file = "server.pem"\ntls_key_file = "server.key"\n\n' "$PORT"
  printf '[store]\npath = "cordon.db"\n\n[log]\nformat = "text"\nfile = "cordon.log"\n\n'
  "$CORDON" lab config --dir "$LAB"
} > "$DEMO/cordon.toml"

if [ ! -s "$DEMO/admin.token" ]; then
  (umask 077; "$CORDON" token create --config "$DEMO/cordon.toml" --role global_administrator --name demo-admin \
     > "$DEMO/admin.token")
fi

cat <<BANNER

  Cordon is running on the lab's Active Directory, its Okta emulator and its Entra ID (Graph) emulator.

  URL:         https://127.0.0.1:$PORT/api/v1/actions
  Console:     https://127.0.0.1:$PORT/console/   (sign in with the admin token; the browser must trust the CA file)
  CA file:     $LAB/ca/ca.pem
  Admin token: $(cat "$DEMO/admin.token")   (also in $DEMO/admin.token)
  Log:         $DEMO/cordon.log

  Try, in another terminal:
    export CORDON_SERVER=https://127.0.0.1:$PORT CORDON_CA_FILE=$LAB/ca/ca.pem CORDON_TOKEN_FILE=$DEMO/admin.token
    $BUILD/src/cli/cordon act disable alice.adams --provider ad --reason "phishing: INC-1234"
    $BUILD/src/cli/cordon act suspend alice.adams@corp.example.test --provider okta --reason "phishing: INC-1234"
    $BUILD/src/cli/cordon act revoke_sessions alice.adams@corp.example.test --provider okta --reason "phishing: INC-1234"
    $BUILD/src/cli/cordon act suspend alice.adams@corp.example.test --provider entra --also-on-prem --reason "phishing: INC-1234"
    $BUILD/src/cli/cordon act mark_compromised alice.adams@corp.example.test --provider entra --reason "phishing: INC-1234"
    $BUILD/src/cli/cordon connectors check
    $BUILD/src/cli/cordon actions list
    curl --cacert \$CORDON_CA_FILE -H "Authorization: Bearer \$(cat \$CORDON_TOKEN_FILE)" https://127.0.0.1:$PORT/api/v1/actions

  Ctrl-C stops the server and the lab.

BANNER
"$CORDON" serve --config "$DEMO/cordon.toml"
