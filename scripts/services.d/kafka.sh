# Apache Kafka 4.x in KRaft mode, one combined broker + controller (127.0.0.1:59092 / :59093, or
# CHATTALK_KAFKA_PORT / CHATTALK_KAFKA_CONTROLLER_PORT). With CHATTALK_KAFKA_PROXIED_PORT and
# CHATTALK_KAFKA_PROXIED_ADVERTISED (host:port) the broker has a second listener whose clients are
# told to reconnect to the advertised address: a TCP fault proxy in front of it stays in the path.
# The broker jars and their runtime dependencies come from Maven Central through
# scripts/kafka/pom.xml, cached per pom content so a fresh clone reuses them.

KAFKA_PORT=${CHATTALK_KAFKA_PORT:-59092}
KAFKA_CONTROLLER_PORT=${CHATTALK_KAFKA_CONTROLLER_PORT:-59093}
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
KAFKA_DIR="$DATA_DIR/kafka"
KAFKA_POM="$REPO/scripts/kafka/pom.xml"

kafka_port() { echo "$KAFKA_PORT"; }
kafka_log() { echo "$LOG_DIR/kafka.log"; }
kafka_cmdline_marker() { echo "kafka.Kafka"; }
kafka_stop_signal() { echo TERM; }

kafka_missing_packages() {
  command -v java >/dev/null || echo openjdk-17-jre-headless
  command -v mvn >/dev/null || echo maven
  command -v unzip >/dev/null || echo unzip
}

kafka_libs() { echo "$CACHE_DIR/kafka/libs-$(sha256sum "$KAFKA_POM" | cut -c1-16)"; }

# Copies the jars into a temporary folder and renames it into place, under a lock, so two clones
# starting at once neither download twice nor see half a folder.
kafka_fetch_libs() {
  local libs tmp
  libs=$(kafka_libs)
  [ -f "$libs/.complete" ] && return 0
  mkdir -p "$CACHE_DIR/kafka"
  (
    flock 8
    [ -f "$libs/.complete" ] && exit 0
    say kafka "resolving $(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM") jars from Maven Central into $libs"
    tmp=$(mktemp -d "$CACHE_DIR/kafka/.fetch.XXXXXX")
    if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" -Dmaven.repo.local="$CACHE_DIR/m2" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >>"$(kafka_log)" 2>&1; then
      rm -rf "$tmp"
      exit 1
    fi
    # The storage tool is a Scala class inside kafka_2.13, not a separate tools jar. unzip looks for the
    # entry itself: `unzip -l | grep -q` failed now and then under pipefail (grep quits, unzip gets SIGPIPE).
    if ! unzip -l "$tmp"/kafka_2.13-*.jar kafka/tools/StorageTool.class >/dev/null 2>&1; then
      echo "kafka.tools.StorageTool is not in $(ls "$tmp"/kafka_2.13-*.jar)" >>"$(kafka_log)"
      rm -rf "$tmp"
      exit 1
    fi
    touch "$tmp/.complete"
    rm -rf "$libs"
    mv "$tmp" "$libs"
  ) 8>"$CACHE_DIR/kafka/.lock" || { fail kafka "resolving the Kafka jars with Maven failed"; return 1; }
}

kafka_java() {
  local libs
  libs=$(kafka_libs)
  java -Dkafka.logs.dir="$LOG_DIR" -Dlog4j2.configurationFile="$REPO/scripts/kafka/log4j2.xml" \
    -cp "$libs/*" "$@"
}

# scripts/kafka/server.properties with this set's log folder and ports filled in.
kafka_properties() {
  local proxied=()
  if [ -n "${CHATTALK_KAFKA_PROXIED_PORT:-}" ]; then
    proxied+=(
      -e "s|^listeners=.*|&,PROXIED://127.0.0.1:$CHATTALK_KAFKA_PROXIED_PORT|"
      -e "s|^advertised.listeners=.*|&,PROXIED://${CHATTALK_KAFKA_PROXIED_ADVERTISED:?with CHATTALK_KAFKA_PROXIED_PORT}|"
      -e "s|^listener.security.protocol.map=.*|&,PROXIED:PLAINTEXT|"
    )
  fi
  sed -e "s|@KAFKA_LOG_DIRS@|$KAFKA_DIR/data|" -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" "${proxied[@]}" "$REPO/scripts/kafka/server.properties"
}

kafka_prepare() {
  kafka_fetch_libs || return 1
  mkdir -p "$KAFKA_DIR/data"
  kafka_properties >"$KAFKA_DIR/server.properties"
  [ -f "$KAFKA_DIR/data/meta.properties" ] && return 0
  say kafka "formatting storage in $KAFKA_DIR/data"
  local cluster_id
  cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$(kafka_log)") &&
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" \
      >>"$(kafka_log)" 2>&1 ||
    { fail kafka "kafka.tools.StorageTool format failed"; return 1; }
}

kafka_start() {
  launch kafka java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$LOG_DIR" -Dlog4j2.configurationFile="$REPO/scripts/kafka/log4j2.xml" \
    -cp "$(kafka_libs)/*" kafka.Kafka "$KAFKA_DIR/server.properties"
}

# A real metadata request through kafkajs (the client the app uses), not just an open port.
kafka_healthy() { port_open "$KAFKA_PORT" && probe kafka "$KAFKA_BROKERS"; }
