#!/usr/bin/env bash
# Starts (or stops) the real services the integration tests need on one machine:
# PostgreSQL and Redis when they are not running, and a one-node Ceph cluster whose RGW
# gives a real S3 server on loopback (no Docker engine or MinIO binary exists here).
#
#   scripts/services.sh start   # prints the environment the tests need (also written to $ENV_FILE)
#   scripts/services.sh stop
#   scripts/services.sh env     # prints the environment of a running cluster
#
# Ceph runs with a memstore OSD (RAM only) and no auth: test data only, never data you keep.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CEPH_DIR="${ARKIVA_CEPH_DIR:-/tmp/arkiva-ceph}"
RGW_PORT="${ARKIVA_RGW_PORT:-7480}"
S3_ACCESS_KEY_ID="${ARKIVA_TEST_S3_KEY:-arkivatestkey}"
S3_SECRET_ACCESS_KEY="${ARKIVA_TEST_S3_SECRET:-arkivatestsecret}"
ENV_FILE="${ARKIVA_SERVICES_ENV:-$ROOT/.services.env}"
export CEPH_CONF="$CEPH_DIR/ceph.conf"

log() { echo "[services] $*" >&2; }

apt_install() {
  if ! command -v apt-get >/dev/null; then log "apt-get missing; cannot install $*"; return 1; fi
  log "installing $*"
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    apt-get update -qq >&2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

start_postgres() {
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then return 0; fi
  log "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2
  else
    apt_install postgresql
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && return 0; sleep 1; done
  log "PostgreSQL did not start"; return 1
}

start_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return 0; fi
  command -v redis-server >/dev/null || apt_install redis-server
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log --maxmemory-policy noeviction >&2
  for _ in $(seq 1 30); do redis-cli ping >/dev/null 2>&1 && return 0; sleep 0.5; done
  log "Redis did not start"; return 1
}

s3_up() {
  # RGW answers an anonymous GET / with a ListAllMyBucketsResult (200) when ready.
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RGW_PORT/" 2>/dev/null | grep -q '^200$'
}

start_ceph() {
  if s3_up; then log "RGW already answers on 127.0.0.1:$RGW_PORT"; return 0; fi
  local need=()
  command -v ceph-mon >/dev/null || need+=(ceph-mon)
  command -v ceph-osd >/dev/null || need+=(ceph-osd)
  command -v radosgw >/dev/null || need+=(radosgw)
  command -v curl >/dev/null || need+=(curl)
  if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

  stop_ceph quiet || true
  rm -rf "$CEPH_DIR"
  mkdir -p "$CEPH_DIR"/{mon,osd,run,log,rgw}
  local fsid; fsid="$(cat /proc/sys/kernel/random/uuid)"
  cat > "$CEPH_CONF" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:6789
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms bind msgr2 = false
ms bind ipv6 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
mon max pg per osd = 1000
run dir = $CEPH_DIR/run
log file = $CEPH_DIR/log/\$name.log
admin socket = $CEPH_DIR/run/\$name.asok
pid file = $CEPH_DIR/run/\$name.pid
keyring = $CEPH_DIR/\$name.keyring
[mon]
mon data = $CEPH_DIR/mon/\$id
mon cluster log file = $CEPH_DIR/log/cluster.log
[osd]
osd data = $CEPH_DIR/osd/\$id
osd objectstore = memstore
memstore device bytes = ${ARKIVA_CEPH_MEMSTORE_BYTES:-8589934592}
osd journal size = 0
osd max object size = 1073741824
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $CEPH_DIR/rgw
rgw dns name = 127.0.0.1
rgw enable usage log = false
CONF
  log "creating one-node Ceph cluster in $CEPH_DIR"
  monmaptool --create --add a v1:127.0.0.1:6789 --fsid "$fsid" "$CEPH_DIR/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$CEPH_DIR/monmap" >&2
  ceph-mon -i a >&2
  local osd_uuid; osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  local osd_id; osd_id="$(timeout 60 ceph osd create "$osd_uuid")"
  mkdir -p "$CEPH_DIR/osd/$osd_id"
  ceph-osd -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >&2 2>"$CEPH_DIR/log/osd-mkfs.err" || { cat "$CEPH_DIR/log/osd-mkfs.err" >&2; return 1; }
  timeout 60 ceph osd crush add "osd.$osd_id" 1.0 host=localhost root=default >&2 2>/dev/null || true
  ceph-osd -i "$osd_id" >&2
  log "starting RGW on 127.0.0.1:$RGW_PORT"
  radosgw -n client.rgw >&2
  for _ in $(seq 1 120); do
    if s3_up; then break; fi
    sleep 1
  done
  if ! s3_up; then log "RGW did not answer; see $CEPH_DIR/log"; tail -20 "$CEPH_DIR/log/client.rgw.log" >&2 || true; return 1; fi
  timeout 60 radosgw-admin user create --uid=arkiva-test --display-name="Arkiva tests" \
    --access-key="$S3_ACCESS_KEY_ID" --secret="$S3_SECRET_ACCESS_KEY" >/dev/null
  log "RGW ready"
}

stop_ceph() {
  for name in client.rgw osd.0 mon.a; do
    local pidf="$CEPH_DIR/run/$name.pid"
    if [ -f "$pidf" ]; then kill "$(cat "$pidf")" 2>/dev/null || true; fi
  done
  pkill -f "radosgw -n client.rgw" 2>/dev/null || true
  pkill -f "ceph-osd -i 0" 2>/dev/null || true
  pkill -f "ceph-mon -i a" 2>/dev/null || true
  [ "${1:-}" = quiet ] || log "Ceph stopped"
}

print_env() {
  cat <<ENV
DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
REDIS_URL=redis://127.0.0.1:6379
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_REGION=us-east-1
S3_BUCKET=arkiva-test
S3_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID
S3_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
ENV
}

ensure_chromium() {
  # The web interface's end-to-end tests drive Debian's Chromium (no browser downloads).
  [ -x /usr/bin/chromium ] || apt_install chromium
}

ensure_preservation_tools() {
  # Package tests: xmllint validates ALTO/METS against the profile XSDs; qpdf --check and
  # poppler's pdftotext/pdfdetach read the PDFs back.
  command -v xmllint >/dev/null || apt_install libxml2-utils
  command -v qpdf >/dev/null || apt_install qpdf
  command -v pdftotext >/dev/null || apt_install poppler-utils
}

case "${1:-start}" in
  start)
    start_postgres
    start_redis
    start_ceph
    ensure_chromium
    ensure_preservation_tools
    print_env | tee "$ENV_FILE"
    ;;
  stop) stop_ceph ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
