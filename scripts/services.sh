#!/usr/bin/env bash
# Starts (or stops) the real services the integration tests need on one machine:
# PostgreSQL and Redis when they are not running, and a one-node Ceph cluster whose RGW
# gives a real S3 server on loopback (no Docker engine or MinIO binary exists here).
#
#   scripts/services.sh start   # prints the environment the tests need (also written to $ENV_FILE)
#   scripts/services.sh check   # the cluster is healthy: monitor, OSD up, every PG active+clean, RGW answers
#   scripts/services.sh stop    # stops this checkout's Ceph daemons (by their PID files), nobody else's
#   scripts/services.sh env     # prints the environment of a running cluster
#
# Ceph runs with a memstore OSD (RAM only) and no auth: test data only, never data you keep.
# Each checkout keeps its cluster in its own folder (/tmp/arkiva-ceph-<hash of the checkout path>).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CEPH_DIR="${ARKIVA_CEPH_DIR:-/tmp/arkiva-ceph-$(printf '%s' "$ROOT" | sha1sum | cut -c1-10)}"
RGW_PORT="${ARKIVA_RGW_PORT:-7480}"
MON_PORT="${ARKIVA_MON_PORT:-6789}"
# Which checkout's cluster serves a port: a running RGW found on the port is reused, and its folder
# is what the environment names (the fault suite starts a second RGW on that cluster).
PORT_OWNER_FILE="/tmp/arkiva-rgw-$RGW_PORT.owner"
S3_ACCESS_KEY_ID="${ARKIVA_TEST_S3_KEY:-arkivatestkey}"
S3_SECRET_ACCESS_KEY="${ARKIVA_TEST_S3_SECRET:-arkivatestsecret}"
ENV_FILE="${ARKIVA_SERVICES_ENV:-$ROOT/.services.env}"
export CEPH_CONF="$CEPH_DIR/ceph.conf"

log() { echo "[services] $*" >&2; }

apt_install() {
  if ! command -v apt-get >/dev/null; then log "apt-get missing; cannot install $*"; return 1; fi
  log "installing $*"
  # Another apt-get or dpkg (unattended upgrades, a second checkout's script) may hold the package
  # locks: wait for them instead of failing at once with exit 100.
  local wait=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    apt_retry apt-get "${wait[@]}" update -qq >&2
  fi
  DEBIAN_FRONTEND=noninteractive apt_retry apt-get "${wait[@]}" install -y -qq --no-install-recommends "$@" >&2
}

# Older apt ignores Lock::Timeout for the lists lock; a held lock then still fails at once, so retry.
apt_retry() {
  local n
  for n in 1 2 3 4 5 6; do
    if "$@"; then return 0; fi
    if ! fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1 && [ "$n" -ge 2 ]; then return 1; fi
    log "package manager busy (attempt $n); waiting"; sleep $(( n * 10 ))
  done
  return 1
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

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_ceph() {
  if s3_up; then
    if pid_alive "$CEPH_DIR/run/client.rgw.pid"; then log "this checkout's RGW already answers on 127.0.0.1:$RGW_PORT"; wait_healthy; return 0; fi
    local owner; owner="$(cat "$PORT_OWNER_FILE" 2>/dev/null || true)"
    if [ -n "$owner" ] && [ -f "$owner/ceph.conf" ]; then
      log "RGW on 127.0.0.1:$RGW_PORT belongs to the cluster in $owner; using it"
      CEPH_DIR="$owner"; CEPH_CONF="$CEPH_DIR/ceph.conf"; wait_healthy; return 0
    fi
    log "something else answers on 127.0.0.1:$RGW_PORT; set ARKIVA_RGW_PORT (and ARKIVA_MON_PORT) to a free port"; return 1
  fi
  local need=()
  command -v ceph-mon >/dev/null || need+=(ceph-mon)
  command -v ceph-osd >/dev/null || need+=(ceph-osd)
  command -v radosgw >/dev/null || need+=(radosgw)
  command -v curl >/dev/null || need+=(curl)
  command -v fuser >/dev/null || need+=(psmisc)
  if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

  stop_ceph quiet || true
  rm -rf "$CEPH_DIR"
  mkdir -p "$CEPH_DIR"/{mon,osd,run,log,rgw}
  local fsid; fsid="$(cat /proc/sys/kernel/random/uuid)"
  cat > "$CEPH_CONF" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$MON_PORT
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
pid file = $CEPH_DIR/run/\$name.pid
keyring = $CEPH_DIR/\$name.keyring
[mon]
admin socket = $CEPH_DIR/run/\$name.asok
mon data = $CEPH_DIR/mon/\$id
mon cluster log file = $CEPH_DIR/log/cluster.log
[osd]
admin socket = $CEPH_DIR/run/\$name.asok
osd data = $CEPH_DIR/osd/\$id
osd objectstore = memstore
memstore device bytes = ${ARKIVA_CEPH_MEMSTORE_BYTES:-8589934592}
osd journal size = 0
osd max object size = 1073741824
# On a fresh machine the OSD's start-up "osd crush create-or-move" and device-class commands reach
# the monitor before its monitor client knows the fsid (the monitor logs "handle_command on fsid
# 00000000-… != …" and the OSD exits with "wrong fsid"). The script places the OSD in the CRUSH map
# itself before starting it, so the OSD need not.
osd crush update on start = false
osd class update on start = false
[client.rgw]
admin socket = $CEPH_DIR/run/\$name.asok
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $CEPH_DIR/rgw
rgw dns name = 127.0.0.1
rgw enable usage log = false
CONF
  log "creating one-node Ceph cluster in $CEPH_DIR"
  monmaptool --create --add a "v1:127.0.0.1:$MON_PORT" --fsid "$fsid" "$CEPH_DIR/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$CEPH_DIR/monmap" >&2
  ceph-mon -i a >&2
  local osd_uuid; osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  local osd_id; osd_id="$(timeout 60 ceph osd create "$osd_uuid")"
  mkdir -p "$CEPH_DIR/osd/$osd_id"
  ceph-osd -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >&2 2>"$CEPH_DIR/log/osd-mkfs.err" || { cat "$CEPH_DIR/log/osd-mkfs.err" >&2; return 1; }
  timeout 60 ceph osd crush add "osd.$osd_id" 1.0 host=localhost root=default >&2
  ceph-osd -i "$osd_id" >&2
  for _ in $(seq 1 60); do pid_alive "$CEPH_DIR/run/osd.$osd_id.pid" && osd_up && break; sleep 1; done
  if ! osd_up; then log "the OSD did not come up"; tail -20 "$CEPH_DIR/log/osd.$osd_id.log" >&2 || true; return 1; fi
  log "starting RGW on 127.0.0.1:$RGW_PORT"
  radosgw -n client.rgw >&2
  echo "$CEPH_DIR" > "$PORT_OWNER_FILE"
  for _ in $(seq 1 120); do
    if s3_up; then break; fi
    sleep 1
  done
  if ! s3_up; then log "RGW did not answer; see $CEPH_DIR/log"; tail -20 "$CEPH_DIR/log/client.rgw.log" >&2 || true; return 1; fi
  timeout 60 radosgw-admin user create --uid=arkiva-test --display-name="Arkiva tests" \
    --access-key="$S3_ACCESS_KEY_ID" --secret="$S3_SECRET_ACCESS_KEY" >/dev/null
  wait_healthy
  log "RGW ready"
}

osd_up() { timeout 20 ceph osd stat 2>/dev/null | grep -q '1 up'; }

# A real write and read of one RADOS object. Without a manager daemon the monitor knows nothing of
# placement-group states, so this is how laggy PGs show: after the OSD's threads stalled under CPU
# load their read lease lapsed and requests wait "for readable", sometimes for many minutes.
rados_answers() {
  local probe="$CEPH_DIR/run/health-probe"
  date +%s > "$probe"
  timeout 15 rados -p .rgw.root put arkiva-health-probe "$probe" 2>/dev/null &&
    timeout 15 rados -p .rgw.root get arkiva-health-probe - 2>/dev/null | cmp -s - "$probe"
}

# Waits until the OSD is up, RADOS reads and writes, and RGW answers. An OSD that is up but does
# not answer for 20 s is marked down: it re-asserts itself at once and re-peers with fresh leases.
wait_healthy() {
  local since=$SECONDS
  while [ $(( SECONDS - since )) -lt 300 ]; do
    if osd_up && rados_answers && s3_up; then return 0; fi
    if osd_up && [ $(( SECONDS - since )) -ge 20 ]; then
      log "RADOS does not answer with osd.0 up; marking osd.0 down so that it re-peers"
      timeout 20 ceph osd down 0 >&2 2>/dev/null || true
      since=$(( SECONDS - 5 ))
    fi
    sleep 1
  done
  log "Ceph did not become healthy in 300 s; see $CEPH_DIR/log"; return 1
}

# The cluster this checkout uses: its own, or the one whose RGW it found on the port at start.
use_running_cluster() {
  [ -f "$CEPH_CONF" ] && return 0
  local owner; owner="$(cat "$PORT_OWNER_FILE" 2>/dev/null || true)"
  if [ -n "$owner" ] && [ -f "$owner/ceph.conf" ]; then CEPH_DIR="$owner"; CEPH_CONF="$CEPH_DIR/ceph.conf"; fi
}

check_ceph() {
  use_running_cluster
  [ -f "$CEPH_CONF" ] || { log "no cluster in $CEPH_DIR"; return 1; }
  osd_up || { log "osd.0 is not up"; return 1; }
  rados_answers || { log "RADOS does not answer (placement groups not readable)"; return 1; }
  s3_up || { log "RGW does not answer on 127.0.0.1:$RGW_PORT"; return 1; }
  log "healthy: $(timeout 20 ceph osd stat 2>/dev/null); RADOS and RGW answer"
}

stop_ceph() {
  # Only this checkout's daemons, by the PID files in its own folder: never another checkout's.
  local name pidf pid
  for name in client.rgw osd.0 mon.a; do
    pidf="$CEPH_DIR/run/$name.pid"
    if pid_alive "$pidf"; then
      pid="$(cat "$pidf")"; kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [ "$(cat "$PORT_OWNER_FILE" 2>/dev/null)" = "$CEPH_DIR" ]; then rm -f "$PORT_OWNER_FILE"; fi
  [ "${1:-}" = quiet ] || log "Ceph stopped ($CEPH_DIR)"
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
ARKIVA_CEPH_DIR=$CEPH_DIR
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

ensure_ocr_tools() {
  # The OCR conformance suite runs on native Tesseract as well as tesseract.js (and fails under CI
  # without it). Only the binary is used: it reads the npm packages' models, not Debian's.
  command -v tesseract >/dev/null || apt_install tesseract-ocr
}

ensure_fixture_fonts() {
  # The fixture generator's handwritten style writes entries in Debian's handwriting fonts, and
  # words they cannot write (Serbian Latin's č ć đ š ž, Cyrillic) in DejaVu Serif Italic.
  local missing=()
  [ -f /usr/share/fonts/truetype/fifthhorseman/dkg.ttf ] || missing+=(fonts-dkg-handwriting)
  [ -f /usr/share/fonts/opentype/bwht/BecauseWeOrganize-Regular.otf ] || missing+=(fonts-bwht)
  [ -f /usr/share/fonts/truetype/ecolier-court/Ecolier-court.ttf ] || missing+=(fonts-ecolier-court)
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf ] || missing+=(fonts-dejavu-extra)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

case "${1:-start}" in
  start)
    start_postgres
    start_redis
    start_ceph
    ensure_chromium
    ensure_preservation_tools
    ensure_ocr_tools
    ensure_fixture_fonts
    print_env | tee "$ENV_FILE"
    ;;
  stop) stop_ceph ;;
  check) check_ceph ;;
  env) use_running_cluster; print_env ;;
  *) echo "usage: $0 start|check|stop|env" >&2; exit 2 ;;
esac
