# Helpers the bench scripts source (bench/peers.sh, bench/gpu.sh, bench/lenet-pairs.sh).

# The median of the numbers on stdin; empty lines and nan (a side that printed no figure) left out, nan if none is left.
median() { awk 'NF && $1 != "nan"' | sort -g | awk '{a[NR]=$1} END {print (NR == 0 ? "nan" : NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# The steady seconds per epoch that `ticketlab train` recorded in the store ROOT (its one run's summary.json).
epoch_seconds() { python3 -c 'import glob, json, sys; print(json.load(open(glob.glob(sys.argv[1] + "/train_*/replicate_1/summary.json")[0]))["median_epoch_seconds"])' "$1"; }
