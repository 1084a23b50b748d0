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

    /// Adds g to the adjoint (a tracked node only).
    member this.Accumulate(g: Matrix<float>) =
        if this.IsTracked then
            match this.Adjoint with
            | null -> this.Adjoint <- g.Clone()
            | adjoint -> adjoint.Add(g, adjoint)

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

        record (a.Value + b.Value) [ a; b ] (fun g ->
            push a (fun () -> g)
            push b (fun () -> g))

    /// a - b.
    let sub (a: Node) (b: Node) =
        checkSame "sub" a b

        record (a.Value - b.Value) [ a; b ] (fun g ->
            push a (fun () -> g)
            push b (fun () -> -g))

    /// -a.
    let neg (a: Node) =
        record (-a.Value) [ a ] (fun g -> push a (fun () -> -g))

    /// c a for a constant c.
    let scale (c: float) (a: Node) =
        record (c * a.Value) [ a ] (fun g -> push a (fun () -> c * g))

    /// s a for a 1 x 1 node s: d/ds is <G, a>, d/da is s G.
    let scaleBy (s: Node) (a: Node) =
        let c = s.Value[0, 0]

        record (c * a.Value) [ s; a ] (fun g ->
            push s (fun () -> build.Dense(1, 1, g.PointwiseMultiply(a.Value).Enumerate() |> Seq.sum))
            push a (fun () -> c * g))

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
        record (a.Value.Transpose()) [ a ] (fun g -> push a (fun () -> g.Transpose()))

    /// a o b (entrywise).
    let hadamard (a: Node) (b: Node) =
        checkSame "hadamard" a b

        record (a.Value.PointwiseMultiply b.Value) [ a; b ] (fun g ->
            push a (fun () -> g.PointwiseMultiply b.Value)
            push b (fun () -> g.PointwiseMultiply a.Value))

    /// a / b (entrywise): d/da = G / b, d/db = -G o (a / b) / b.
    let divide (a: Node) (b: Node) =
        checkSame "divide" a b
        let c = a.Value.PointwiseDivide b.Value

        record c [ a; b ] (fun g ->
            push a (fun () -> g.PointwiseDivide b.Value)
            push b (fun () -> -(g.PointwiseMultiply c).PointwiseDivide b.Value))

    /// 1 / a (entrywise): d/da = -G / a^2.
    let reciprocal (a: Node) =
        let c = a.Value.Map(fun x -> 1.0 / x)
        record c [ a ] (fun g -> push a (fun () -> -(g.PointwiseMultiply c).PointwiseMultiply c))

    /// The sum of all entries, 1 x 1.
    let sum (a: Node) =
        let rows, columns = a.Value.RowCount, a.Value.ColumnCount
        let total = Dense.storedValues a.Value |> Array.sum
        record (build.Dense(1, 1, total)) [ a ] (fun g -> push a (fun () -> build.Dense(rows, columns, g[0, 0])))

    /// ||a||_F^2, 1 x 1: d/da = 2 G a.
    let squaredNorm (a: Node) =
        let norm = Dense.twoNorm (Dense.storedValues a.Value)
        record (build.Dense(1, 1, norm * norm)) [ a ] (fun g -> push a (fun () -> (2.0 * g[0, 0]) * a.Value))

    /// sqrt(a) entrywise: d/da = G / (2 sqrt a), infinite at 0 (the reverse sweep then reports a non-finite
    /// gradient rather than hiding it).
    let sqrt (a: Node) =
        let c = a.Value.Map(fun x -> Math.Sqrt x)
        record c [ a ] (fun g -> push a (fun () -> g.PointwiseDivide(2.0 * c)))

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

        let v = values.Value.Column 0 |> Seq.toArray
        let x = a.Value.ToColumnMajorArray()
        let result = Array.zeroCreate<float>(rows * d)

        for j in 0 .. d - 1 do
            for i in 0 .. n - 1 do
                result[j * rows + hash[i]] <- result[j * rows + hash[i]] + v[i] * x[j * n + i]

        record (build.Dense(rows, d, result)) [ values; a ] (fun g ->
            let gs = g.ToColumnMajorArray()

            push values (fun () ->
                let dv = Array.zeroCreate<float> n

                for j in 0 .. d - 1 do
                    for i in 0 .. n - 1 do
                        dv[i] <- dv[i] + x[j * n + i] * gs[j * rows + hash[i]]

                build.Dense(n, 1, dv))

            push a (fun () -> build.Dense(n, d, fun i j -> v[i] * gs[j * rows + hash[i]])))
