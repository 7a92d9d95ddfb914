#!/usr/bin/env bash
# bench/load.sh: proxykit side by side with nginx, HAProxy and Undertow's own ProxyHandler,
# all on 127.0.0.1, measured with wrk in interleaved rounds. See bench/README.md.
#
#   bench/load.sh                 # default: 2 rounds of 3s runs, under 10 minutes
#   ROUNDS=5 DURATION=10s bench/load.sh
#
# Installs what it needs from Debian packages (wrk, nginx, haproxy) when missing (as root).
set -euo pipefail

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-3s}
CONNECTIONS=${CONNECTIONS:-"1 16 64 256"}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d /tmp/proxykit-bench.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx-backend.pid" ] && kill "$(cat "$work/nginx-backend.pid")" 2>/dev/null || true
  [ -f "$work/nginx-proxy.pid" ] && kill "$(cat "$work/nginx-proxy.pid")" 2>/dev/null || true
}
trap cleanup EXIT

say() { printf '%s\n' "$*" >&2; }

# --- tools ------------------------------------------------------------------------------
missing=()
for tool in wrk nginx haproxy; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian packages"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

# --- content: a 1 KiB and a 10 MiB file, and a body to upload ---------------------------
mkdir -p "$work/www" "$work/logs"
head -c 1024 /dev/urandom > "$work/www/small"
head -c $((10 * 1024 * 1024)) /dev/urandom > "$work/www/big"
chmod 755 "$work" "$work/www" && chmod 644 "$work/www/small" "$work/www/big"   # nginx workers run unprivileged
cat > "$work/upload.lua" <<EOF
wrk.method = "POST"
local f = io.open("$work/www/big", "rb")
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"
EOF

DIRECT=18200 NGINX=18201 HAPROXY=18202 UNDERTOW=18203 EXACT=18204 APP=18205 CHAIN=18206 MIDDLEWARE=18207 SPAWN=18208
SINK=18209 HOPS=18210
JAVA_OPTS=${JAVA_OPTS:-"-Xmx128m"}   # the JVM proxies' heap: the RSS target is 256 MiB in all

# --- the backend: nginx serving the files and accepting (discarding) uploads ------------
nginx_conf() {  # name port body
  cat > "$work/$1.conf" <<EOF
worker_processes 1;
daemon on;
pid $work/$1.pid;
error_log $work/logs/$1.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_max_body_size 64m;
  client_body_buffer_size 16m;
  $3
}
EOF
}
# /upload reads the whole body (buffered in memory) before it answers, through an internal sink,
# so an upload counts only when every byte has arrived
nginx_conf nginx-backend $DIRECT "server { listen 127.0.0.1:$DIRECT; root $work/www;
    location /upload { proxy_pass http://127.0.0.1:$SINK; proxy_request_buffering on; } }
  server { listen 127.0.0.1:$SINK; location / { return 200 'ok'; } }"
nginx -c "$work/nginx-backend.conf"

# --- reference proxies ---------------------------------------------------------------------
nginx_conf nginx-proxy $NGINX "upstream backend { server 127.0.0.1:$DIRECT; keepalive 64; }
  server { listen 127.0.0.1:$NGINX; location / { proxy_pass http://backend; proxy_http_version 1.1;
    proxy_set_header Connection ''; proxy_request_buffering off; proxy_buffering off; } }"
nginx -c "$work/nginx-proxy.conf"

cat > "$work/haproxy.cfg" <<EOF
global
  maxconn 4000
defaults
  mode http
  timeout connect 10s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend front
  bind 127.0.0.1:$HAPROXY
  default_backend back
backend back
  http-reuse always
  server s1 127.0.0.1:$DIRECT
EOF
haproxy -f "$work/haproxy.cfg" -D -p "$work/haproxy.pid"
pids+=("$(cat "$work/haproxy.pid")")

# Undertow's built-in reverse proxy (ProxyHandler + LoadBalancingProxyClient), built here
# from Maven Central: a dozen lines of harness, compiled and run from source.
mkdir -p "$work/undertow"
cat > "$work/undertow/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>bench</groupId><artifactId>undertow-proxy</artifactId><version>1</version>
<dependencies><dependency><groupId>io.undertow</groupId><artifactId>undertow-core</artifactId>
<version>$(sed -n 's:.*<undertow.version>\(.*\)</undertow.version>.*:\1:p' "$root/pom.xml")</version></dependency></dependencies></project>
EOF
(cd "$work/undertow" && mvn -B -q dependency:build-classpath -Dmdep.outputFile=cp.txt >/dev/null)
cat > "$work/undertow/UndertowProxy.java" <<'EOF'
import io.undertow.Undertow;
import io.undertow.server.handlers.proxy.LoadBalancingProxyClient;
import io.undertow.server.handlers.proxy.ProxyHandler;
import java.net.URI;

public class UndertowProxy {
  public static void main(String[] args) throws Exception {
    LoadBalancingProxyClient client = new LoadBalancingProxyClient().addHost(new URI(args[1]))
        .setConnectionsPerThread(64).setMaxQueueSize(4096);
    Undertow.builder().addHttpListener(Integer.parseInt(args[0]), "127.0.0.1")
        .setHandler(ProxyHandler.builder().setProxyClient(client).setMaxRequestTime(60000).build())
        .setWorkerThreads(200).build().start();
  }
}
EOF
java $JAVA_OPTS -cp "$(cat "$work/undertow/cp.txt")" "$work/undertow/UndertowProxy.java" $UNDERTOW "http://127.0.0.1:$DIRECT" \
  > "$work/logs/undertow.log" 2>&1 &
pids+=($!)

# --- proxykit, in each mode -----------------------------------------------------------------
"$root/proxykit" --version >/dev/null
jar="$(ls "$root"/proxy-undertow/target/proxy-undertow-*-cli.jar | head -n 1)"
head -c 48 /dev/urandom | base64 > "$work/secret.key"
proxykit_run() {  # name yaml
  printf '%s\n' "$2" > "$work/$1.yaml"
  java $JAVA_OPTS -jar "$jar" serve --config "$work/$1.yaml" --log-level warn > "$work/logs/$1.log" 2>&1 &
  pids+=($!)
  eval "pid_$1=$!"
}
server() { printf 'server: { listen: 127.0.0.1:%s, accessLog: off, http2: false }\n' "$1"; }
proxykit_run exact "$(server $EXACT)
mounts: [ { path: /, handler: { type: exact, upstream: 'http://127.0.0.1:$DIRECT' } } ]"
proxykit_run app "$(server $APP)
mounts: [ { path: /, handler: { type: app, href: 'http://127.0.0.1:$DIRECT' } } ]"
proxykit_run middleware "$(server $MIDDLEWARE)
mounts: [ { path: /, handler: { type: middleware, trust: { hmacSecretFile: '$work/secret.key' },
  next: { type: exact, upstream: 'http://127.0.0.1:$DIRECT' } } } ]"
proxykit_run chain "$(server $CHAIN)
mounts: [ { path: /, handler: { type: app, href: 'http://127.0.0.1:$MIDDLEWARE', signing: { hmacSecretFile: '$work/secret.key' } } } ]"
# two plain exact hops: what any two proxy hops cost here, to read the signed chain against
proxykit_run hops "$(server $HOPS)
mounts: [ { path: /, handler: { type: exact, upstream: 'http://127.0.0.1:$EXACT' } } ]"
cat > "$work/spawned.tpl" <<EOF
worker_processes 1; daemon off; pid $work/spawned-__P__.pid; error_log $work/logs/spawned.error.log warn;
events { worker_connections 4096; }
http { access_log off; sendfile on; keepalive_requests 1000000; client_max_body_size 64m;
  client_body_buffer_size 16m; server { listen 127.0.0.1:__P__; root $work/www; location /upload { proxy_pass http://127.0.0.1:$SINK; } } }
EOF
proxykit_run spawn "$(server $SPAWN)
mounts: [ { path: /, handler: { type: spawn, name: nginx, idleShutdown: 3s, command: [sh, -c, 'sed s/__P__/\$PORT/g $work/spawned.tpl > $work/spawned-\$PORT.conf && exec nginx -c $work/spawned-\$PORT.conf'] } } ]"

wait_for() {  # port [expected status, default 200]
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/small")" = "${2:-200}" ] && return 0
    sleep 0.1
  done
  say "nothing answers on port $1"; exit 1
}
for port in $DIRECT $NGINX $HAPROXY $UNDERTOW $EXACT $APP $CHAIN $HOPS; do wait_for $port; done
wait_for $MIDDLEWARE 401   # it refuses what is not signed: listening is enough
# server start to first answered request, one JVM alone
start_ns=$(date +%s%N)
java $JAVA_OPTS -jar "$jar" serve --listen 127.0.0.1:18297 --echo --log-level warn > /dev/null 2>&1 &
echo_pid=$!
wait_for 18297
first_answer_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
kill $echo_pid
# spawn cold start: the very first one (proxykit's own code still cold), then one after an
# idle stop (the case users meet: proxykit has been running, the backend was stopped for idling)
spawn_start_ns=$(date +%s%N)
wait_for $SPAWN
spawn_first_ms=$(( ($(date +%s%N) - spawn_start_ns) / 1000000 ))
for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$SPAWN/small"; done
sleep 5   # idleShutdown is 3s
spawn_start_ns=$(date +%s%N)
wait_for $SPAWN
spawn_cold_ms=$(( ($(date +%s%N) - spawn_start_ns) / 1000000 ))
nginx_cold_ns=$(date +%s%N)
sed "s/__P__/18299/g" "$work/spawned.tpl" | sed 's/daemon off;/daemon on;/' > "$work/cold.conf"
nginx -c "$work/cold.conf"; wait_for 18299
nginx_cold_ms=$(( ($(date +%s%N) - nginx_cold_ns) / 1000000 ))
kill "$(cat "$work/spawned-18299.pid")" 2>/dev/null || true

# --- measurement ------------------------------------------------------------------------------
targets="direct:$DIRECT nginx:$NGINX haproxy:$HAPROXY undertow:$UNDERTOW exact:$EXACT app:$APP hops:$HOPS chain:$CHAIN spawn:$SPAWN"
results="$work/results.tsv"
: > "$results"
for round in $(seq 1 "$ROUNDS"); do
  say "round $round of $ROUNDS"
  for target in $targets; do
    name=${target%%:*} port=${target##*:}
    for c in $CONNECTIONS; do
      threads=$(( c < 2 ? c : 2 ))   # wrk needs at least one connection per thread
      out=$(wrk -t"$threads" -c"$c" -d"$DURATION" --latency "http://127.0.0.1:$port/small" 2>&1 || true)
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
      p99=$(awk '$1=="99%" {print $2}' <<<"$out")
      errors=$(awk '/Socket errors|Non-2xx/ {for (i=1;i<=NF;i++) if ($i ~ /^[0-9]+,?$/) s+=$i} END {print s+0}' <<<"$out")
      [ -n "$rps" ] || { say "wrk failed on $name c=$c: $out"; rps=0; }
      printf '%s\t%s\tsmall-c%s\trps\t%s\n%s\t%s\tsmall-c%s\tp99\t%s\n%s\t%s\tsmall-c%s\terrors\t%s\n' \
        "$round" "$name" "$c" "$rps" "$round" "$name" "$c" "$p99" "$round" "$name" "$c" "$errors" >> "$results"
    done
    out=$(wrk -t2 -c4 -d"$DURATION" "http://127.0.0.1:$port/big" 2>&1 || true)
    printf '%s\t%s\tdownload\tMiBps\t%s\n' "$round" "$name" "$(awk '/Requests\/sec/ {printf "%.1f", $2 * 10}' <<<"$out")" >> "$results"
    out=$(wrk -t2 -c4 -d"$DURATION" -s "$work/upload.lua" "http://127.0.0.1:$port/upload" 2>&1 || true)
    printf '%s\t%s\tupload\tMiBps\t%s\n' "$round" "$name" "$(awk '/Requests\/sec/ {printf "%.1f", $2 * 10}' <<<"$out")" >> "$results"
  done
done

rss() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
{
  printf 'rss\tnginx-proxy-worker\t%s\n' "$(rss "$(pgrep -P "$(cat "$work/nginx-proxy.pid")" | head -n 1)")"
  printf 'rss\thaproxy\t%s\n' "$(rss "$(cat "$work/haproxy.pid")")"
  for name in exact app hops chain spawn; do eval "printf 'rss\t%s\t%s\n' $name \"\$(rss \$pid_$name)\""; done
  printf 'rss\tmiddleware\t%s\n' "$(rss "$pid_middleware")"
  printf 'startup\tproxykit-first-answer-ms\t%s\n' "$first_answer_ms"
  printf 'startup\tspawn-first-start-ms\t%s\n' "$spawn_first_ms"
  printf 'startup\tspawn-cold-start-ms\t%s\n' "$spawn_cold_ms"
  printf 'startup\tnginx-alone-start-ms\t%s\n' "$nginx_cold_ms"
} > "$work/extra.tsv"

python3 "$root/bench/report.py" "$results" "$work/extra.tsv" "$ROUNDS" "$DURATION" "$CONNECTIONS"
say "raw results: $results"
