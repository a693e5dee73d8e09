#!/usr/bin/env bash
# Plot the latency distributions written by `amplink bench --dump DIR` as
# CDFs on a log time axis (gnuplot, PNG). Usage: plot_latency.sh DIR OUT.png
set -euo pipefail
dir=${1:?usage: plot_latency.sh DIR OUT.png}
out=${2:?usage: plot_latency.sh DIR OUT.png}
command -v gnuplot >/dev/null || { echo "plot_latency.sh: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 2; }
title=$(cat "$dir/title.txt" 2>/dev/null || echo "amplink round trips")
gnuplot <<GP
set terminal pngcairo size 960,600 font ",11"
set output "$out"
set title "$title"
set logscale x
set xlabel "round trip (µs, log scale)"
set ylabel "fraction of round trips <= x"
set key bottom right
set grid
plot "$dir/cacheline.dat" using 1:2 with lines lw 2 title "baseline: shared cache line", \
     "$dir/amplink_16.dat" using 1:2 with lines lw 2 title "amplink 16 B", \
     "$dir/amplink_496.dat" using 1:2 with lines lw 2 title "amplink 496 B", \
     "$dir/seqpacket_16.dat" using 1:2 with lines lw 2 title "baseline: UNIX SEQPACKET 16 B", \
     "$dir/eventfd.dat" using 1:2 with lines lw 2 title "baseline: eventfd ping-pong"
GP
echo "wrote $out"
