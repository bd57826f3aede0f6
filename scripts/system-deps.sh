#!/usr/bin/env bash
# Installs the Debian packages lexcrm runs and is tested with; does nothing when all are there.
set -euo pipefail

packages=(
  python3 python3-venv python3-dev gcc      # the venv; some wheels may need a compiler
  ca-certificates
  debootstrap                                # builds the Debian unstable rootfs with Asterisk
  baresip-core                               # a real SIP desk phone for tests
  sip-tester                                 # sipp, a SIP test peer
  espeak-ng sox                              # test speech and audio checks
  sqlite3                                    # inspecting the embedded database by hand
  chromium                                   # the real browser of the browser tests (Playwright drives it)
  postgresql                                 # the second database the tests run on (a private cluster)
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Не хватает пакетов Debian: ${missing[*]}" >&2
  echo "Установите их от root: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Установка пакетов Debian: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
