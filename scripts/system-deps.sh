#!/usr/bin/env bash
# Install the Debian packages that tests and the demo use for real, only where they are missing.
set -euo pipefail
need=()
command -v gpsfake >/dev/null || need+=(gpsd gpsd-tools gpsd-clients)
command -v chromium >/dev/null || need+=(chromium chromium-driver)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "error: missing ${need[*]}; install them with apt-get as root" >&2
  exit 2
fi
SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
echo "installing ${need[*]} …"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
