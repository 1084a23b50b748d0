#!/usr/bin/env python3
"""Mutation check of the theorem properties (issue 16): applies each mutant below to a copy of the repository, builds
tests/Properties in Release and runs it, and reports the mutants that no property caught ("survivors").

    scripts/mutate.py                 every mutant (about 12 minutes for 55 on the 2-core reference machine)
    scripts/mutate.py S3 E5b          only these
    scripts/mutate.py --list          the mutants, without running anything
    scripts/mutate.py --check         that every mutant's text occurs exactly once in the current source (seconds)

A mutant is (id, file name under src/Core.FSharp (in any layer folder), text, replacement, what it breaks): the text must occur exactly once, so a
list that no longer matches the code fails loudly instead of silently testing nothing. A mutant that does not compile
is reported as such and counts as neither caught nor survived. Exit status: 0 when no mutant survives, 1 otherwise,
2 for a stale list. The work happens in a temporary copy (git worktree of HEAD plus the working tree's changes), so
the checkout is never modified. The properties run on the default backend with the default seed.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

MUTANTS = [
    # The four survivors of the audit in issue 16.
    ("S3", "LossGradient.fs", "| Some r -> Stacked [| learned; r |]",
     "| Some r -> Stacked [| learned; (match r with | CountSketch(m, h, v) -> CountSketch(m, h, Array.mapi (fun i x -> if h[i] = 0 then 0.0 else x) v) | s -> s) |]",
     "a trained mixed sketch loses its first random row"),
    ("S4", "Dense.fs", "let threshold = s[0] * rankTolerance rows columns",
     "let threshold = s[0] * max 1e-6 (rankTolerance rows columns)",
     "SCW's numerical-rank cut-off raised to 1e-6 sigma_1"),
    ("E5b", "RowSpace.fs", "Sketched = fun sketch -> Sketch.applyUnchecked sketch 0 matrix",
     "Sketched = fun sketch -> (ignore sketch; matrix)",
     "SCW ignores the sketch and returns [A]_k"),
    ("R1", "WlraShared.fs", "            let best = Svd.bestRankK total (WeightColumns.hadamard weights matrix)\n            best.Left, best.Right",
     "            let best = Svd.bestRankK (min (total + 1) (min matrix.RowCount matrix.ColumnCount)) (WeightColumns.hadamard weights matrix)\n            best.Left, best.Right",
     "svd_w keeps rank r k + 1"),
    # Norms.
    ("N1", "Norm.fs", "Dense.rowTwoNorms matrix |> Array.sum",
     "Dense.rowTwoNorms matrix |> Array.max",
     "the V-norm takes the largest row norm instead of their sum"),
    ("N2", "Norm.fs", "frobenius (weights.PointwiseMultiply matrix)",
     "frobenius ((weights.PointwiseMultiply weights).PointwiseMultiply matrix)",
     "the weighted norm squares the weights (the other convention)"),
    ("N3", "Norm.fs", "    Dense.twoNorm (Dense.storedValues matrix)\n",
     "    Dense.twoNorm (Dense.storedValues matrix) * (1.0 + 1e-11)\n",
     "the Frobenius norm is off by a relative 1e-11"),
    # Sketches.
    ("K1", "Sketch.fs", "| Stacked parts -> parts |> Array.map (fun part -> applyUnchecked part offset block) |> stackRows",
     "| Stacked parts -> parts |> Array.rev |> Array.map (fun part -> applyUnchecked part offset block) |> stackRows",
     "a stacked sketch applies its parts in reverse order (same row space, wrong S A)"),
    ("K2", "Sketch.fs", "result[j * m + hash[p]] <- result[j * m + hash[p]] + values[p] * x",
     "result[j * m + hash[p]] <- result[j * m + hash[p]] - values[p] * x",
     "a CountSketch applied to a sparse matrix flips every sign"),
    # SVD and SCW.
    ("V1", "Svd.fs", "    let svd = Dense.truncatedSvd rank matrix\n",
     "    let svd = Dense.truncatedSvd rank matrix |> fun svd -> { svd with S = svd.S |> Array.map (fun x -> x * (1.0 + 1e-9)) }\n",
     "the best rank-k approximation's singular values are 1e-9 too large"),
    ("V2", "Svd.fs", "Dense.singularValues matrix |> Array.skip rank |> Dense.twoNorm",
     "Dense.singularValues matrix |> Array.skip rank |> Array.map (fun x -> 0.999 * x) |> Dense.twoNorm",
     "the optimal error is 0.1% too small"),
    ("C1", "RowSpace.fs", "let svdAv = Dense.truncatedSvd rank av", "let svdAv = Dense.truncatedSvd (max 1 (rank - 1)) av",
     "SCW keeps k - 1 directions"),
    ("C2", "Scw.fs", "if relative > sqrt (Math.Pow(2.0, -52.0)) then", "if relative > 0.0 then",
     "SCW's error takes the cancelling shortcut ||A||^2 - ||kept||^2 even for tiny errors"),
    ("C3", "RowSpace.fs", "Right = Dense.multiply svdAv.Vt vt",
     "Right = vt.SubMatrix(0, svdAv.S.Length, 0, vt.ColumnCount)",
     "SCW keeps the first k rows of V^T instead of [A V]_k's right factor"),
    ("C4", "Dense.fs", "float (max rows columns) * Math.Pow(2.0, -52.0)", "float (max rows columns) * Math.Pow(2.0, -40.0)",
     "the rank tolerance is 4096 times NumPy's"),
    ("C5", "Scw.fs", "errors |> Array.map (fun e -> Array.average e - meanOptimal)", "errors |> Array.map (fun e -> Array.average e - 0.0 * meanOptimal)",
     "Err(Te, S) forgets to subtract the optimum"),
    ("C6", "Scw.fs", "| Normalization.TopSingularValue when s[0] > 0.0 -> s[0]", "| Normalization.TopSingularValue when s[0] > 0.0 -> s[0] * s[0]",
     "normalisation divides by sigma_1^2"),
    # (Dense.scaleColumnsInPlace's branch for sparse storage is not mutated: every caller passes a dense matrix.)
    ("C7", "Dense.fs", "        for j in 0 .. scales.Length - 1 do\n            for i in j * n .. j * n + n - 1 do",
     "        for j in 0 .. scales.Length - 2 do\n            for i in j * n .. j * n + n - 1 do",
     "scaling the columns of a dense matrix skips the last one"),
    # Weighted low-rank approximation.
    ("W1", "WlraShared.fs", "(Reweighting.DivideByWeights(weights, floor))", "(ignore floor; Reweighting.None)",
     "svd_w forgets to divide by W"),
    ("W2", "WlraShared.fs", 'r * rank, r, $"r = {r}, {what} (Theorem 1.2 holds)"', 'max 1 (r - 1) * rank, r, $"r = {r}, {what} (Theorem 1.2 holds)"',
     "svd_w uses (r - 1) k instead of r k"),
    ("W3", "WlraEm.fs", "fs[i] <- xs[i] + w2[i] * (target[i] - xs[i])", "fs[i] <- xs[i] + 2.0 * w2[i] * (target[i] - xs[i])",
     "em over-relaxes its fill-in step"),
    ("W4", "WlraSampling.fs", "let leverage = Array.init d (fun j -> top.Column(j).DotProduct(top.Column j))",
     "let leverage = Array.init d (fun j -> sqrt (top.Column(j).DotProduct(top.Column j)))",
     "column subset selection uses ||V^T e_j|| instead of its square"),
    ("W5", "Weighted.fs", "        | FactoredWeights(left, _) -> left.ColumnCount", "        | FactoredWeights(left, _) -> left.ColumnCount + 1",
     "factored weights report rank r + 1"),
    # Differentiation.
    ("D1", "DiffSvd.fs", "let d = s[j] * s[j] - s[i] * s[i]", "let d = s[i] * s[i] - s[j] * s[j]",
     "the SVD adjoint's F matrix has the wrong sign"),
    ("D2", "DiffSvd.fs", "s |> Array.map (fun x -> x / (x * x + Broadening * Broadening * top + floor))",
     "s |> Array.map (fun x -> x / (x * x + 1e-3 * top + floor))",
     "the SVD adjoint's 1/s is broadened a million times more"),
    ("D3", "Diff.fs", "            let c = 2.0 * g[0, 0]\n            push a (fun () -> map (fun x -> c * x) a.Value))",
     "            let c = g[0, 0]\n            push a (fun () -> map (fun x -> c * x) a.Value))",
     "the squared norm's gradient loses its factor 2"),
    ("D4", "Diff.fs", "map2 (fun p q -> -p * q * q) g c", "map2 (fun p q -> p * q * q) g c",
     "the reciprocal's gradient has the wrong sign"),
    ("D5", "Diff.fs", "map2 (/) (map2 (fun p q -> -p * q) g c) b.Value", "map2 (/) (map2 (fun p q -> p * q) g c) b.Value",
     "the quotient's gradient in its denominator has the wrong sign"),
    ("D6", "Diff.fs", "build.Dense(n, d, fun i j -> v[i] * gs[j * rows + hash[i]])", "build.Dense(n, d, fun i j -> 0.5 * v[i] * gs[j * rows + hash[i]])",
     "the CountSketch product's gradient in A is halved"),
    # Training.
    ("P1", "DiffSvd.fs", "                for _ in 1..iterations do", "                for _ in 1 .. min iterations 3 do",
     "the power method stops after 3 iterations whatever T is"),
    ("G1", "Weighted.fs", "    let rankOne (rowWeights: float[]) (columnWeights: float[]) =", "    let rankOne (columnWeights: float[]) (rowWeights: float[]) =",
     "rank-one weights swap their row and column factors"),
    ("T1", "LossGradient.fs", "Diff.stackRows [ learned; Diff.constant (Sketch.applyUnchecked r 0 a) ]", "(ignore r; learned)",
     "mixed (J) training ignores the random rows in its loss"),
    # Streaming and distributed (issue 15).
    ("M1", "Distributed.fs", "|> Array.fold RowBlocks.stackR (Matrix<float>.Build.Dense(r, r))",
     "|> Array.truncate 1 |> Array.fold RowBlocks.stackR (Matrix<float>.Build.Dense(r, r))",
     "distributed SCW's tall-skinny QR keeps only rank 0's R factor"),
    ("M2", "Streaming.fs", "let sketched, blockSquares = sketchBlock n block",
     "let sketched, blockSquares = sketchBlock 0L block",
     "streaming SCW sketches every block with S's first columns"),
    ("M3", "DistributedShared.fs", "Array.sum counts[.. communicator.Rank - 1], Array.sum counts",
     "Array.sum counts[.. communicator.Rank - 1] + (if communicator.Rank > 0 then 1L else 0L), Array.sum counts",
     "the ranks' global row offsets are off by one"),
    ("M4", "Training.fs", "Array.blit totals 2 gradient 0 gradient.Length",
     "ignore totals",
     "data-parallel training steps with this rank's gradient only"),
    ("M5", "Distributed.fs", "communicator.AllreduceSum [| residual * residual |]",
     "[| residual * residual |]",
     "distributed svd_w reports this rank's loss only"),
    ("M6", "SketchState.fs", "Sum = Array.map2 (+) first.Sum second.Sum",
     "Sum = Array.map2 (fun a _ -> a) first.Sum second.Sum",
     "merging sketch states keeps the first state's S A"),
    ("M7", "Distributed.fs", "MessageBits = bytes |> Array.map (fun b -> 8L * int64 b.Length)",
     "MessageBits = bytes |> Array.map (fun b -> int64 b.Length)",
     "the distributed protocol counts bytes as bits"),
    # The values of features added after the theorems' suite (issue 24): each a plausible slip the earlier properties
    # let through.
    ("F1", "StartingSketches.fs", "Array.sortBy (fun r -> -abs u[j, r])", "Array.sortBy (fun r -> -u[j, r])",
     "the principal start ranks rows by signed U[j, r] instead of |U[j, r]|"),
    ("F2", "Training.fs", "                state.Best <- state.Values\n", "                state.Best <- values\n",
     "without validation the returned sketch holds the values after the best step's update"),
    ("F3", "TrainingCheckpoint.fs", "                options.MinimumLearningRate\n                options.ValidationFraction\n",
     "                options.MinimumLearningRate\n",
     "the checkpoint fingerprint leaves out the validation fraction"),
    ("F4", "WlraShared.fs", "(if above <= cap then Some above else Option.None)", "(if above < cap then Some above else Option.None)",
     "svd_w's exact-rank branch misses r k = min(n, d)"),
    ("F5", "WlraShared.fs", "                largest <- max largest (abs x)\n", "                if w[i] > 0.0 then largest <- max largest (abs x)\n",
     "the amplification is the maximum over positive-weight entries only"),
    ("F6", "Compression.fs", "ridge rank inputCovariance (Some(root, inverseRoot)) layer with",
     "ridge rank inputCovariance (Some(root, (ignore inverseRoot; Matrix<float>.Build.DenseIdentity(root.RowCount)))) layer with",
     "two-sided compression leaves out G^(-1/2) on the output side"),
    ("F7", "NpyFormat.fs", '| "u1" -> via (fun bytes e -> float bytes[e])',
     '| "u1" -> via (fun bytes e -> float (sbyte bytes[e]))',
     "the uint8 .npy decoder sign-extends"),
    # Of the same kinds, written to check that the properties catch them in kind, not case by case.
    ("F8", "Compression.fs", "let lambda = ridge * trace / float n", "let lambda = ridge * trace",
     "compression's ridge is relative to tr(C) instead of tr(C) / n"),
    ("F9", "TrainingValidation.fs", 'raise (ArgumentException($"matrices[{i}]: {e.Message}", nameof matrices, e)))',
     'raise (ArgumentException($"matrices[{i + 1}]: {e.Message}", nameof matrices, e)))',
     "a bad training matrix is named by its 1-based index"),
    ("F10", "Streaming.fs", "sqrt (outside + tail * tail)", "sqrt outside + tail",
     "the streamed error adds the tail instead of its square"),
    # Power iterations (issue 26).
    ("P2", "RowSpace.fs", "    for _ in 1..iterations do", "    for _ in 1 .. min iterations 1 do",
     "subspace iteration stops after one step whatever q is"),
    ("P3", "Streaming.fs", "vt <- Dense.transpose (fst (Dense.qr z))", "vt <- (ignore z; vt)",
     "streamed power iterations read the file but keep the sketch's row space"),
    # This session's additions (issue 23, 25): the target allocator, motion weights, residual norms, hidden matrices.
    # Reading and streaming near the memory's speed (issue 26).
    ("H1", "NpyFormat.fs", "t[o + 7 * ld] <- values[e + 7]", "t[o + 7 * ld] <- values[e + 6]",
     "the .npy reader's 8-column strips copy their seventh column into the eighth"),
    ("H2", "Streaming.fs", "match Scw.residualOfNorms (sqrt squares) (Dense.twoNorm s) with",
     "match Scw.residualOfNorms (sqrt squares) (Dense.twoNorm s[1..]) with",
     "the streamed error from norms leaves out the first singular value"),
    ("Q1", "Dense.fs", "step q1 g |> Option.map (fun (q, r2) -> q, multiply r2 r1)", "Some(q1, r1)",
     "CholeskyQR2 stops after its first step, whose Q is orthonormal only to cond(A)^2 eps"),
    ("Q2", "Scw.fs", "match residualOfNorms total (Dense.twoNorm (Dense.storedValues approximation.Left)) with",
     "match residualOfNorms total (Dense.twoNorm (Dense.storedValues approximation.Right)) with",
     "projectionError subtracts ||R||_F (sqrt of the rank) instead of ||L||_F"),
    ("L1", "TallGemm.fs", "for i in i .. last - 1 do", "for i in i .. last - 2 do",
     "the tall A V kernel leaves the last row after the whole strips unwritten"),
    ("L2", "TallGemm.fs", "for partial in partials do", "for partial in partials[..0] do",
     "the tall A^T Q kernel keeps only the first core's partial sums"),
    ("U1", "Dense.fs", "| Some(_, factor) -> factor", "| Some(_, factor) -> factor.Transpose()",
     "rFactor keeps CholeskyQR2's R transposed (the streamed A V's left singular vectors for its right ones)"),
    ("Z1", "Kernels.fs", "let mutable side, trans = 'L'B, 'N'B", "let mutable side, trans = 'L'B, 'T'B",
     "the leading SVD applies Q^T instead of Q to R's left singular vectors"),
    ("O1", "RowSpace.fs", "fused <- (wellConditionedGram (Dense.multiply vt w)).IsSome", "fused <- true",
     "the in-memory power iterations always take the one-pass form A^T (A V), also on steep spectra"),
    ("O2", "TallGemm.fs", "if t < count then a[i + t + p * lda] else 0.0", "if t < count then a[i + t + p * lda] else a[i + p * lda]",
     "the one-pass A^T (A V) pads the last block of rows with copies of its first row instead of zeros"),
    ("X1", "RowMajorGemm.fs", "for p in d / MR * MR .. d - 1 do", "for p in d / MR * MR .. d - 2 do",
     "the row-major A^T Y kernel leaves out A's last column when d is not a multiple of 16"),
    ("X2", "RowMajorGemm.fs", "(fun j i t value -> y[j * n + i + t] <- value)", "(fun j i t value -> if j > 0 then y[j * n + i + t] <- value)",
     "the row-major A V kernel leaves its first column zero"),
    ("X3", "RowMajorGemm.fs", "sum[column + p] <- sum[column + p] + v * entry", "sum[column + p] <- sum[column + p] - v * entry",
     "the row-major CountSketch subtracts the entries past the last whole vector"),
    ("X4", "RowMajorGemm.fs", "squares <- squares + entries * entries", "squares <- squares + entries * Numerics.Vector.Abs entries",
     "the stream's fused sum of squares (its error's ||A||_F^2) is off for negative entries"),
    ("U2", "Streaming.fs", "Dense.multiply (Matrix<float>.Build.DiagonalOfDiagonalArray(Array.map sqrt svd.S)) svd.Vt)",
     "Dense.multiply (Matrix<float>.Build.DiagonalOfDiagonalArray svd.S) svd.Vt)",
     "the stream's R from the Gram matrix takes the eigenvalues for A V's singular values"),
    ("X5", "Scw.fs", "            sqrt squares\n", "            sqrt (squares * (1.0 + 1e-8))\n",
     "approximateTransposedWithPowerAndError's ||A||_F from the sketch's pass is off by 5e-9"),
    ("J1", "RowSpace.fs", "SingularValues = Array.map sqrt svd.S[.. kept - 1]", "SingularValues = svd.S[.. kept - 1]",
     "a tall SCW from the Gram matrix reports its eigenvalues as A V's singular values"),
    ("B3", "ModelBudget.fs", "                error <- error - gain", "                error <- error - 0.5 * gain",
     "the target allocator under-counts each step's gain and keeps growing past the target"),
    ("Y1", "Video.fs", "|> Array.map (fun f -> (f - mean).PointwisePower 2.0)", "|> Array.map (fun f -> (f - 0.0 * mean).PointwisePower 2.0)",
     "motion weights measure each pixel about 0 instead of its mean"),
    ("Y2", "Synthetic.fs", "let hidden = projector * (signal + noise * sqrt (float rank) * gaussian n columns)",
     "let hidden = (ignore projector; signal + noise * sqrt (float rank) * gaussian n columns)",
     "the hidden matrices are not projected off the sketch's row space"),
    ("C8", "Scw.fs", "let a = if scale > 0.0 && scale <> 1.0 then a / scale else a", "let a = (ignore scale; a)",
     "test residuals ignore the normalization"),
]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join("src", "Core.FSharp")


def locate(root, name):
    """The path of the core's source file `name`, in whichever layer folder it sits."""
    for folder, _, files in os.walk(os.path.join(root, CORE)):
        if name in files and os.sep + "obj" not in folder and os.sep + "bin" not in folder:
            return os.path.join(folder, name)
    raise FileNotFoundError(f"{name} is not under {CORE}")


def read(root, mutant):
    with open(locate(root, mutant[1]), encoding="utf-8") as f:
        return f.read()


def check(root):
    """Every mutant's text occurs exactly once; returns the stale ones."""
    stale = []
    for mutant in MUTANTS:
        count = read(root, mutant).count(mutant[2])
        if count != 1:
            stale.append((mutant[0], mutant[1], count))
    return stale


def run(command, cwd, timeout):
    started = time.time()
    try:
        done = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, text=True)
        return done.returncode, done.stdout, time.time() - started
    except subprocess.TimeoutExpired:
        return "timeout", "", time.time() - started


def main(arguments):
    if "--list" in arguments:
        for mutant in MUTANTS:
            print(f"{mutant[0]:4} {mutant[1]:12} {mutant[4]}")
        return 0
    stale = check(ROOT)
    if stale:
        for name, file, count in stale:
            print(f"stale mutant {name}: its text occurs {count} times in {CORE}/{file} (expected once)", file=sys.stderr)
        return 2
    if "--check" in arguments:
        print(f"{len(MUTANTS)} mutants, each matching the source exactly once.")
        return 0
    chosen = [m for m in MUTANTS if not arguments or m[0] in arguments]
    if arguments and len(chosen) != len(arguments):
        known = {m[0] for m in MUTANTS}
        print(f"unknown mutants: {' '.join(a for a in arguments if a not in known)}", file=sys.stderr)
        return 2

    work = tempfile.mkdtemp(prefix="lowrank-mutants-")
    copy = os.path.join(work, "repo")
    try:
        # The working tree as it is (committed or not), without build outputs.
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("bin", "obj", "results", "data", ".git"))
        project = os.path.join("tests", "Properties")
        build = ["dotnet", "build", project, "-c", "Release", "-nologo", "-v", "q"]
        code, output, _ = run(build, copy, 900)
        if code != 0:
            print("the unmutated source does not build:\n" + output, file=sys.stderr)
            return 2
        test = ["dotnet", "test", project, "-c", "Release", "--no-build", "-nologo"]
        code, output, seconds = run(test, copy, 1800)
        if code != 0:
            print("the properties fail on the unmutated source:\n" + output, file=sys.stderr)
            return 2
        print(f"unmutated: the properties pass ({seconds:.0f} s)")

        survivors, uncompiled = [], []
        for mutant in chosen:
            name, file, text, replacement, what = mutant
            path = locate(copy, file)
            original = read(copy, mutant)
            with open(path, "w", encoding="utf-8") as f:
                f.write(original.replace(text, replacement, 1))
            try:
                code, output, _ = run(build, copy, 900)
                if code != 0:
                    uncompiled.append(name)
                    print(f"{name:4} does not compile   ({what})")
                    continue
                code, output, seconds = run(test, copy, 1800)
                failed = [line.strip() for line in output.splitlines() if line.strip().startswith("Failed ")]
                if code == 0:
                    survivors.append(name)
                    print(f"{name:4} SURVIVED           ({what}) {seconds:.0f} s")
                else:
                    caught_by = failed[0][len("Failed "):] if failed else f"exit {code}"
                    print(f"{name:4} caught in {seconds:3.0f} s  ({what}) by {caught_by} and {max(0, len(failed) - 1)} more")
            finally:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(original)
            sys.stdout.flush()

        print(f"{len(chosen)} mutants: {len(chosen) - len(survivors) - len(uncompiled)} caught, {len(survivors)} survived"
              + (f" ({' '.join(survivors)})" if survivors else "")
              + (f", {len(uncompiled)} did not compile ({' '.join(uncompiled)})" if uncompiled else ""))
        return 1 if survivors or uncompiled else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
