# Apache Kafka: a single-node KRaft broker (controller+broker) on 127.0.0.1:9092 run from the
# broker jars on Maven Central (scripts/kafka/pom.xml), cached in $SLUICE_SERVICES_DIR/kafka.
# KAFKA_BROKERS overrides (comma-separated host:port); then nothing is started, only checked.
#
# Layout of $SLUICE_SERVICES_DIR/kafka: jars/ (classpath), data/ (log dirs), server.properties,
# log4j2.properties, kafka.pid, server.log (broker log) and stdout.log.

kafka_dir() { echo "$SLUICE_SERVICES_DIR/kafka"; }

# Java command on the broker classpath (also used by tests for the console consumer).
kafka_java() {
  java -Xmx256m -Dlog4j2.configurationFile="$(kafka_dir)/log4j2.properties" -cp "$(kafka_dir)/jars/*" "$@"
}

kafka_check() {
  local first="${KAFKA_BROKERS:-127.0.0.1:9092}"; first="${first%%,*}"
  local host="${first%:*}" port="${first##*:}"
  # The port answering is cheap to check; the API-versions round trip proves the broker serves.
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null || return 1
  if [ -d "$(kafka_dir)/jars" ]; then
    kafka_java org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$first" 2>/dev/null | grep -q 'Produce'
  fi
}

# Downloads the jars once; a complete download is marked so an interrupted one is redone.
kafka_fetch() {
  local dir; dir="$(kafka_dir)"
  local pom="$SLUICE_ROOT/scripts/kafka/pom.xml"
  local stamp; stamp="$(sha256sum "$pom" | cut -c1-16)"
  [ -f "$dir/jars/.complete-$stamp" ] && return 0
  command -v java >/dev/null || { echo "services: kafka needs java (17+)" >&2; return 1; }
  command -v mvn >/dev/null || { echo "services: kafka needs mvn to fetch the broker jars" >&2; return 1; }
  rm -rf "$dir/jars"
  mvn -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir/jars" >"$dir/mvn.log" 2>&1 || {
    tail -30 "$dir/mvn.log" >&2; return 1
  }
  touch "$dir/jars/.complete-$stamp"
}

kafka_configure() {
  local dir; dir="$(kafka_dir)"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:9092
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
EOF
  cat >"$dir/log4j2.properties" <<EOF
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = warn
logger.apache.name = org.apache.kafka
logger.apache.level = warn
EOF
}

kafka_up() {
  # The jars are fetched even when a broker already answers: tests run Kafka's own tools from them.
  mkdir -p "$(kafka_dir)"
  kafka_fetch
  kafka_check && return 0
  if [ -n "${KAFKA_BROKERS:-}" ] && [ "${KAFKA_BROKERS}" != "127.0.0.1:9092" ]; then
    echo "services: KAFKA_BROKERS=$KAFKA_BROKERS does not answer" >&2; return 1
  fi
  local dir; dir="$(kafka_dir)"
  mkdir -p "$dir"
  kafka_fetch
  kafka_configure
  # A broker we started earlier may still be booting: wait for it rather than start a second one.
  if [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
    wait_for kafka 90 kafka_check && return 0
    echo "services: kafka (pid $(cat "$dir/kafka.pid")) runs but does not answer; see $dir/server.log" >&2
    return 1
  fi
  if [ ! -f "$dir/data/meta.properties" ]; then
    rm -rf "$dir/data"
    local cluster_id
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid)"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >/dev/null
  fi
  # setsid: the broker outlives this shell and is not killed with its process group.
  setsid nohup java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir" \
    -cp "$dir/jars/*" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
  wait_for kafka 90 kafka_check || { tail -20 "$dir/stdout.log" "$dir/server.log" >&2 || true; return 1; }
  kafka_warm_up
}

# A fresh broker creates __consumer_offsets on the first consumer-group request and answers
# "coordinator loading" until it is ready: have one group join now, before any test does.
kafka_warm_up() {
  kafka_java org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server 127.0.0.1:9092 \
    --topic __sluice_warm_up --group sluice-warm-up --from-beginning --timeout-ms 5000 >/dev/null 2>&1 || true
}
