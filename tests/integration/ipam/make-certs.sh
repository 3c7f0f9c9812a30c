#!/usr/bin/env bash
# Test PKI for the etcd TLS tests: a CA, a server certificate for IP 127.0.0.1 (no DNS name, so
# "localhost" must fail host verification), a client certificate, and a second CA nobody trusts.
set -euo pipefail
dir=$1
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
ca() {
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=$1" 2>/dev/null
}
leaf() {  # name ca extensions
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 2 \
    -extfile "$1.ext" 2>/dev/null
}
ca ca
ca other-ca
leaf server ca $'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'
leaf client ca 'extendedKeyUsage=clientAuth'
leaf stranger other-ca 'extendedKeyUsage=clientAuth'
