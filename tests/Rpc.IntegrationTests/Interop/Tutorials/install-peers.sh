#!/usr/bin/env bash
# Installs what the tutorial peers need (README.md beside this file): Debian's Go with amqp091-go, the RabbitMQ Java
# client and pika, then amqplib from npm with the versions package-lock.json pins. Called by ./build.sh test, so a
# clean machine (CI) gets them; does nothing that is already there.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[tutorial peers] %s\n' "$*" >&2; }

missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
[ -d /usr/share/gocode/src/github.com/rabbitmq/amqp091-go ] || missing+=(golang-github-rabbitmq-amqp091-go-dev)
[ -f /usr/share/java/amqp-client.jar ] || missing+=(librabbitmq-client-java)
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
/usr/bin/python3 -c 'import pika' 2>/dev/null || missing+=(python3-pika)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The tutorial interop tests need: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -d "$HERE/node/node_modules/amqplib" ]; then
  log "installing amqplib from npm"
  (cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
