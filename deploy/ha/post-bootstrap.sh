#!/bin/sh
# Run once by Patroni on the first primary (its connection string is $1): the service's role and
# database. The password comes from the compose secret the service's DATABASE_URL also holds.
set -eu
password=$(cat /run/secrets/db_password)
psql "$1" -v ON_ERROR_STOP=1 -v pw="$password" <<'SQL'
CREATE ROLE planpro LOGIN PASSWORD :'pw';
CREATE DATABASE planpro OWNER planpro;
SQL
