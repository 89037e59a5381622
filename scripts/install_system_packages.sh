#!/usr/bin/env bash
# Debian packages that `make stack` and `make e2e` need: PostgreSQL (the metadata database),
# Redis (Celery's broker) and Chromium (the browser the UI tests drive through Playwright).
# Installs only what is missing; as root it uses apt-get directly, otherwise sudo.
# Usage: scripts/install_system_packages.sh [package ...]   (default: all three)
set -euo pipefail

packages=("$@")
if [ ${#packages[@]} -eq 0 ]; then
    packages=(postgresql redis-server chromium)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system packages: not a Debian/Ubuntu system; make sure PostgreSQL (initdb, postgres)," \
        "redis-server and chromium are installed (scripts/stack.py looks for them on PATH)"
    exit 0
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: ${packages[*]} already installed"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
