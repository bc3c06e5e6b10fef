#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when they are missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
# Each line: <check> <debian-package>. A check starting with / is a file, `dpkg` means "the package
# is installed", anything else is a command on the PATH.
set -euo pipefail

NEEDS=(
  "sipp sip-tester"                       # SIP peer for integration tests and bench:sip
  "dpkg libspandsp-dev"                   # independent DTMF decoder (oracle for the media tests)
  "cc gcc"                                # builds the tiny spandsp oracle program
  "espeak-ng espeak-ng"                   # prompts and talk-off speech
  "sox sox"                               # audio conversion and measurement
  "chromium chromium"                     # Playwright end-to-end tests (executablePath /usr/bin/chromium)
  "dpkg fonts-dejavu-core"                # readable text in the e2e screenshots
  "kamailio kamailio"                     # SIP load balancer (dispatcher) in front of two gateways
  "/usr/lib/x86_64-linux-gnu/kamailio/modules/websocket.so kamailio-websocket-modules"  # Kamailio as the agents' SIP WebSocket front (-A WITH_WEBSOCKET)
  "/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so kamailio-tls-modules"  # Kamailio's wss: front for the agents (-A WITH_TLS, tls.cfg)
  "redis-server redis-server"             # Redis store/bus integration tests
  "dpkg postgresql"                       # lookup database of SIP profiles of kind sql (sql-lookup test; initdb/postgres from /usr/lib/postgresql/<v>/bin)
  "rsyslogd rsyslog"                      # syslog collector over TLS (RFC 5425) for the audit export test
  "dpkg rsyslog-gnutls"                   # rsyslog's TLS driver (gtls)
  "openssl openssl"                       # test CA/certificates and s_client checks of SIP TLS and HTTPS
  "tcpdump tcpdump"                       # capture of the SIP TLS leg (tls-capture test; needs root)
  "baresip baresip-core"                  # a stock SIP phone (headless) as agent and customer in integration tests
  "svwar sipvicious"                      # attack tools (svwar, svcrack, svmap) against the trust boundary (docs/security.md)
)

missing=()
for line in "${NEEDS[@]}"; do
  read -r check pkg <<<"$line"
  if [[ "$check" == dpkg ]]; then
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  elif [[ "$check" == /* ]]; then
    [[ -e "$check" ]] || missing+=("$pkg")
  else
    command -v "$check" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "system deps: all present"
  exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "system deps missing: ${missing[*]}" >&2
  echo "run as root:  $cmd" >&2
  exit 1
fi
echo "system deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
