#!/usr/bin/env bash
# Install the Debian packages listed in $1 when their command is missing. Needs root (CI is).
set -euo pipefail
list=${1:-deploy/system-packages.txt}
missing=()
while IFS= read -r line; do
  line=${line%%#*}; line=$(echo "$line" | xargs)
  [ -z "$line" ] && continue
  pkg=${line%%:*}; cmd=${line#*:}; [ "$cmd" = "$line" ] && cmd=$pkg
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done < "$list"
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
