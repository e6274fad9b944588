#!/bin/sh
# Reads the passwords from compose secrets, then runs Patroni in the foreground.
set -eu
PATRONI_SUPERUSER_PASSWORD=$(cat /run/secrets/pg_superuser_password)
PATRONI_REPLICATION_PASSWORD=$(cat /run/secrets/pg_replication_password)
PATRONI_REWIND_PASSWORD=$(cat /run/secrets/pg_rewind_password)
export PATRONI_SUPERUSER_PASSWORD PATRONI_REPLICATION_PASSWORD PATRONI_REWIND_PASSWORD
mkdir -p /var/lib/postgresql/data && chmod 0700 /var/lib/postgresql/data
exec patroni /etc/patroni/patroni.yml
