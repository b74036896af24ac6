# SPDX-License-Identifier: GPL-3.0-or-later
# A TURN server (coturn's turnserver) in a network namespace, for the
# relay's test (tests/nat/relay_nat.sh) and benchmark (bench/relay.sh).
# Sourced; defines:
#   bf_turnserver NS IP REALM USER PASS DIR [MIN_PORT MAX_PORT]
#     writes DIR/turn.conf (UDP only, long-term credentials USER:PASS in
#     REALM, fingerprints, no TLS/DTLS/CLI/RFC 5780, relays on IP, logs in
#     DIR), starts turnserver in NS in the background and waits (5 s at most)
#     until it listens on IP:3478. Its pid is in TURN_PID; returns 1 when it
#     does not listen by then (the caller says so and cleans up).

bf_turnserver() {
  local ns=$1 ip=$2 realm=$3 user=$4 pass=$5 dir=$6 min=${7:-} max=${8:-}
  {
    echo "listening-ip=$ip"
    echo "relay-ip=$ip"
    echo "listening-port=3478"
    [ -n "$min" ] && echo "min-port=$min"
    [ -n "$max" ] && echo "max-port=$max"
    printf '%s\n' no-tls no-dtls no-cli no-rfc5780 fingerprint lt-cred-mech
    echo "realm=$realm"
    echo "user=$user:$pass"
    echo "userdb=$dir/turn.db"
    echo "pidfile=$dir/turn.pid"
    echo "log-file=$dir/turn.log"
    printf '%s\n' simple-log no-stdout-log
  } > "$dir/turn.conf"
  ip netns exec "$ns" turnserver -c "$dir/turn.conf" > /dev/null 2>&1 &
  TURN_PID=$!
  for _ in $(seq 100); do
    ip netns exec "$ns" ss -lun 2> /dev/null | grep -q "$ip:3478" && return 0
    sleep 0.05
  done
  return 1
}
