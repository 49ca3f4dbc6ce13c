#!/bin/sh
# Copy <run>/last.bin to <run>/e<k>.bin after each epoch k listed (last.bin is overwritten every epoch).
# Usage: runs/watch_epochs.sh runs/NAME runs/NAME.log "4 6 8"
run=$1; log=$2; keep=$3
prev=$(stat -c %Y "$run/last.bin" 2>/dev/null || echo 0)
while :; do
  sleep 20
  now=$(stat -c %Y "$run/last.bin" 2>/dev/null || echo 0)
  [ "$now" = "$prev" ] && continue
  prev=$now
  k=$(grep "^epoch " "$log" | tail -1 | awk '{print $2}' | cut -d/ -f1)  # the epoch's own number (resumed runs too)
  for e in $keep; do [ "$e" = "$k" ] && cp "$run/last.bin" "$run/e$k.bin" && echo "copied e$k"; done
  grep -q "^epoch  *$(echo $keep | awk '{print $NF}')/" "$log" && exit 0
done
