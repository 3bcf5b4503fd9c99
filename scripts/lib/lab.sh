# What scripts/health-check and scripts/chaos share for the lab: its ports, finding the process
# that listens on a port, and the requests they make (all to 127.0.0.1, each limited to 5 s).
# Sourced, not run.

LAB_REDIS_PORT=${DEMO_REDIS_PORT:-6379}
LAB_USER_PORT=${DEMO_USER_PORT:-5001}
LAB_ORDER_PORT=${DEMO_ORDER_PORT:-5002}
LAB_DASHBOARD_PORT=${DEMO_DASHBOARD_PORT:-8080}

# lab_port_option NAME VALUE: sets a port from --redis-port, --user-port, ... or fails.
lab_port_option() {
  case "$2" in
    '' | *[!0-9]*) echo "$1 needs a port number, not '$2'" >&2; exit 2 ;;
  esac
  case "$1" in
    --redis-port) LAB_REDIS_PORT=$2 ;;
    --user-port) LAB_USER_PORT=$2 ;;
    --order-port) LAB_ORDER_PORT=$2 ;;
    --dashboard-port) LAB_DASHBOARD_PORT=$2 ;;
  esac
}

LAB_PORT_HELP='  --redis-port N, --user-port N, --order-port N, --dashboard-port N
                 where the lab listens (default: DEMO_REDIS_PORT, DEMO_USER_PORT, ...
                 or 6379, 5001, 5002, 8080, as `demo lab` uses them)'

# lab_pid PORT: the pid of the process listening on 127.0.0.1:PORT, empty if none.
lab_pid() {
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2
}

# lab_status URL: the HTTP status of GET URL, 000 when there was no answer.
lab_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true
}

# lab_create_order: the HTTP status of one POST /create_order for user 1.
lab_create_order() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
    -H 'content-type: application/json' -d '{"user_id":1,"product":"health-check"}' \
    "http://127.0.0.1:$LAB_ORDER_PORT/create_order" || true
}

# lab_alive NAME: whether the named part answers: redis PING, the others GET /health.
lab_alive() {
  case "$1" in
    redis) [ "$(redis-cli -p "$LAB_REDIS_PORT" PING 2>/dev/null)" = PONG ] ;;
    user) [ "$(lab_status "http://127.0.0.1:$LAB_USER_PORT/health")" = 200 ] ;;
    order) [ "$(lab_status "http://127.0.0.1:$LAB_ORDER_PORT/health")" = 200 ] ;;
    dashboard) [ "$(lab_status "http://127.0.0.1:$LAB_DASHBOARD_PORT/health")" = 200 ] ;;
  esac
}

# lab_port NAME: the port of a part of the lab.
lab_port() {
  case "$1" in
    redis) echo "$LAB_REDIS_PORT" ;;
    user) echo "$LAB_USER_PORT" ;;
    order) echo "$LAB_ORDER_PORT" ;;
    dashboard) echo "$LAB_DASHBOARD_PORT" ;;
  esac
}

# lab_now_ms: milliseconds since the epoch.
lab_now_ms() {
  date +%s%3N
}
