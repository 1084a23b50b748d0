// Message size of the Theorem 3.1 protocol (Woodruff and Yasuda 2024) next to its bound, for a 784 x 128 matrix A
// with s nonzeros per column, rank-r weights, k = 10 and c = 2 r k columns (eps = 1/2).
// Run after building (either configuration): dotnet build src/Core.FSharp && dotnet fsi scripts/protocol-sizes.fsx
#load "../src/Core.FSharp/obj/LowRank.Core.fsx"

open System
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

let n, d, k = 784, 128, 10
let random = Random(11)

printfn "| s | r | c | message bits | bound (s c + r k d) log2(n d) | ratio |"
printfn "|---:|---:|---:|---:|---:|---:|"

for s in [ 8; 64; 784 ] do
    for r in [ 1; 3 ] do
        // Exactly s nonzeros per column, at random rows.
        let a = Matrix<float>.Build.Dense(n, d)

        for j in 0 .. d - 1 do
            for i in Array.init n id |> Array.sortBy (fun _ -> random.Next()) |> Array.take s do
                a[i, j] <- random.NextDouble() - 0.5

        let factor rows columns = Matrix<float>.Build.Dense(rows, columns, fun _ _ -> 0.1 + random.NextDouble())
        let weights = Weights.ofFactors (factor n r) (factor r d)
        let c = 2 * r * k
        let message = Protocol.send c k weights a
        let bits = Protocol.sizeInBits message
        let bound = Protocol.boundInBits s (r * k) c n d
        printfn "| %d | %d | %d | %d | %.0f | %.2f |" s r c bits bound (float bits / bound)
