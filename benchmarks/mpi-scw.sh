#!/usr/bin/env bash
# SCW of a 20000 x 768 matrix (k = 20, m = 40) by `lowrank approx`: in memory, streamed (--stream), and under
# mpirun.mpich on 1, 2 and 4 ranks. Prints the median wall time of 3 runs of each (launch to exit, so it includes
# starting dotnet, reading the file and writing the factors) and the bytes the ranks sent for SCW.
# Needs mpich and python3-numpy. Usage: benchmarks/mpi-scw.sh [folder for the matrix, default /tmp/lowrank-mpi]
set -euo pipefail
cd "$(dirname "$0")/.."
folder=${1:-/tmp/lowrank-mpi}
mkdir -p "$folder"
[ -f "$folder/big.npy" ] || /usr/bin/python3 -c \
  "import numpy as np; np.save('$folder/big.npy', np.random.default_rng(0).standard_normal((20000, 768)))"
dotnet build src/Cli -c Release > /dev/null
cli=src/Cli/bin/Release/net10.0/LowRank.Cli.dll

median() { # command...: the median wall time of 3 runs, in seconds; the last run's output is kept in $folder/out.txt
  local times=()
  for _ in 1 2 3; do
    local start end
    start=$(date +%s.%N)
    "$@" > "$folder/out.txt" 2>&1
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

echo "in memory:         $(median dotnet $cli approx "$folder/big.npy" -k 20 -m 40 --out "$folder/a") s"
echo "streamed:          $(median dotnet $cli approx "$folder/big.npy" --stream -k 20 -m 40 --out "$folder/s") s"
for ranks in 1 2 4; do
  seconds=$(median mpirun.mpich -np "$ranks" dotnet $cli approx "$folder/big.npy" -k 20 -m 40 --out "$folder/d")
  bytes=$(grep -o "[0-9,]* bytes over all ranks, [0-9]* rounds" "$folder/out.txt")
  echo "mpirun -np $ranks:      $seconds s, $bytes"
done
