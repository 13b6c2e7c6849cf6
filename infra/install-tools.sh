#!/usr/bin/env bash
# Installs the system tools Verbund's tests and local stack use, when they are missing:
#   kcat        (Debian package kcat)            — end-to-end tests and by-hand inspection of topics
#   postgresql  (Debian package postgresql)      — the local PostgreSQL server for integration tests
#   java        (Debian package openjdk-17-jre-headless) — runs the local Kafka broker
#   maven       (Debian package maven)           — fetches Kafka's jars once (`verbund stack fetch`)
#   chromium    (Debian package chromium)        — the browser the console's Playwright tests drive (/usr/bin/chromium)
# Usage: infra/install-tools.sh [kcat] [postgresql] [java] [maven] [chromium]   (no argument: all of them)
# Quick and silent when everything is there. As root on Debian/Ubuntu it installs with apt-get (one
# `apt-get update` per run, only when something is missing); otherwise it says what to install and fails.
set -euo pipefail

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(kcat postgresql java maven chromium)

have_postgresql() {
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/createdb" ] && return 0
    done
    return 1
}

have_java() {
    local java_bin version
    java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
    command -v "$java_bin" >/dev/null 2>&1 || return 1
    # Kafka 4 needs Java 17 or newer.
    version=$("$java_bin" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
    [ -n "$version" ] && [ "$version" -ge 17 ]
}

missing_tools=()
missing_packages=()
for tool in "${wanted[@]}"; do
    case "$tool" in
        kcat) command -v kcat >/dev/null 2>&1 || { missing_tools+=(kcat); missing_packages+=(kcat); } ;;
        postgresql) have_postgresql || { missing_tools+=(postgresql); missing_packages+=(postgresql); } ;;
        java) have_java || { missing_tools+=(java); missing_packages+=(openjdk-17-jre-headless); } ;;
        maven) command -v mvn >/dev/null 2>&1 || { missing_tools+=(maven); missing_packages+=(maven); } ;;
        chromium) [ -x /usr/bin/chromium ] || { missing_tools+=(chromium); missing_packages+=(chromium); } ;;
        *) echo "install-tools.sh: unknown tool '$tool' (known: kcat postgresql java maven chromium)" >&2; exit 2 ;;
    esac
done

[ ${#missing_packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "Missing: ${missing_tools[*]}." >&2
    if command -v apt-get >/dev/null 2>&1; then
        echo "Install them with: sudo apt-get update && sudo apt-get install -y ${missing_packages[*]}" >&2
        echo "(or run 'sudo make tools')." >&2
    else
        echo "Install them with your system's package manager (Debian package names: ${missing_packages[*]})." >&2
    fi
    echo "Instead of a local PostgreSQL you can set VERBUND_TEST_DATABASE_URL; instead of a local Kafka," >&2
    echo "KAFKA_BOOTSTRAP_SERVERS (see docs/operations.md)." >&2
    exit 1
fi

echo "Installing ${missing_packages[*]} (apt-get)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The JRE's postinst needs the man folder that slim images delete.
mkdir -p /usr/share/man/man1
apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null

for tool in "${missing_tools[@]}"; do
    case "$tool" in
        kcat) command -v kcat >/dev/null 2>&1 ;;
        postgresql) have_postgresql ;;
        java) have_java ;;
        maven) command -v mvn >/dev/null 2>&1 ;;
        chromium) [ -x /usr/bin/chromium ] ;;
    esac || { echo "install-tools.sh: $tool is still missing after apt-get install" >&2; exit 1; }
done
echo "Installed: ${missing_tools[*]}."
