# Shared by Scripts/e2e-openai-client and Scripts/load-test (sourced, not run).
# Starts `encoder serve` on a free loopback port and waits until /health says 200.

# The encoder binary: $ENCODER_BIN, else the release build (built here if missing).
encoder_binary() {
  if [ -n "${ENCODER_BIN:-}" ]; then echo "$ENCODER_BIN"; return; fi
  local bin
  bin="$(swift build -c release --show-bin-path)/encoder"
  if [ ! -x "$bin" ]; then swift build -c release --product encoder >&2; fi
  echo "$bin"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server LOGFILE ARGS... : sets SERVER_PID and PORT; fails if not healthy within 120 s.
start_server() {
  local log=$1; shift
  PORT=$(free_port)
  "$ENCODER" serve "$@" --host 127.0.0.1 --port "$PORT" 2>"$log" &
  SERVER_PID=$!
  for _ in $(seq 1 240); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "http://127.0.0.1:$PORT/health" 2>/dev/null; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "server exited early:" >&2; cat "$log" >&2; return 1; fi
    sleep 0.5
  done
  echo "server not healthy after 120 s" >&2; cat "$log" >&2; return 1
}

# stop_server: SIGTERM, then the exit status must be 0 within 60 s.
stop_server() {
  kill -TERM "$SERVER_PID"
  local status=0
  for _ in $(seq 1 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.5
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "server did not stop within 60 s of SIGTERM" >&2; kill -KILL "$SERVER_PID"; return 1
  fi
  wait "$SERVER_PID" || status=$?
  SERVER_PID=""
  return "$status"
}
