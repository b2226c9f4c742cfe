# Shared paths and helpers for scripts/services. Sourced, never run. Every service file defines
#   <svc>_port (for status), <svc>_prepare (install/build/configure), <svc>_start (launch + write
#   the pid file), <svc>_healthy (one real request, exit 0 when it answers), <svc>_log,
#   <svc>_cmdline_marker (a word its command line contains, so a recycled pid is not taken for it),
#   and <svc>_stop_signal.
#
# A second, private set (the fault suite's) runs beside the default one with its own folder and
# ports: CHATTALK_SERVICES_DIR for data, logs and pids, and CHATTALK_<SVC>_PORT for each port (see
# the service files). Unset, every path and port is the default one.

SERVICES_DIR="${CHATTALK_SERVICES_DIR:-$REPO/.services}"
RUN_DIR="$SERVICES_DIR/run"
LOG_DIR="$SERVICES_DIR/logs"
DATA_DIR="$SERVICES_DIR/data"
CACHE_DIR="${CHATTALK_CACHE:-${HOME:-/root}/.cache/chattalk}"
BUN="$REPO/node_modules/.bin/bun"

say() { printf '[services] %-9s %s\n' "$1" "$2" >&2; }

pid_file() { echo "$RUN_DIR/$1.pid"; }

# The pid recorded for a service, printed only when that process is alive and is still the service.
running_pid() {
  local svc=$1 file pid
  file=$(pid_file "$svc")
  [ -s "$file" ] || return 1
  pid=$(head -n1 "$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$("${svc}_cmdline_marker")" || return 1
  echo "$pid"
}

# Runs a long-lived service process in its own session, appending to its log, and records its pid.
# fd 9 is closed for it: that descriptor holds the checkout lock, which must not outlive `up`.
launch() {
  local svc=$1
  shift
  setsid "$@" >>"$("${svc}_log")" 2>&1 </dev/null 9>&- &
  record_pid "$svc" $!
}

# Records a pid that was just launched, after checking it really is the service (not a shell that
# forked it away), so `down` can stop exactly it.
record_pid() {
  local svc=$1 pid=$2
  echo "$pid" >"$(pid_file "$svc")"
  # Looked at again while the process lives: nginx writes its own pid to the same file, which is empty
  # for a moment while it does, and a busy machine caught that moment (a CI run failed on it).
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    sleep 0.2
    running_pid "$svc" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
  done
  fail "$svc" "process $pid exited right after it was started"
  return 1
}

# The service ports lie inside Linux's ephemeral range (32768-60999), so a busy test run's outgoing
# connections can take one as their local port and make the service's bind fail. Reserving them
# keeps the kernel from handing them out. Best effort: a container may forbid the write.
# Ports below the range need no reservation (a private set picks those, so it changes nothing system-wide).
reserve_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports current wanted low high port inside=()
  read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || return 0
  for port in "$@"; do ((port >= low && port <= high)) && inside+=("$port"); done
  [ "${#inside[@]}" -gt 0 ] || return 0
  wanted=$(IFS=,; echo "${inside[*]}")
  current=$(cat "$file" 2>/dev/null) || return 0
  [ "$current" = "$wanted" ] && return 0
  echo "${current:+$current,}$wanted" 2>/dev/null >"$file" ||
    say services "could not reserve ports $wanted in $file; a bind may collide with a client port"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Fails when something that is not ours already listens on one of the service's ports.
ports_free() {
  local svc=$1 port
  shift
  for port in "$@"; do
    if port_open "$port"; then
      fail "$svc" "port $port on 127.0.0.1 is already taken by a process this checkout did not start"
      return 1
    fi
  done
}

fail() {
  local svc=$1 message=$2 log
  log=$("${svc}_log")
  {
    echo "[services] $svc FAILED: $message"
    echo "[services] $svc log: $log"
    if [ -s "$log" ]; then
      echo "[services] $svc last lines of the log:"
      tail -n 30 "$log" | sed 's/^/    /'
    fi
  } >&2
}

# Polls one real request until it answers, the process dies, or the bounded timeout runs out.
wait_healthy() {
  local svc=$1 timeout=$2 started=$SECONDS pid
  while ((SECONDS - started < timeout)); do
    if "${svc}_healthy" >/dev/null 2>&1; then
      say "$svc" "healthy (pid $(running_pid "$svc" || echo '?'), port $("${svc}_port"), ${SECONDS}s into this run)"
      return 0
    fi
    if ! pid=$(running_pid "$svc"); then
      fail "$svc" "the process exited before it answered a health check"
      return 1
    fi
    sleep 0.5
  done
  fail "$svc" "no healthy answer within ${timeout}s (pid $pid is still running)"
  return 1
}

# Stops one service by its recorded pid and waits for it to exit (killing it after 60 s).
stop_service() {
  local svc=$1 pid waited=0
  if ! pid=$(running_pid "$svc"); then
    rm -f "$(pid_file "$svc")"
    say "$svc" "not running"
    return 0
  fi
  say "$svc" "stopping pid $pid"
  kill "-$("${svc}_stop_signal")" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= 600)); then
      say "$svc" "pid $pid ignored the stop signal for 60s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$(pid_file "$svc")"
  say "$svc" "stopped"
}

# Installs the Debian packages named, when any is missing, with one `apt-get update` first.
# A temporary policy-rc.d keeps the packages from starting their own system-wide daemons:
# this script runs private instances on its own ports instead.
apt_install() {
  [ "$#" -gt 0 ] || return 0
  say apt "installing: $*"
  local policy=/usr/sbin/policy-rc.d made_policy=0 status=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 || status=$?
  [ "$made_policy" = 1 ] && rm -f "$policy"
  if [ "$status" -ne 0 ]; then
    say apt "apt-get install $* failed (exit $status)"
    return 1
  fi
  disable_boot_start "$@"
}

# Debian enables a daemon package's system-wide service at boot; this project never uses those
# (it runs private instances on its own ports), so the ones it just installed are disabled again.
disable_boot_start() {
  local pkg unit
  for pkg in "$@"; do
    case "$pkg" in
    postgresql) unit=postgresql ;;
    redis-server) unit=redis-server ;;
    nginx-light) unit=nginx ;;
    *) continue ;;
    esac
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
      systemctl disable --quiet "$unit" 2>/dev/null || true
    elif command -v update-rc.d >/dev/null; then
      update-rc.d "$unit" disable >/dev/null 2>&1 || true
    fi
    say apt "$unit: not started at boot (this project runs its own instance)"
  done
}

# Bun runs the Kafka and MongoDB health probes (scripts/services.d/health.ts) with the project's
# own kafkajs and mongodb packages, so a fresh clone needs its npm dependencies first.
ensure_bun() {
  [ -x "$BUN" ] && return 0
  if ! command -v npm >/dev/null; then apt_install nodejs npm || return 1; fi
  say npm "installing the project's npm dependencies (npm ci) for the health probes"
  (cd "$REPO" && npm ci --no-audit --no-fund >&2) || return 1
  [ -x "$BUN" ] || { say npm "npm ci finished but $BUN is missing"; return 1; }
}

probe() { "$BUN" "$REPO/scripts/services.d/health.ts" "$@"; }
