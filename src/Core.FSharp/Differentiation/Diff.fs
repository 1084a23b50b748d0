namespace LowRank.Core

open System
open MathNet.Numerics.LinearAlgebra

/// A value in a reverse-mode computation: a dense matrix (a scalar is 1 x 1) and, once Tape.Backward has run,
/// the adjoint dLoss/dValue. A node without a tape is a constant: no adjoint is ever formed for it, so data
/// matrices cost nothing in the reverse sweep.
[<AllowNullLiteral>]
type internal Node(value: Matrix<float>, tape: Tape) =
    /// The forward value.
    member _.Value = value

    /// The tape recording this node, or null for a constant.
    member _.Tape = tape

    /// Whether an adjoint flows into this node (it is a variable or depends on one).
    member _.IsTracked = not (isNull tape)

    /// dLoss/dValue after Tape.Backward, or null when no path from the loss reaches this node.
    member val Adjoint: Matrix<float> | null = null with get, set

    /// The reverse rule: given this node's adjoint, adds the contributions to its parents' adjoints.
    member val Reverse: Matrix<float> -> unit = ignore with get, set

    /// Whether Adjoint is this node's own storage; the first contribution is kept without a copy (it may be shared,
    /// as add passes one G to both operands), and copied only when a second one must be added to it.
    member val private Owned = false with get, set

    /// Adds g to the adjoint (a tracked node only).
    member this.Accumulate(g: Matrix<float>) =
        if this.IsTracked then
            match this.Adjoint with
            | null ->
                this.Adjoint <- g
                this.Owned <- false
            | shared when not this.Owned ->
                let sum = shared.Clone()
                sum.Add(g, sum)
                this.Adjoint <- sum
                this.Owned <- true
            | adjoint ->
                match adjoint.AsColumnMajorArray(), g.AsColumnMajorArray() with
                | null, _
                | _, null -> adjoint.Add(g, adjoint)
                | sum, x ->
                    for i in 0 .. sum.Length - 1 do
                        sum[i] <- sum[i] + x[i]

/// The record of one computation, in creation order, which is a topological order: the reverse sweep visits
/// nodes last to first, so every consumer has pushed its contribution before a node passes its adjoint on.
and [<AllowNullLiteral>] internal Tape() =
    let nodes = ResizeArray<Node>()

    member internal _.Add(node: Node) = nodes.Add node

    /// The number of recorded nodes.
    member _.Count = nodes.Count

    /// Runs the reverse sweep from a scalar output: afterwards each variable's Adjoint is dOutput/dVariable (null
    /// when the output does not depend on it).
    member _.Backward(output: Node) =
        if output.Value.RowCount <> 1 || output.Value.ColumnCount <> 1 then
            invalidArg (nameof output) $"Expected a 1x1 output, but it is {Guard.shape output.Value}."

        if output.IsTracked then
            output.Adjoint <- Matrix<float>.Build.Dense(1, 1, 1.0)

            for i in nodes.Count - 1 .. -1 .. 0 do
                let node = nodes[i]

                match node.Adjoint with
                | null -> ()
                | adjoint -> node.Reverse adjoint

/// Reverse-mode differentiation over dense matrices, in the manner of DiffSharp's Op files: each operation
/// computes its forward value and states its reverse rule beside it. Rules add to a parent's adjoint only when
/// the parent is tracked, so products with constant data cost one gemm forward and one per tracked operand
/// backward.
[<RequireQualifiedAccess>]
module internal Diff =

    let private build = Matrix<float>.Build

    /// The column-major entries: the dense storage itself (no copy), or a copy for other storage.
    let internal entries (a: Matrix<float>) =
        match a.AsColumnMajorArray() with
        | null -> a.ToColumnMajorArray()
        | x -> x

    // Entrywise maps in one sequential pass over the storage. MathNet's pointwise operators dispatch in parallel
    // and cost about 10x more on a 576 x 768 frame (measured: 5 ms against 0.5 ms), which made them the larger
    // part of a training step.
    let inline internal map ([<InlineIfLambda>] f: float -> float) (a: Matrix<float>) =
        let x = entries a
        let y = Array.zeroCreate x.Length

        for i in 0 .. x.Length - 1 do
            y[i] <- f x[i]

        Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount, y)

    let inline internal map2 ([<InlineIfLambda>] f: float -> float -> float) (a: Matrix<float>) (b: Matrix<float>) =
        let x, z = entries a, entries b
        let y = Array.zeroCreate x.Length

        for i in 0 .. x.Length - 1 do
            y[i] <- f x[i] z[i]

        Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount, y)

    /// A constant: its adjoint is never formed.
    let constant (value: Matrix<float>) = Node(value, null)

    /// A scalar constant as a 1 x 1 node.
    let scalar (value: float) = constant (build.Dense(1, 1, value))

    /// A variable (a leaf whose gradient is wanted) recorded on the tape.
    let variable (tape: Tape) (value: Matrix<float>) =
        let node = Node(value, tape)
        tape.Add node
        node

    /// A node computed from parents: tracked (and recorded with its rule) when any parent is tracked.
    let record (value: Matrix<float>) (parents: Node list) (reverse: Matrix<float> -> unit) =
        match parents |> List.tryFind (fun p -> p.IsTracked) with
        | None -> Node(value, null)
        | Some p ->
            let node = Node(value, p.Tape)
            node.Reverse <- reverse
            p.Tape.Add node
            node

    /// Adds the contribution `g ()` to a parent's adjoint, computing it only when the parent is tracked.
    let inline push (parent: Node) (g: unit -> Matrix<float>) =
        if parent.IsTracked then
            parent.Accumulate(g ())

    let private checkSame (what: string) (a: Node) (b: Node) =
        if
            a.Value.RowCount <> b.Value.RowCount
            || a.Value.ColumnCount <> b.Value.ColumnCount
        then
            invalidArg
                (nameof b)
                $"{what}: expected operands of one shape, but they are {Guard.shape a.Value} and {Guard.shape b.Value}."

    /// a + b.
    let add (a: Node) (b: Node) =
        checkSame "add" a b

        record (map2 (+) a.Value b.Value) [ a; b ] (fun g ->
            push a (fun () -> g)
            push b (fun () -> g))

    /// a - b.
    let sub (a: Node) (b: Node) =
        checkSame "sub" a b

        record (map2 (-) a.Value b.Value) [ a; b ] (fun g ->
            push a (fun () -> g)
            push b (fun () -> map (fun x -> -x) g))

    /// -a.
    let neg (a: Node) =
        record (map (fun x -> -x) a.Value) [ a ] (fun g -> push a (fun () -> map (fun x -> -x) g))

    /// c a for a constant c.
    let scale (c: float) (a: Node) =
        record (map (fun x -> c * x) a.Value) [ a ] (fun g -> push a (fun () -> map (fun x -> c * x) g))

    /// s a for a 1 x 1 node s: d/ds is <G, a>, d/da is s G.
    let scaleBy (s: Node) (a: Node) =
        let c = s.Value[0, 0]

        record (map (fun x -> c * x) a.Value) [ s; a ] (fun g ->
            push s (fun () ->
                let x, y = entries g, entries a.Value
                let mutable dot = 0.0

                for i in 0 .. x.Length - 1 do
                    dot <- dot + x[i] * y[i]

                build.Dense(1, 1, dot))

            push a (fun () -> map (fun x -> c * x) g))

    /// op(a) op(b), op the transpose when its flag is set. With C = A' B': dA' = G B'^T and dB' = A'^T G,
    /// transposed back when the operand was transposed; each is one gemm.
    let mul (transA: bool) (a: Node) (transB: bool) (b: Node) =
        let inner = if transA then a.Value.RowCount else a.Value.ColumnCount
        let bInner = if transB then b.Value.ColumnCount else b.Value.RowCount

        if inner <> bInner then
            invalidArg
                (nameof b)
                $"mul: inner dimensions differ: {Guard.shape a.Value} (transposed: {transA}) times {Guard.shape b.Value} (transposed: {transB})."

        record (Dense.gemm transA a.Value transB b.Value) [ a; b ] (fun g ->
            push a (fun () ->
                if transA then
                    Dense.gemm transB b.Value true g
                else
                    Dense.gemm false g (not transB) b.Value)

            push b (fun () ->
                if transB then
                    Dense.gemm true g transA a.Value
                else
                    Dense.gemm (not transA) a.Value false g))

    /// a^T.
    let transpose (a: Node) =
        record (Dense.transpose a.Value) [ a ] (fun g -> push a (fun () -> Dense.transpose g))

    /// a o b (entrywise).
    let hadamard (a: Node) (b: Node) =
        checkSame "hadamard" a b

        record (map2 (*) a.Value b.Value) [ a; b ] (fun g ->
            push a (fun () -> map2 (*) g b.Value)
            push b (fun () -> map2 (*) g a.Value))

    /// a / b (entrywise): d/da = G / b, d/db = -G o (a / b) / b.
    let divide (a: Node) (b: Node) =
        checkSame "divide" a b
        let c = map2 (/) a.Value b.Value

        record c [ a; b ] (fun g ->
            push a (fun () -> map2 (/) g b.Value)
            push b (fun () -> map2 (/) (map2 (fun p q -> -p * q) g c) b.Value))

    /// 1 / a (entrywise): d/da = -G / a^2.
    let reciprocal (a: Node) =
        let c = map (fun x -> 1.0 / x) a.Value
        record c [ a ] (fun g -> push a (fun () -> map2 (fun p q -> -p * q * q) g c))

    /// The sum of all entries, 1 x 1.
    let sum (a: Node) =
        let rows, columns = a.Value.RowCount, a.Value.ColumnCount
        let total = Dense.storedValues a.Value |> Array.sum
        record (build.Dense(1, 1, total)) [ a ] (fun g -> push a (fun () -> build.Dense(rows, columns, g[0, 0])))

    /// ||a||_F^2, 1 x 1: d/da = 2 G a.
    let squaredNorm (a: Node) =
        let norm = Dense.twoNorm (Dense.storedValues a.Value)

        record (build.Dense(1, 1, norm * norm)) [ a ] (fun g ->
            let c = 2.0 * g[0, 0]
            push a (fun () -> map (fun x -> c * x) a.Value))

    /// ||a||_F, 1 x 1: d/da = G a / ||a||, taken as 0 when a = 0 (the minimum-norm subgradient, as for rowNorms). A
    /// loss that reaches 0 exactly, as SCW's does when k >= rank(A) (a 1 x 1 or n x 1 matrix at k = 1), then has a zero
    /// gradient instead of sqrt's infinite one.
    let norm (a: Node) =
        let value = Dense.twoNorm (Dense.storedValues a.Value)

        record (build.Dense(1, 1, value)) [ a ] (fun g ->
            let c = if value > 0.0 then g[0, 0] / value else 0.0
            push a (fun () -> map (fun x -> c * x) a.Value))

    /// sqrt(a) entrywise: d/da = G / (2 sqrt a), infinite at 0 (the reverse sweep then reports a non-finite
    /// gradient rather than hiding it).
    let sqrt (a: Node) =
        let c = map Math.Sqrt a.Value
        record c [ a ] (fun g -> push a (fun () -> map2 (fun p q -> p / (2.0 * q)) g c))

    /// The 2-norms of the rows, n x 1: d/da_i = G_i a_i / ||a_i||, taken as 0 for a zero row (the minimum-norm
    /// subgradient).
    let rowNorms (a: Node) =
        let norms = Dense.rowTwoNorms a.Value

        record (build.Dense(norms.Length, 1, norms)) [ a ] (fun g ->
            push a (fun () ->
                let scales =
                    Array.init norms.Length (fun i -> if norms[i] > 0.0 then g[i, 0] / norms[i] else 0.0)

                build.DiagonalOfDiagonalArray(scales) * a.Value))

    /// The block of a at rows [row, row + rows) and columns [column, column + columns); its adjoint is G placed
    /// in a zero matrix of a's shape.
    let block (row: int) (rows: int) (column: int) (columns: int) (a: Node) =
        let n, d = a.Value.RowCount, a.Value.ColumnCount

        if
            row < 0
            || rows < 0
            || row + rows > n
            || column < 0
            || columns < 0
            || column + columns > d
        then
            invalidArg
                (nameof rows)
                $"block: expected rows [{row}, {row + rows}) and columns [{column}, {column + columns}) inside a {Guard.shape a.Value} matrix."

        record (a.Value.SubMatrix(row, rows, column, columns)) [ a ] (fun g ->
            push a (fun () ->
                let full = build.Dense(n, d)
                full.SetSubMatrix(row, column, g)
                full))

    /// Rows [start, start + count) of a.
    let rows (start: int) (count: int) (a: Node) =
        block start count 0 a.Value.ColumnCount a

    /// Columns [start, start + count) of a.
    let columns (start: int) (count: int) (a: Node) = block 0 a.Value.RowCount start count a

    /// The parts' rows stacked in order; every part has the same column count.
    let stackRows (parts: Node list) =
        let values = parts |> List.map (fun p -> p.Value) |> List.toArray
        let columns = values[0].ColumnCount

        match values |> Array.tryFind (fun v -> v.ColumnCount <> columns) with
        | Some v ->
            invalidArg
                (nameof parts)
                $"stackRows: expected {columns} columns in every part, but one is {Guard.shape v}."
        | None -> ()

        let offsets = values |> Array.scan (fun offset v -> offset + v.RowCount) 0
        let stacked = build.Dense(offsets[values.Length], columns)
        values |> Array.iteri (fun i v -> stacked.SetSubMatrix(offsets[i], 0, v))

        record stacked parts (fun g ->
            parts
            |> List.iteri (fun i p -> push p (fun () -> g.SubMatrix(offsets[i], values[i].RowCount, 0, columns))))

    /// The parts' columns side by side, in order; every part has the same row count.
    let stackColumns (parts: Node list) =
        parts |> List.map transpose |> stackRows |> transpose

    /// S A for a CountSketch S (m x n) with fixed positions `hash` and the values held in the n x 1 node
    /// `values`: row h(i) of the result gains values_i times row i of A. The adjoint of values_i is the inner
    /// product of row i of A with row h(i) of G, and that of A's row i is values_i times row h(i) of G; both cost
    /// O(n d) and the m x n matrix S is never formed.
    let countSketch (rows: int) (hash: int[]) (values: Node) (a: Node) =
        let n, d = a.Value.RowCount, a.Value.ColumnCount

        if values.Value.RowCount <> n || values.Value.ColumnCount <> 1 || hash.Length <> n then
            invalidArg
                (nameof values)
                $"countSketch: expected {n}x1 values and {n} hashes for a {Guard.shape a.Value} matrix, but values are {Guard.shape values.Value} and hashes {hash.Length}."

        let v = entries values.Value
        let x = entries a.Value

        record (Sketch.applyUnchecked (CountSketch(rows, hash, v)) 0 a.Value) [ values; a ] (fun g ->
            let gs = entries g

            push values (fun () ->
                let dv = Array.zeroCreate<float> n

                for j in 0 .. d - 1 do
                    for i in 0 .. n - 1 do
                        dv[i] <- dv[i] + x[j * n + i] * gs[j * rows + hash[i]]

                build.Dense(n, 1, dv))

            push a (fun () -> build.Dense(n, d, fun i j -> v[i] * gs[j * rows + hash[i]])))

    /// S A for a sketch with `perColumn` nonzeros in every column (an OSNAP-shaped sketch; a dense block when perColumn
    /// = rows): column j of S holds values[j s + t] in row positions[j s + t], t < s. S is formed densely (rows x n) and
    /// applied by one gemm, O(rows n d), which for s &gt; 1 beats a scatter over s n d entries on the native backend.
    /// With G = dL/d(SA): dL/dS = G A^T (one gemm), read at the positions; dL/dA = S^T G.
    let sparseSketch (rows: int) (perColumn: int) (positions: int[]) (values: Node) (a: Node) =
        let n = a.Value.RowCount

        if
            values.Value.RowCount <> n * perColumn
            || values.Value.ColumnCount <> 1
            || positions.Length <> n * perColumn
        then
            invalidArg
                (nameof values)
                $"sparseSketch: expected {n * perColumn}x1 values and {n * perColumn} positions ({perColumn} per column) for a {Guard.shape a.Value} matrix, but values are {Guard.shape values.Value} and positions {positions.Length}."

        let s = Sketch.denseOfPositions rows perColumn positions (entries values.Value)

        record (Dense.gemm false s false a.Value) [ values; a ] (fun g ->
            push values (fun () ->
                let ds = entries (Dense.gemm false g true a.Value)
                build.Dense(positions.Length, 1, fun i _ -> ds[(i / perColumn) * rows + positions[i]]))

            push a (fun () -> Dense.gemm true s false g))

    /// R = A - (A Z) Z^T for a constant A (n x d) and Z (d x k): the residual of projecting A's rows onto span(Z),
    /// as one node, so no n x d temporary is formed besides R. With G = dL/dR,
    /// dL/dZ = -(A^T (G Z) + G^T (A Z)), three products of cost O(n d k).
    let projectionResidual (a: Matrix<float>) (z: Node) =
        if z.Value.RowCount <> a.ColumnCount then
            invalidArg
                (nameof z)
                $"projectionResidual: expected Z with {a.ColumnCount} rows for a {Guard.shape a} matrix, but Z is {Guard.shape z.Value}."

        let az = Dense.gemm false a false z.Value
        let r = Dense.gemm false az true z.Value
        let x, y = entries a, entries r

        for i in 0 .. y.Length - 1 do
            y[i] <- x[i] - y[i]

        record r [ z ] (fun g ->
            push z (fun () ->
                let first = Dense.gemm true a false (Dense.gemm false g false z.Value)
                let second = Dense.gemm true g false az
                map2 (fun p q -> -(p + q)) first second))

    /// <summary>||A - (A Z) Z^T||_F for a constant A (n x d) and Z (d x k), without the n x d residual: with P = A Z,
    /// G = Z^T Z and H = P^T P, ||A - A Z Z^T||_F^2 = ||A||_F^2 - 2 tr H + &lt;H, G&gt; (any Z, not only orthonormal ones,
    /// so the gradient is that of the same function of Z that projectionResidual computes), and its gradient is
    /// A^T P (2 G - 4 I) + 2 Z H. Two products of O(n d k) and O((n + d) k) memory, against three n x d arrays for
    /// the residual. None when the squared residual is below 1e-4 ||A||_F^2 (given as squaredNormA): the difference
    /// then loses more than 4 of 16 digits to cancellation, and the caller forms the residual instead. `az` is the
    /// value of A Z, which SCW has at hand as (A V) W without another pass over A.</summary>
    let projectionResidualNorm (a: Matrix<float>) (squaredNormA: float) (az: Matrix<float>) (z: Node) =
        let p = az
        let g = Dense.gemm true z.Value false z.Value
        let h = Dense.gemm true p false p
        let k = g.RowCount
        let mutable trace, inner = 0.0, 0.0

        for i in 0 .. k - 1 do
            trace <- trace + h[i, i]

            for j in 0 .. k - 1 do
                inner <- inner + h[i, j] * g[i, j]

        let squared = squaredNormA - 2.0 * trace + inner

        if not (squared > 1e-4 * squaredNormA) then
            None
        else
            let norm = System.Math.Sqrt squared

            Some(
                record (build.Dense(1, 1, norm)) [ z ] (fun out ->
                    push z (fun () ->
                        // dL/dZ = (dL/d||R||) / (2 ||R||) * grad ||R||^2.
                        let c = out[0, 0] / (2.0 * norm)
                        let m = g * (2.0 * c)

                        for i in 0 .. k - 1 do
                            m[i, i] <- m[i, i] - 4.0 * c

                        let first = Dense.gemm true a false (Dense.gemm false p false m)
                        let second = Dense.gemm false z.Value false h
                        map2 (fun x y -> x + 2.0 * c * y) first second))
            )
