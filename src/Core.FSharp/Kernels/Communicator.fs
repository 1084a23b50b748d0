namespace LowRank.Core

open System
open System.Runtime.InteropServices
open System.Threading

/// <summary>The collective operations of LowRank's distributed algorithms, over a fixed group of processes (ranks).
/// Every rank calls the same operations in the same order, as MPI's collectives require. Implementations:
/// <c>Communicator.single</c> (one process), <c>Communicator.runInProcess</c> (ranks as threads of one process, for
/// tests and for trying a distributed program on one machine) and LowRank.Distributed's MpiCommunicator (MPI).</summary>
type ICommunicator =
    /// This process's rank, 0 .. Size - 1.
    abstract Rank: int
    /// The number of ranks, at least 1.
    abstract Size: int
    /// The element-wise sum over the ranks of equally long arrays, returned to every rank with the same bits on every
    /// rank (ranks that disagreed in the last bit would take different steps and drift apart).
    abstract AllreduceSum: values: float[] -> float[]
    /// Every rank's bytes (the lengths may differ), in rank order, returned to every rank.
    abstract Allgather: bytes: byte[] -> byte[][]
    /// The root rank's bytes, returned to every rank; the other ranks' argument is ignored.
    abstract Broadcast: bytes: byte[] * root: int -> byte[]

/// <summary>What one rank sent through a counting communicator (<c>Communicator.counting</c>): the number of collective
/// operations (rounds) and the payload bytes this rank contributed: 8 L for a sum of L values, its own bytes for an
/// allgather, the bytes for the root of a broadcast and 0 for the others. MPI's algorithms move at most about twice
/// this per rank (a ring allreduce sends 2 (p - 1) / p of it, a tree broadcast log p times the root's).</summary>
[<Sealed>]
type Traffic() =
    /// The collective operations called.
    member val Rounds = 0L with get, set
    /// The payload bytes contributed.
    member val Bytes = 0L with get, set

/// One exchange point shared by the ranks of runInProcess: each round, every rank deposits a value and receives all of
/// them in rank order. A rank that fails breaks the exchange, so the others stop waiting instead of hanging.
type private Exchange(size: int) =
    let gate = obj ()
    let slots: obj[] = Array.init size (fun _ -> obj ())
    let mutable results: obj[] = [||]
    let mutable arrived = 0
    let mutable generation = 0L
    let mutable broken = false

    member _.Round(rank: int, value: obj) : obj[] =
        lock gate (fun () ->
            if broken then
                raise (OperationCanceledException "Another rank of the in-process group failed.")

            slots[rank] <- value
            arrived <- arrived + 1
            let mine = generation

            if arrived = size then
                results <- Array.copy slots
                arrived <- 0
                generation <- generation + 1L
                Monitor.PulseAll gate
            else
                while generation = mine && not broken do
                    Monitor.Wait gate |> ignore

                if generation = mine then
                    raise (OperationCanceledException "Another rank of the in-process group failed.")

            results)

    member _.Break() =
        lock gate (fun () ->
            broken <- true
            Monitor.PulseAll gate)

type private InProcess(rank: int, size: int, exchange: Exchange) =
    interface ICommunicator with
        member _.Rank = rank
        member _.Size = size

        member _.AllreduceSum(values) =
            let all = exchange.Round(rank, values :> obj)
            let length = values.Length

            if all |> Array.exists (fun v -> (unbox<float[]> v).Length <> length) then
                let lengths =
                    all
                    |> Array.map (fun v -> string (unbox<float[]> v).Length)
                    |> String.concat ", "

                raise (
                    ArgumentException(
                        $"Expected equally long arrays on every rank, but the lengths are {lengths}.",
                        nameof values
                    )
                )

            // Summed in rank order, so every rank gets the same bits.
            let sum = Array.zeroCreate length

            for v in all do
                let v = unbox<float[]> v

                for i in 0 .. length - 1 do
                    sum[i] <- sum[i] + v[i]

            sum

        member _.Allgather(bytes) =
            exchange.Round(rank, bytes :> obj)
            |> Array.map (fun v -> Array.copy (unbox<byte[]> v))

        member _.Broadcast(bytes, root) =
            let all = exchange.Round(rank, bytes :> obj)
            Array.copy (unbox<byte[]> all[root])

type private Single() =
    interface ICommunicator with
        member _.Rank = 0
        member _.Size = 1
        member _.AllreduceSum(values) = Array.copy values
        member _.Allgather(bytes) = [| Array.copy bytes |]
        member _.Broadcast(bytes, _) = Array.copy bytes

type private Counting(inner: ICommunicator, traffic: Traffic) =
    let count (bytes: int64) =
        traffic.Rounds <- traffic.Rounds + 1L
        traffic.Bytes <- traffic.Bytes + bytes

    interface ICommunicator with
        member _.Rank = inner.Rank
        member _.Size = inner.Size

        member _.AllreduceSum(values) =
            count (8L * int64 values.Length)
            inner.AllreduceSum values

        member _.Allgather(bytes) =
            count (int64 bytes.Length)
            inner.Allgather bytes

        member _.Broadcast(bytes, root) =
            count (if inner.Rank = root then int64 bytes.Length else 0L)
            inner.Broadcast(bytes, root)

/// Communicators, and typed forms of the byte collectives.
[<RequireQualifiedAccess>]
module Communicator =

    /// <summary>The communicator of a single process: every collective returns its own argument.</summary>
    /// <returns>A communicator with Rank 0 and Size 1.</returns>
    [<CompiledName("Single")>]
    let single: ICommunicator = Single()

    /// <summary>A communicator that records what this rank sends through `inner` in `traffic`.</summary>
    /// <param name="traffic">The counters to add to.</param>
    /// <param name="inner">The communicator that does the work.</param>
    /// <returns>The counting communicator.</returns>
    /// <exception cref="System.ArgumentNullException">traffic or inner is null.</exception>
    [<CompiledName("Counting")>]
    let counting (traffic: Traffic) (inner: ICommunicator) : ICommunicator =
        Guard.notNull (nameof traffic) traffic
        Guard.notNull (nameof inner) inner
        Counting(inner, traffic)

    /// <summary>Runs `program` on `size` ranks, each on a thread of its own with an in-process communicator, and returns
    /// each rank's result in rank order: a distributed program tried on one machine, without MPI.</summary>
    /// <param name="size">The number of ranks, at least 1.</param>
    /// <param name="program">What every rank runs.</param>
    /// <returns>The results, in rank order.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">size is less than 1.</exception>
    /// <remarks>If a rank throws, the others' next collective throws OperationCanceledException instead of waiting,
    /// and the lowest rank's original exception is rethrown here.</remarks>
    [<CompiledName("RunInProcess")>]
    let runInProcess (size: int) (program: ICommunicator -> 'T) : 'T[] =
        Guard.positive (nameof size) size
        Guard.notNull (nameof program) program
        let exchange = Exchange size
        let results = Array.zeroCreate<'T> size
        let failures: exn option[] = Array.create size None

        let threads =
            Array.init size (fun rank ->
                Thread(
                    (fun () ->
                        try
                            results[rank] <- program (InProcess(rank, size, exchange))
                        with e ->
                            failures[rank] <- Some e
                            exchange.Break()),
                    16 * 1024 * 1024
                ))

        threads |> Array.iter (fun t -> t.Start())
        threads |> Array.iter (fun t -> t.Join())

        let first =
            failures
            |> Array.tryPick (Option.filter (fun e -> not (e :? OperationCanceledException)))
            |> Option.orElse (Array.tryPick id failures)

        match first with
        | Some e -> Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw()
        | None -> ()

        results

    /// Every rank's values (lengths may differ), in rank order.
    let internal allgatherValues (communicator: ICommunicator) (values: float[]) : float[][] =
        communicator.Allgather(MemoryMarshal.AsBytes(ReadOnlySpan values).ToArray())
        |> Array.map (fun bytes -> MemoryMarshal.Cast<byte, float>(ReadOnlySpan bytes).ToArray())

    /// The root's values on every rank.
    let internal broadcastValues (communicator: ICommunicator) (root: int) (values: float[]) : float[] =
        let bytes =
            communicator.Broadcast(MemoryMarshal.AsBytes(ReadOnlySpan values).ToArray(), root)

        MemoryMarshal.Cast<byte, float>(ReadOnlySpan bytes).ToArray()

    /// Every rank's 64-bit integer, in rank order.
    let internal allgatherInt64 (communicator: ICommunicator) (value: int64) : int64[] =
        communicator.Allgather(BitConverter.GetBytes value)
        |> Array.map (fun bytes -> BitConverter.ToInt64(bytes, 0))
