#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, static quorum) on 127.0.0.1 for development and
# tests, run from Maven Central's jars with Java 17: no Docker, no download site but Maven Central.
#
#   scripts/kafka.sh start  [--port 9092] [--dir DIR] [--version 3.9.1] [--fresh] [--secure [--topic-prefix P]] [--extra-listener PORT:ADVERTISED]
#   scripts/kafka.sh stop   [--port 9092] [--dir DIR]
#   scripts/kafka.sh status [--port 9092] [--dir DIR]
#   scripts/kafka.sh fetch  [--version 3.9.1]
#
# The jars are cached under .cache/kafka/<version>/lib (git-ignored). The broker's data, config,
# log and pid file live in DIR (default .cache/kafka/run-<port>); a restart keeps the data unless
# --fresh is given. The controller listens on port+1. `start` prints KAFKA_BROKERS=127.0.0.1:<port>.
# --secure: SASL_SSL only (SCRAM-SHA-512), a CA and broker certificate made for the run, the
# StandardAuthorizer with one user per service (ACLs of packages/kafka/src/access.ts), the
# pipeline's topics created for the prefix; `start` also prints KAFKA_SECURE_DIR=<dir>, whose
# users/<user>.env hold each user's KAFKA_* settings (mode 600). See packages/kafka/README.md.
# --extra-listener PORT:ADVERTISED (plaintext only): a second listener on PORT that tells its
# clients the broker is at 127.0.0.1:ADVERTISED, where a TCP proxy forwards to PORT (the fault
# suite's network partitions: only the clients given ADVERTISED go through the proxy).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/kafka/secure.sh
. "$ROOT/scripts/kafka/secure.sh"
CMD="${1:-}"
shift || true
PORT="${KAFKA_PORT:-9092}"
VERSION="${KAFKA_VERSION:-3.9.1}"
DIR=""
FRESH=0
SECURE=0
EXTRA_LISTENER=""
TOPIC_PREFIX="${EMOSTREAM_TOPIC_PREFIX:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    --version) VERSION="$2"; shift 2 ;;
    --fresh) FRESH=1; shift ;;
    --secure) SECURE=1; shift ;;
    --topic-prefix) TOPIC_PREFIX="$2"; shift 2 ;;
    --extra-listener) EXTRA_LISTENER="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "kafka.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$PORT" in ''|*[!0-9]*) echo "kafka.sh: --port must be a number, got '$PORT'" >&2; exit 2 ;; esac
case "$EXTRA_LISTENER" in ''|[0-9]*:[0-9]*) ;; *) echo "kafka.sh: --extra-listener takes PORT:ADVERTISED_PORT, got '$EXTRA_LISTENER'" >&2; exit 2 ;; esac
CONTROLLER_PORT=$((PORT + 1))
DIR="${DIR:-$ROOT/.cache/kafka/run-$PORT}"
LIB="$ROOT/.cache/kafka/$VERSION/lib"
PIDFILE="$DIR/broker.pid"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fetch() {
  if [ -f "$LIB/kafka_2.13-$VERSION.jar" ]; then return 0; fi
  command -v mvn >/dev/null || { echo "kafka.sh: Maven (mvn) is needed to fetch Kafka's jars: apt-get install maven" >&2; exit 1; }
  command -v java >/dev/null || { echo "kafka.sh: Java 17 is needed: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
  echo "fetching org.apache.kafka:kafka_2.13:$VERSION and its dependencies from Maven Central" >&2
  local profile=()
  # Kafka 4 logs through log4j2 and brings its own binding; 3.x needs an slf4j binding (reload4j).
  case "$VERSION" in 3.*) ;; *) profile=(-P '!reload4j') ;; esac
  rm -rf "$LIB.tmp"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" "${profile[@]}" -Dkafka.version="$VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB.tmp"
  rm -rf "$LIB" && mv "$LIB.tmp" "$LIB"
}

write_config() {
  mkdir -p "$DIR/data" "$DIR/logs"
  if [ "$SECURE" = 1 ]; then
    secure_listeners > "$DIR/server.properties"
    chmod 600 "$DIR/server.properties"
  else
    local listeners="PLAINTEXT://127.0.0.1:$PORT" advertised="PLAINTEXT://127.0.0.1:$PORT" map="PLAINTEXT:PLAINTEXT"
    if [ -n "$EXTRA_LISTENER" ]; then
      listeners="$listeners,PROXIED://127.0.0.1:${EXTRA_LISTENER%%:*}"
      advertised="$advertised,PROXIED://127.0.0.1:${EXTRA_LISTENER##*:}"
      map="$map,PROXIED:PLAINTEXT"
    fi
    cat > "$DIR/server.properties" <<EOF
# Written by scripts/kafka.sh: a single-node KRaft broker+controller for development and tests.
listeners=$listeners,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=$advertised
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$map,CONTROLLER:PLAINTEXT
EOF
  fi
  cat >> "$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
log.dirs=$DIR/data
# One node: every internal topic has replication factor 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# The default 50 partitions of __consumer_offsets take seconds to create on 2 cores.
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4
# Tests start and stop consumers often: no 3 s wait before the first rebalance.
group.initial.rebalance.delay.ms=0
# Topics are created by the services with their partition count; a typo must not create one.
auto.create.topics.enable=false
num.partitions=1
# JPEG frames are ~50-150 KB and kafkajs puts one send()'s messages for a partition in one
# record batch: allow 16 MiB batches (the producer also caps the bytes per send).
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
# Small segments so the compacted aggregator-state topic is cleaned in tests, too.
log.segment.bytes=67108864
log.cleaner.backoff.ms=5000
log.retention.hours=24
EOF
  cat > "$DIR/log4j.properties" <<EOF
log4j.rootLogger=WARN, file
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$DIR/logs/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

# What start prints on stdout; a secure broker also gets its topics and ACLs for the prefix.
started() {
  if [ "$SECURE" = 1 ]; then secure_setup; echo "KAFKA_SECURE_DIR=$SECURE_DIR"; fi
  echo "KAFKA_BROKERS=127.0.0.1:$PORT"
}

start() {
  check_mode
  if pid="$(running_pid)"; then
    echo "kafka already running (pid $pid) on 127.0.0.1:$PORT" >&2
    started
    return 0
  fi
  if port_open "$PORT" || port_open "$CONTROLLER_PORT"; then
    echo "kafka.sh: port $PORT or $CONTROLLER_PORT is already in use by another process: pick another with --port" >&2
    exit 1
  fi
  fetch
  [ "$FRESH" = 1 ] && rm -rf "$DIR"
  [ "$SECURE" = 1 ] && secure_material
  write_config
  local cp="$LIB/*"
  if [ ! -f "$DIR/data/meta.properties" ]; then
    local cluster_id
    # 16 random bytes, base64url, as Kafka's own random-uuid; one that starts with '-' would be
    # read as an option by the storage tool (1 start in 64 failed so), so draw again.
    cluster_id="$(node -e "const c=require('node:crypto');let id;do id=c.randomBytes(16).toString('base64url');while(id.startsWith('-'));process.stdout.write(id)")"
    # The SCRAM users' passwords go in through a Java argument file (mode 600, removed after):
    # never on a command line that `ps` shows.
    local args="$DIR/format.args"
    ( umask 077; printf '"%s"\n' -Xmx256m -cp "$cp" "-Dlog4j.configuration=file:$DIR/log4j.properties" \
        kafka.tools.StorageTool format -t "$cluster_id" -c "$DIR/server.properties" > "$args"
      if [ "$SECURE" = 1 ]; then scram_format_args >> "$args"; fi )
    java "@$args" > "$DIR/logs/format.log" 2>&1 \
      || { rm -f "$args"; echo "kafka.sh: formatting the storage failed:" >&2; tail -20 "$DIR/logs/format.log" >&2; exit 1; }
    rm -f "$args"
  fi
  # Serial GC and a capped heap: the broker shares a small machine with the services under test.
  nohup java -Xms128m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$DIR/log4j.properties" -Dkafka.logs.dir="$DIR/logs" \
    -cp "$cp" kafka.Kafka "$DIR/server.properties" > "$DIR/logs/stdout.log" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$PIDFILE"
  # The port opens 3-4 s after start on an idle machine; allow much more on a busy one.
  local waited=0
  until port_open "$PORT"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "kafka.sh: the broker exited during start-up:" >&2
      tail -20 "$DIR/logs/stdout.log" "$DIR/logs/server.log" 2>/dev/null >&2 || true
      rm -f "$PIDFILE"
      exit 1
    fi
    if [ "$waited" -ge 1200 ]; then
      echo "kafka.sh: the broker did not open port $PORT within 120 s; stopping it" >&2
      stop; exit 1
    fi
    sleep 0.1; waited=$((waited + 1))
  done
  echo "kafka $VERSION started (pid $pid) on 127.0.0.1:$PORT, data in $DIR" >&2
  started
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "kafka not running (no live pid in $PIDFILE)" >&2
    rm -f "$PIDFILE"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  # A clean shutdown writes the logs' end offsets (fast recovery on the next start): give it 30 s.
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka did not stop within 30 s of SIGTERM: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  echo "kafka stopped (pid $pid)" >&2
}

status() {
  local pid
  if pid="$(running_pid)" && port_open "$PORT"; then
    echo "kafka running (pid $pid) on 127.0.0.1:$PORT"
  elif pid="$(running_pid)"; then
    echo "kafka starting or unhealthy (pid $pid), port $PORT closed"; exit 1
  else
    echo "kafka not running"; exit 3
  fi
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  fetch) fetch; echo "$LIB" ;;
  *) echo "usage: scripts/kafka.sh start|stop|status|fetch [--port P] [--dir D] [--version V] [--fresh] [--secure [--topic-prefix P]] [--extra-listener PORT:ADVERTISED]" >&2; exit 2 ;;
esac
