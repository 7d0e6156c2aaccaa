#!/bin/sh
# make-ca.sh DIR - a test CA and a server certificate signed by it, for wss tests.
#
# Creates in DIR (made if missing):
#   ca.pem, ca.key          the CA ("wsc test CA"), EC P-256, valid 30 days
#   server.pem, server.key  CN=localhost, subjectAltName DNS:localhost,
#                           IP:127.0.0.1, IP:::1; signed by the CA
#   server-chain.pem        server.pem followed by ca.pem
# Idempotent: does nothing when all files exist, the certificate still has a
# day to go, and it verifies against the CA. Needs the openssl CLI and flock.
set -eu
dir=${1:?usage: make-ca.sh DIR}
mkdir -p "$dir"
cd "$dir"

# One writer at a time (parallel tests may all ask for the same directory).
exec 9>.make-ca.lock
flock 9

if [ -s ca.pem ] && [ -s ca.key ] && [ -s server.pem ] && [ -s server.key ] && [ -s server-chain.pem ] &&
   openssl x509 -in server.pem -noout -checkend 86400 >/dev/null 2>&1 &&
   openssl verify -CAfile ca.pem server.pem >/dev/null 2>&1; then
  exit 0
fi

# Write into a scratch directory and move into place, so readers that do not
# take the lock never see a half-written file.
tmp=$(mktemp -d "./.make-ca.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(
  cd "$tmp"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.pem -days 30 -subj "/CN=wsc test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
  cat > server.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out server.pem -days 30 -extfile server.ext 2>/dev/null
  cat server.pem ca.pem > server-chain.pem
  openssl verify -CAfile ca.pem server.pem >/dev/null
)
# Keys first, certificates last: a reader that finds server-chain.pem finds all.
for f in ca.key server.key ca.pem server.pem server-chain.pem; do mv -f "$tmp/$f" "./$f"; done
