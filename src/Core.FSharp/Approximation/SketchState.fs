namespace LowRank.Core

open System
open System.IO
open MathNet.Numerics.LinearAlgebra

/// <summary>S A of a counter-based CountSketch accumulated over row blocks of A: the state of a sketch of a matrix that
/// arrives in pieces (a stream, files, or the ranks of a cluster). Two states of the same sketch merge by adding, and a
/// state is saved and read back bit for bit, so partial sketches can be combined in any order and on any machine.
/// </summary>
[<NoComparison; CustomEquality>]
type SketchState = internal {
    /// The sketch's seed.
    Seed: int
    /// m, the sketch's rows.
    SketchRows: int
    /// d, A's columns.
    Width: int
    /// How many rows of A have been added.
    Covered: int64
    /// S A so far, m x d, column-major.
    Sum: float[]
} with

    /// The sketch's seed.
    member this.SketchSeed = this.Seed

    /// m, the rows of S and of S A.
    member this.Rows = this.SketchRows

    /// d, the columns of A and of S A.
    member this.Columns = this.Width

    /// How many rows of A the state holds (summed over merged states).
    member this.RowsCovered = this.Covered

    /// S A so far, as a new m x d matrix.
    member this.Value =
        Matrix<float>.Build.Dense(this.SketchRows, this.Width, Array.copy this.Sum)

    override this.Equals(other) =
        match other with
        | :? SketchState as o ->
            this.Seed = o.Seed
            && this.SketchRows = o.SketchRows
            && this.Width = o.Width
            && this.Covered = o.Covered
            && this.Sum = o.Sum
        | _ -> false

    override this.GetHashCode() =
        HashCode.Combine(this.Seed, this.SketchRows, this.Width, this.Covered)

    override this.ToString() =
        $"SketchState: seed {this.Seed}, {this.SketchRows} x {this.Width}, {this.Covered} rows of A"

/// Builds, merges, saves and reads sketch states.
[<RequireQualifiedAccess>]
module SketchState =

    [<Literal>]
    let private Magic = "LRSKSTAT"

    [<Literal>]
    let private Version = 1us

    /// The most rows of A a state may cover, 2^53: every count up to it is exact as a float64, and no matrix comes near
    /// it (2^53 rows of one float64 are 64 PiB); a larger count in a file is forged or corrupted.
    [<Literal>]
    let private MaxCovered = 9007199254740992L

    /// covered + more, rejected beyond MaxCovered (where int64 addition would also, in the end, wrap to a negative count).
    let private coveredSum (parameter: string) (covered: int64) (more: int64) =
        if more > MaxCovered - covered then
            raise (
                ArgumentException(
                    $"Expected at most 2^53 rows covered in all, but {covered} + {more} exceed it.",
                    parameter
                )
            )

        covered + more

    /// <summary>The state of no rows yet: S A = 0.</summary>
    /// <param name="seed">The counter-based CountSketch's seed (Sketch.hashedCountSketch).</param>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="columns">d &gt;= 1, A's columns.</param>
    /// <returns>The empty state.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">rows or columns is less than 1, or m d exceeds an array.</exception>
    [<CompiledName("Empty")>]
    let empty (seed: int) (rows: int) (columns: int) =
        Guard.positive (nameof rows) rows
        Guard.positive (nameof columns) columns

        if int64 rows * int64 columns > int64 Array.MaxLength then
            raise (
                ArgumentOutOfRangeException(nameof columns, columns, $"Expected rows x columns <= {Array.MaxLength}.")
            )

        {
            Seed = seed
            SketchRows = rows
            Width = columns
            Covered = 0L
            Sum = Array.zeroCreate (rows * columns)
        }

    /// <summary>Adds one row block of A: the new state's S A is the old one plus S[:, rowOffset .. rowOffset + b) block.
    /// The blocks added to states that are later merged must not overlap (each row of A is added once).</summary>
    /// <param name="rowOffset">The index in A of the block's first row, &gt;= 0.</param>
    /// <param name="block">b x d rows of A: nonempty, finite, dense or sparse.</param>
    /// <param name="state">The state to add to (unchanged).</param>
    /// <returns>A new state.</returns>
    /// <exception cref="System.ArgumentNullException">block or state is null.</exception>
    /// <exception cref="System.ArgumentException">block is empty, not finite, its columns differ from the state's, or it
    /// takes the rows covered beyond 2^53.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rowOffset is negative.</exception>
    /// <remarks>O(nnz(block) + m d): the block's part of S is built from (seed, row index) alone.</remarks>
    [<CompiledName("Add")>]
    let add (rowOffset: int64) (block: Matrix<float>) (state: SketchState) =
        Guard.notNull (nameof state) state
        Guard.finiteMatrix (nameof block) block

        if rowOffset < 0L then
            raise (ArgumentOutOfRangeException(nameof rowOffset, rowOffset, "Expected rowOffset >= 0."))

        if block.ColumnCount <> state.Width then
            raise (
                ArgumentException(
                    $"Expected a block with the state's {state.Width} columns, but block is {Guard.shape block}.",
                    nameof block
                )
            )

        let part =
            RowBlocks.apply (BlockSketch.Hashed(state.Seed, state.SketchRows)) rowOffset block

        let sum = Array.copy state.Sum
        let values = part.AsColumnMajorArray()

        for i in 0 .. sum.Length - 1 do
            sum[i] <- sum[i] + values[i]

        {
            state with
                Sum = sum
                Covered = coveredSum (nameof block) state.Covered (int64 block.RowCount)
        }

    /// <summary>Merges two states of the same sketch built from disjoint row blocks: S A of their union.</summary>
    /// <param name="first">A state.</param>
    /// <param name="second">A state with the same seed, rows and columns.</param>
    /// <returns>A new state whose S A is the sum (addition is commutative; in floating point the order of a long chain
    /// of merges changes the last bits).</returns>
    /// <exception cref="System.ArgumentNullException">first or second is null.</exception>
    /// <exception cref="System.ArgumentException">the states belong to different sketches or shapes, or together they
    /// cover more than 2^53 rows.</exception>
    [<CompiledName("Merge")>]
    let merge (first: SketchState) (second: SketchState) =
        Guard.notNull (nameof first) first
        Guard.notNull (nameof second) second

        if
            first.Seed <> second.Seed
            || first.SketchRows <> second.SketchRows
            || first.Width <> second.Width
        then
            raise (
                ArgumentException(
                    $"Expected states of the same sketch, but first is (seed {first.Seed}, {first.SketchRows} x {first.Width}) and second is (seed {second.Seed}, {second.SketchRows} x {second.Width}).",
                    nameof second
                )
            )

        {
            first with
                Sum = Array.map2 (+) first.Sum second.Sum
                Covered = coveredSum (nameof second) first.Covered second.Covered
        }

    /// <summary>The state's bytes: "LRSKSTAT", version 1, seed, m, d (int32), rows covered (int64, at most 2^53), S A as
    /// m d finite float64 in column-major order, then the CRC-32 of everything before it; little-endian. Readers check
    /// the checksum and then every field.</summary>
    /// <param name="state">The state.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="System.ArgumentNullException">state is null.</exception>
    [<CompiledName("ToBytes")>]
    let toBytes (state: SketchState) =
        Guard.notNull (nameof state) state

        Framed.write Magic Version (fun w ->
            w.Write state.Seed
            w.Write state.SketchRows
            w.Write state.Width
            w.Write state.Covered
            state.Sum |> Array.iter w.Write)

    let private parse (source: string) (bytes: byte[]) =
        Framed.read source "sketch state" Magic Version bytes (fun r ->
            let seed = r.ReadInt32()
            let rows = Framed.count r "rows" 1 (int64 Int32.MaxValue)
            let columns = Framed.count r "columns" 1 (int64 Array.MaxLength / int64 rows)
            let covered = r.ReadInt64()

            if covered < 0L || covered > MaxCovered then
                raise (InvalidDataException $"the rows covered, {covered}, are outside [0, 2^53].")

            {
                Seed = seed
                SketchRows = rows
                Width = columns
                Covered = covered
                Sum = Framed.finiteDoubles r "S A" (rows * columns)
            })

    /// <summary>Reads a state from toBytes' format, checking magic, version, CRC-32 and sizes first.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The state, equal to the one written.</returns>
    /// <exception cref="System.ArgumentNullException">bytes is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">the bytes are not a valid state; the message says what is wrong.</exception>
    [<CompiledName("FromBytes")>]
    let ofBytes (bytes: byte[]) =
        Guard.notNull (nameof bytes) bytes
        parse "bytes" bytes

    /// <summary>Saves a state (toBytes' format) under a temporary name renamed into place, so an interrupted save
    /// never leaves a partial file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="state">The state.</param>
    /// <exception cref="System.ArgumentNullException">path or state is null.</exception>
    /// <exception cref="System.IO.IOException">the file cannot be written.</exception>
    [<CompiledName("Save")>]
    let save (path: string) (state: SketchState) =
        Guard.notNull (nameof path) path
        Framed.writeFile path (toBytes state)

    /// <summary>Reads a state saved by save.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The state.</returns>
    /// <exception cref="System.ArgumentNullException">path is null.</exception>
    /// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">the file is not a valid state; the message names it.</exception>
    [<CompiledName("Load")>]
    let load (path: string) =
        Guard.notNull (nameof path) path
        parse path (File.ReadAllBytes path)
