/// How native calls and Backend.sideBySide's sections keep results independent of timing. A section sets OpenBLAS to
/// one thread while it runs, and OpenBLAS's results depend on its thread count (a thin SVD's last bits differ between
/// one and two threads), so a call from outside the sections that happened to run during one would give other bits than
/// the same call a moment earlier or later. So, while OpenBLAS is configured for several threads: outside calls hold
/// Gate and wait until no section runs (and no section starts during them); sections may overlap (the ranks of an
/// in-process cluster each run one and wait for each other), the first sets one thread, the last restores the count;
/// a section's own calls, marked by InSection (an AsyncLocal, so it flows into the section's parallel tasks), run side
/// by side without the gate.
module internal LowRank.Core.NativeSections

open System
open System.Threading

let Gate = obj ()
let InSection = Threading.AsyncLocal<bool>()
// Guarded by Gate: the sections running, and the thread count to restore when the last ends.
let mutable private running = 0
let mutable private configured = 1
// OpenBLAS's thread count outside sections is above 1; read without the gate, so through Volatile.
let mutable private several = -1

/// Whether OpenBLAS runs several threads outside sections, read the first time under the gate: while a section
/// runs, OpenBLAS reports the one thread the section set, so the count to read is the one the section restores
/// (reading OpenBLAS then took a multi-threaded library for a single-threaded one for good, and outside calls
/// stopped waiting for sections: their results then depended on whether a training run was going on).
let configuredMulti () =
    match Volatile.Read(&several) with
    | -1 ->
        lock Gate (fun () ->
            if several = -1 then
                let count =
                    if running > 0 then
                        configured
                    else
                        Native.threads () |> Option.defaultValue 1

                Volatile.Write(&several, (if count > 1 then 1 else 0)))

        Volatile.Read(&several) = 1
    | value -> value = 1

/// Sets OpenBLAS's thread count outside sections (Backend.setNativeThreads): now, or when the running sections end;
/// false without thread control.
let setThreads (count: int) =
    lock Gate (fun () ->
        let set =
            if running > 0 then
                configured <- count
                (Native.threads ()).IsSome
            else
                Native.setThreads count

        if set then
            Volatile.Write(&several, (if count > 1 then 1 else 0))

        set)

/// Enters a section: Some t (the configured thread count) when OpenBLAS runs t > 1 threads outside sections, now
/// set to one until the last section leaves; None otherwise (nothing to do).
let enter () =
    lock Gate (fun () ->
        if running > 0 then
            running <- running + 1
            Some configured
        else
            match Native.threads () with
            | Some t when t > 1 && Native.setThreads 1 ->
                configured <- t
                running <- 1
                Some t
            | _ -> None)

/// Leaves a section; the last one restores OpenBLAS's thread count and lets outside calls run.
let leave () =
    lock Gate (fun () ->
        running <- running - 1

        if running = 0 then
            Native.setThreads configured |> ignore
            Monitor.PulseAll Gate)

/// Runs an outside call once no section runs, holding Gate so that none starts during it.
let outside (call: unit -> 'T) =
    lock Gate (fun () ->
        while running > 0 do
            Monitor.Wait Gate |> ignore

        call ())
