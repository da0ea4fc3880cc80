#!/usr/bin/env bash
# Installs the Debian packages Parley needs to build and test, skipping what is present.
# Runs apt-get through sudo when not root. Safe to run repeatedly.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config lld
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libssl-dev libspdlog-dev libfmt-dev
  libtomlplusplus-dev libcli11-dev libjwt-dev libgtest-dev
  libpq-dev postgresql python3
  libexpat1-dev libcurl4-openssl-dev libxml2-dev
  libvips-dev libmagic-dev
  clang-format clang clang-tidy libclang-rt-14-dev
  chromium
)
# The web app and SDK (web/) need Node.js and npm: Debian's when none is installed.
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
