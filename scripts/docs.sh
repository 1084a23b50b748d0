#!/usr/bin/env bash
# The reference site in one command, from a clean clone, in either configuration:
#
#     scripts/docs.sh [Debug|Release] [output folder]        (defaults: Release, output)
#
# It builds the five documented projects in that configuration first (the site documents what it builds), clears
# fsdocs' cache (which otherwise keeps the previous configuration's assemblies), builds the site with root "/", and
# fails (exit 1, the reason on stderr) when fsdocs fails, an input assembly is missing, a doc comment cannot be read,
# the compiler warns, a page leaves a placeholder unfilled, or an assembly has no API page.
set -uo pipefail
cd "$(dirname "$0")/.."

config=${1:-Release}
output=${2:-output}
case "$config" in
  Debug|Release) ;;
  *) echo "scripts/docs.sh: expected Debug or Release as the configuration, but it is '$config'." >&2; exit 2 ;;
esac

projects=(src/Core.FSharp/Core.FSharp.fsproj src/Testing/Testing.fsproj src/Api.CSharp/Api.CSharp.csproj
  src/Distributed/Distributed.csproj src/Onnx/Onnx.csproj)
assemblies=(LowRank.Core LowRank.Testing LowRank LowRank.Mpi LowRank.Onnx)

fail() { echo "scripts/docs.sh: $*" >&2; exit 1; }

dotnet tool restore > /dev/null || fail "could not restore the local tools (fsdocs)."
for project in "${projects[@]}"; do
  dotnet build "$project" -c "$config" -nologo -v quiet -clp:ErrorsOnly > /dev/null \
    || fail "could not build $project in $config: run dotnet build $project -c $config to see why."
done

rm -rf .fsdocs/cache "$output"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! dotnet fsdocs build --projects "${projects[@]}" --properties Configuration="$config" --output "$output" --strict \
    --parameters root / > "$log" 2>&1; then
  tail -5 "$log" >&2
  fail "fsdocs failed."
fi

# fsdocs copies a NuGet.config of its own into the site: a static site has no use for package sources.
rm -f "$output/NuGet.config"

# fsdocs logs these and still exits 0.
if grep -qE "does not exist|Could not read|warning FS|error FS|: error " "$log"; then
  grep -E "does not exist|Could not read|warning FS|error FS|: error " "$log" | head -20 >&2
  fail "fsdocs reported a missing assembly, an unreadable doc comment or a warning."
fi
while read -r input; do
  [ -f "$input" ] || fail "the input assembly $input is missing."
done < <(awk '/^Inputs for API Docs:/{inside=1; next} inside && /^ +\//{print $1; next} inside{exit}' "$log")
if unfilled=$(grep -rlE "\{\{(fsdocs-[a-z-]+|root)\}\}" "$output"); then
  fail "$(echo "$unfilled" | wc -l) pages leave a placeholder unfilled, e.g. $(echo "$unfilled" | head -1)."
fi
for assembly in "${assemblies[@]}"; do
  grep -rqF "$assembly.dll" "$output/reference" 2>/dev/null \
    || fail "no API page documents $assembly (its namespaces are missing from $output/reference)."
done
echo "docs ($config): $(find "$output/reference" -name '*.html' | wc -l) API pages in $output"
