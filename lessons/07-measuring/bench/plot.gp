# bench/plot.gp - the two plots of `make bench`, from one CSV file per server.
# gnuplot -e "dir='DIR'; out='OUT'; servers='socat echo-server ...'; size='64'" plot.gp
# (columns: server,connections,bytes,window,seconds,requests,requests_per_s,mb_per_s,
#  p50_us,p90_us,p99_us,max_us,errors)
if (!exists("term")) term = "svg size 860,600 dynamic font 'sans,13' background rgb 'white'"
if (!exists("ext")) ext = "svg"
set terminal @term
set datafile separator ","
set logscale x 10
set xrange [0.7:1500]
set xtics ("1" 1, "10" 10, "100" 100, "1000" 1000)
set xlabel "connections (each with one request in flight)"
set grid
set key below maxrows 2 noenhanced
set style data linespoints
# The iterative server is measured at one connection only (see the README).
label(s) = s eq "echo-server" ? "echo-server (1 connection only)" : s

set output out."/throughput.".ext
set title sprintf("Throughput: %s-byte echo requests per second, loopback", size)
set ylabel "requests/s"
set yrange [0:*]
set format y "%.0s%c"
plot for [i = 1:words(servers)] dir."/".word(servers, i).".csv" using 2:7 \
     lw 2 pt 7 ps 1.2 lc i title label(word(servers, i))

set output out."/latency.".ext
set title "Latency per request: p99 (solid) and p50 (dashed), loopback"
set ylabel "latency"
set logscale y 10
set yrange [10:*] # below 10 µs would be no round trip at all
set ytics ("1 µs" 1, "10 µs" 10, "100 µs" 100, "1 ms" 1e3, "10 ms" 1e4, "100 ms" 1e5, \
           "1 s" 1e6, "10 s" 1e7)
plot for [i = 1:words(servers)] dir."/".word(servers, i).".csv" using 2:11 \
         lw 2 pt 7 ps 1.2 lc i title label(word(servers, i))." p99", \
     for [i = 1:words(servers)] dir."/".word(servers, i).".csv" using 2:9 \
         lw 2 dt 2 pt 6 ps 1.2 lc i title label(word(servers, i))." p50"
