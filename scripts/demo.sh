#!/usr/bin/env bash
# `make run`: create ./cairn.db with a small demo feed when it does not exist,
# print an admin key and a pro key, and serve on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/cairn}
db=${CAIRN_DB:-./cairn.db}
export CAIRN_DB=$db
if [ ! -f "$db" ]; then
	echo "creating $db with the demo feed (examples/demo-feed.csv)"
	"$bin" import --feed cairn-demo --category community examples/demo-feed.csv
	"$bin" import --feed cairn-demo-list --category community examples/demo-list.txt
fi
admin=$("$bin" keys create --tier admin --name "demo admin")
pro=$("$bin" keys create --tier pro --name "demo pro")
cat <<EOT

  admin key: $admin
  pro key:   $pro

  try:  curl -H "Authorization: Bearer $pro" 'http://127.0.0.1:8080/api/v1/iocs?limit=5'
        curl -H "Authorization: Bearer $pro" 'http://127.0.0.1:8080/api/v1/lookup?value=hxxp://malware-drop[.]example/payload.exe'

EOT
exec "$bin" serve --listen 127.0.0.1:8080
