#!/bin/bash
# WAL, counters and sequences an audit mode touches, on the demo database of the scratch cluster.
U='postgres://postgres@127.0.0.1:54990/demo?sslmode=disable'
q() { psql -At -h 127.0.0.1 -p 54990 -U postgres -d demo -c "$1"; }
for mode in "" "--probe" "--probe-writes" "--probe-writes --explain"; do
  q "select pg_stat_force_next_flush()" >/dev/null 2>&1
  sleep 1.2
  lsn1=$(q "select pg_current_wal_insert_lsn()")
  c1=$(q "select sum(n_tup_ins+n_tup_upd+n_tup_del)||' '||sum(n_dead_tup)||' '||sum(seq_scan)||' '||coalesce(sum(idx_scan),0) from pg_stat_user_tables")
  s1=$(q "select string_agg(coalesce(last_value,0)::text, ',' order by sequencename) from pg_sequences where schemaname='public'")
  start=$(date +%s%N)
  node bin/supaudit.js --db-url "$U" --no-tui -q $mode -f json -o /tmp/measure >/dev/null 2>&1
  end=$(date +%s%N)
  sleep 1.5
  lsn2=$(q "select pg_current_wal_insert_lsn()")
  c2=$(q "select sum(n_tup_ins+n_tup_upd+n_tup_del)||' '||sum(n_dead_tup)||' '||sum(seq_scan)||' '||coalesce(sum(idx_scan),0) from pg_stat_user_tables")
  s2=$(q "select string_agg(coalesce(last_value,0)::text, ',' order by sequencename) from pg_sequences where schemaname='public'")
  wal=$(q "select pg_wal_lsn_diff('$lsn2', '$lsn1')")
  echo "mode=[${mode:-default}] wall=$(( (end-start)/1000000 ))ms wal=${wal}B counters(before: writes dead seq idx)=[$c1] after=[$c2] sequences_same=$([ "$s1" = "$s2" ] && echo yes || echo NO)"
  node -e "const r=require('/tmp/measure/supaudit.json'); for (const n of r.notes) if (n.area==='probes' && n.message.startsWith('probe cost')) console.log('  ', n.message)"
done
