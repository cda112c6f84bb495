# The --secure parts of scripts/kafka.sh (sourced by it): a CA and a broker certificate made for
# the run with openssl, one SCRAM-SHA-512 user per service plus the admin, a SASL_SSL listener,
# an mTLS controller listener, the StandardAuthorizer, then the topics and ACLs as the admin.
#
# In DIR/secure (mode 700): ca.pem (the clients' KAFKA_SSL_CA_FILE), broker.pem (its key and
# certificate; the CA's key is deleted once it has signed it, so no other certificate can be
# made), and users/<user>.env (mode 600) with each user's KAFKA_* settings.
# shellcheck shell=bash

SECURE_USERS=(admin ingest detector classifier aggregator subscriber)

# Refuses to reuse data made in the other mode (a secure broker's data holds its SCRAM users).
check_mode() {
  SECURE_DIR="$DIR/secure"
  local want=plain; [ "$SECURE" = 1 ] && want=secure
  if [ "$FRESH" = 0 ] && [ -f "$DIR/data/meta.properties" ]; then
    local have=plain; [ -f "$SECURE_DIR/users/admin.env" ] && have=secure
    if [ "$have" != "$want" ]; then
      echo "kafka.sh: the data in $DIR belongs to a $have broker: add --fresh to start a $want one (its data is lost)" >&2
      exit 1
    fi
  fi
}

# The admin's password (for the broker's own inter-broker login).
admin_password() { sed -n 's/^KAFKA_SASL_PASSWORD=//p' "$SECURE_DIR/users/admin.env"; }

secure_material() {
  if [ -f "$SECURE_DIR/users/admin.env" ] && [ -f "$DIR/data/meta.properties" ]; then return 0; fi
  command -v openssl >/dev/null || { echo "kafka.sh: --secure needs openssl: apt-get install openssl" >&2; exit 1; }
  rm -rf "$SECURE_DIR"; mkdir -p "$DIR/logs"
  ( umask 077; mkdir -p "$SECURE_DIR/users" )
  local s="$SECURE_DIR"
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout "$s/ca.key" -out "$s/ca.pem" \
      -subj "/CN=emostream local CA $(date -u +%Y%m%dT%H%M%SZ)" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -keyout "$s/broker.key" -out "$s/broker.csr" -subj "/CN=emostream-broker"
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth,clientAuth" > "$s/broker.ext"
    openssl x509 -req -in "$s/broker.csr" -CA "$s/ca.pem" -CAkey "$s/ca.key" -CAcreateserial -days 30 \
      -extfile "$s/broker.ext" -out "$s/broker.crt"
  } > "$DIR/logs/openssl.log" 2>&1 || { echo "kafka.sh: making the certificates failed:" >&2; cat "$DIR/logs/openssl.log" >&2; exit 1; }
  # A PEM key store: the broker's key, then its certificate.
  ( umask 077; cat "$s/broker.key" "$s/broker.crt" > "$s/broker.pem" )
  rm -f "$s/ca.key" "$s/ca.srl" "$s/broker.key" "$s/broker.csr" "$s/broker.ext" "$s/broker.crt"
  chmod 644 "$s/ca.pem"
  local u pw
  for u in "${SECURE_USERS[@]}"; do
    pw="$(openssl rand -hex 24)"
    ( umask 077; printf '%s\n' "KAFKA_BROKERS=127.0.0.1:$PORT" "KAFKA_SSL=true" "KAFKA_SSL_CA_FILE=$s/ca.pem" \
        "KAFKA_SASL_MECHANISM=scram-sha-512" "KAFKA_SASL_USERNAME=emostream-$u" "KAFKA_SASL_PASSWORD=$pw" > "$s/users/$u.env" )
  done
}

# The listeners and security part of server.properties (the file is mode 600: it holds the
# admin's password, which the broker uses to log in to itself).
secure_listeners() {
  cat <<CONF
# Written by scripts/kafka.sh --secure: clients only over SASL_SSL (SCRAM-SHA-512); the
# controller listener takes only the broker's own certificate (mutual TLS).
listeners=SASL_SSL://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$PORT
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="emostream-admin" password="$(admin_password)";
ssl.keystore.type=PEM
ssl.keystore.location=$SECURE_DIR/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_DIR/ca.pem
listener.name.controller.ssl.client.auth=required
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:emostream-admin;User:CN=emostream-broker
CONF
}

# The storage tool's --add-scram arguments (written to its argument file, never to a command line).
scram_format_args() {
  local u pw
  for u in "${SECURE_USERS[@]}"; do
    pw="$(sed -n 's/^KAFKA_SASL_PASSWORD=//p' "$SECURE_DIR/users/$u.env")"
    printf '%s\n' --add-scram "\"SCRAM-SHA-512=[name=emostream-$u,password=$pw]\""
  done
}

# As the admin: the pipeline's topics for the prefix and every user's ACLs.
secure_setup() {
  ( cd "$ROOT" && node --import tsx scripts/kafka-secure.ts "$SECURE_DIR" "$TOPIC_PREFIX" ) 2> "$DIR/logs/secure-setup.log" \
    || { echo "kafka.sh: creating the topics and ACLs failed:" >&2; tail -20 "$DIR/logs/secure-setup.log" >&2; exit 1; }
  cat "$DIR/logs/secure-setup.log" >&2
  echo "users: $SECURE_DIR/users/{ingest,detector,classifier,aggregator,subscriber,admin}.env (set -a; . FILE; set +a)" >&2
}
