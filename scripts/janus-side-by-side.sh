#!/usr/bin/env bash
# Quorum's SFU and Janus 1.1 (VideoRoom) side by side, driven by the same load generator (room_load):
# the same synthetic publisher (VP8 at --kbps plus Opus) and N synthetic viewers, each server pinned to
# CPU 0 and the generator to CPU 1 (taskset). For each N it prints loss, forwarding latency p50/p99, the
# server's CPU (% of the one core) and RSS, then the largest N holding <= 0.1 % loss and p99 <= 20 ms
# for each, and the ratio. See BENCHMARKS.md.
#
# Usage (as root, after `cargo build --release -p quorum -p loadgen --bin quorum --bin room_load`):
#   scripts/janus-side-by-side.sh [N ...]        (default: 50 100 200 300 400)
# Environment: SECONDS_PER_RUN (default 20), KBPS (default 1500), MEASURED (default 50), OUT (each run's full
# report; default a new folder under /tmp, named at the end).
#
# One core cannot run hundreds of WebRTC viewers: past about a hundred the generator would set the loss and
# latency measured. So MEASURED viewers are full clients and the other N - MEASURED are sinks (room_load
# --sinks): connected like them, but bound to a second address where an iptables rule drops the media sent to
# them in the kernel. The server does the same work for every viewer; the loss and latency are the measuring
# viewers'.
#
# Janus gathers no candidates on loopback interfaces, and this kernel has no `dummy` link type: Janus
# gets a veth pair of its own (qjanus0 = 10.232.0.1, ice_enforce_list), which the generator's clients
# bind to as well. The script installs Janus (Debian's package, 1.1.2) if it is missing, writes its
# configuration to a temporary folder, and removes the veth pair and the folder when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(50 100 200 300 400)
seconds=${SECONDS_PER_RUN:-20}
kbps=${KBPS:-1500}
measured=${MEASURED:-50}
bin=target/release/room_load
[ -x "$bin" ] || { echo "build first: cargo build --release -p quorum -p loadgen --bin quorum --bin room_load" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "needs two CPUs (one for the server, one for the generator)" >&2; exit 1; }

if ! command -v janus >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq janus >/dev/null
fi
libdir=$(dirname "$(dpkg -L janus | grep -m1 '/janus/plugins/libjanus_videoroom.so$')")
libdir=${libdir%/plugins}

cfg=$(mktemp -d)
out=${OUT:-$(mktemp -d /tmp/janus-side-by-side-XXXX)}
mkdir -p "$out"
janus_pid=
# room_load removes its sinks' iptables rule when it ends; a run killed midway cannot.
sink_rule() {
  iptables -w -D INPUT -d "$1" -p udp -m u32 --u32 "0>>22&0x3C@8>>24&0xC0=0x80 && 0>>22&0x3C@8>>16&0xFF=0:191,224:255" -j DROP 2>/dev/null
}
# The generator's measuring viewers are webrtc-rs clients that cannot size their sockets' buffers; 50 of them
# on one busy core overflowed Linux's default 208 KiB in bursts, and the loss measured was theirs (their
# reports then sent them to sound only). Both servers are measured with 4 MiB by default, put back at the end.
rmem_default=$(sysctl -n net.core.rmem_default)
rmem_max=$(sysctl -n net.core.rmem_max)
sysctl -qw net.core.rmem_max=$(( rmem_max > 4194304 ? rmem_max : 4194304 )) net.core.rmem_default=4194304
cleanup() {
  sysctl -qw net.core.rmem_default="$rmem_default" net.core.rmem_max="$rmem_max"
  while sink_rule 10.232.0.2; do :; done
  while sink_rule 127.0.0.2; do :; done
  [ -n "$janus_pid" ] && kill "$janus_pid" 2>/dev/null || true
  ip link del qjanus0 2>/dev/null || true
  rm -rf "$cfg"
}
trap cleanup EXIT
ip link del qjanus0 2>/dev/null || true
ip link add qjanus0 type veth peer name qjanus1
ip addr add 10.232.0.1/24 dev qjanus0
# The sinks' address, on the other end (Janus gathers qjanus0's only: the publisher never sends to it).
ip addr add 10.232.0.2/24 dev qjanus1
ip link set qjanus0 up
ip link set qjanus1 up
# Without these, Janus's connectivity checks to the sinks failed ("ICE failed" in its log; with them they pass):
# Janus binds to qjanus0, so what it sends to the sinks' address leaves there and comes back in on qjanus1
# from an address of this host, which the kernel drops as martian unless told otherwise.
for i in qjanus0 qjanus1; do
  sysctl -qw "net.ipv4.conf.$i.accept_local=1" "net.ipv4.conf.$i.rp_filter=0"
done

cat >"$cfg/janus.jcfg" <<EOF
general: {
  configs_folder = "$cfg"
  plugins_folder = "$libdir/plugins"
  transports_folder = "$libdir/transports"
  events_folder = "$libdir/events"
  loggers_folder = "$libdir/loggers"
  debug_level = 3
  session_timeout = 120
}
media: {
  rtp_port_range = "20000-40000"
}
nat: {
  ice_enforce_list = "qjanus0"
  full_trickle = false
}
plugins: {
  disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
  disable = "libjanus_websockets.so,libjanus_pfunix.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_rabbitmq.so"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
events: {
  broadcast = false
}
EOF
cat >"$cfg/janus.transport.http.jcfg" <<EOF
general: {
  base_path = "/janus"
  http = true
  port = 8088
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
}
EOF
echo 'general: { }' >"$cfg/janus.plugin.videoroom.jcfg"

start_janus() {
  taskset -c 0 janus -C "$cfg/janus.jcfg" -F "$cfg" >"$cfg/janus.log" 2>&1 &
  janus_pid=$!
  for _ in $(seq 1 50); do
    curl -fs -X POST -d '{"janus":"info","transaction":"x"}' http://127.0.0.1:8088/janus >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "Janus did not start:" >&2; tail -20 "$cfg/janus.log" >&2; exit 1
}

stop_janus() {
  kill "$janus_pid" 2>/dev/null || true
  wait "$janus_pid" 2>/dev/null || true
  janus_pid=
}

results=()
for n in "${counts[@]}"; do
  sinks=$(( n > measured ? n - measured : 0 ))
  start_janus
  # A run that fails counts as every viewer failed; its report says why.
  taskset -c 1 "$bin" --target janus --janus-pid "$janus_pid" --viewers "$n" --sinks "$sinks" --sink-ip 10.232.0.2 --seconds "$seconds" --kbps "$kbps" >"$out/janus-$n.txt" 2>&1 || true
  results+=("$(grep '^summary ' "$out/janus-$n.txt" || echo "summary target=janus viewers=$n failed=$n loss_pct=100 p50_ms=0 p99_ms=0 cpu_pct=0 rss_mib=0")")
  stop_janus
  taskset -c 1 "$bin" --viewers "$n" --sinks "$sinks" --sink-ip 127.0.0.2 --seconds "$seconds" --kbps "$kbps" --server-cpus 0 --media-threads 1 --no-recording >"$out/quorum-$n.txt" 2>&1 || true
  results+=("$(grep '^summary ' "$out/quorum-$n.txt" || echo "summary target=quorum viewers=$n failed=$n loss_pct=100 p50_ms=0 p99_ms=0 cpu_pct=0 rss_mib=0")")
  echo "N=$n done: ${results[-2]} / ${results[-1]}"
done

echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); $(uname -r); $(date -u +%F)"
printf '%-8s %8s %8s %8s %8s %8s %8s %8s\n' target viewers failed loss% p50ms p99ms cpu% rssMiB
for r in "${results[@]}"; do
  eval "$(echo "$r" | sed 's/^summary //')"
  printf '%-8s %8s %8s %8s %8s %8s %8s %8s\n' "$target" "$viewers" "$failed" "$loss_pct" "$p50_ms" "$p99_ms" "$cpu_pct" "$rss_mib"
done
for t in janus quorum; do
  best=0
  for r in "${results[@]}"; do
    eval "$(echo "$r" | sed 's/^summary //')"
    [ "$target" = "$t" ] || continue
    if [ "$failed" = 0 ] && awk -v l="$loss_pct" -v p="$p99_ms" 'BEGIN { exit !(l <= 0.1 && p <= 20) }'; then
      [ "$viewers" -gt "$best" ] && best=$viewers
    fi
  done
  echo "largest N within 0.1 % loss and p99 20 ms, $t: $best"
  eval "best_$t=$best"
done
awk -v q="$best_quorum" -v j="$best_janus" 'BEGIN { if (j > 0) printf "ratio quorum/janus: %.2f\n", q / j }'
echo "each run's report: $out"
