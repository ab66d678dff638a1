#!/bin/sh
# ibv_rc_pingpong, both sides in the guest over rxe0: the server in the background, the client to
# the guest's own address ($addr). Passes only if both sides do.
ibv_rc_pingpong -d rxe0 -g 1 -n 100 > /tmp/pp-server.log 2>&1 &
server=$!
sleep 2
ibv_rc_pingpong -d rxe0 -g 1 -n 100 "$addr"
rc=$?
wait "$server"
src=$?
echo "--- server side:"
cat /tmp/pp-server.log
[ "$rc" -eq 0 ] && [ "$src" -eq 0 ]
