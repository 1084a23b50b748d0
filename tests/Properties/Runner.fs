/// Runs FsCheck properties inside xunit facts. Every run starts from a known seed so CI is reproducible; set
/// LOWRANK_PROPERTY_SEED to another unsigned integer to explore new inputs, or to the seed a failure printed to replay
/// the whole run; set LOWRANK_PROPERTY_REPLAY to the "seed,gamma,size" a failure printed to run its one failing case
/// (with a debugger attached, say) instead of the whole run.
module LowRank.Properties.Runner

open System
open FsCheck
open FsCheck.FSharp

/// The fixed default seed, used unless LOWRANK_PROPERTY_SEED is set.
[<Literal>]
let DefaultSeed = 20261122UL

let runSeed =
    match Environment.GetEnvironmentVariable "LOWRANK_PROPERTY_SEED" with
    | null
    | "" -> DefaultSeed
    | text ->
        match UInt64.TryParse text with
        | true, value -> value
        | _ -> failwithf "LOWRANK_PROPERTY_SEED must be an unsigned integer, but it is '%s'." text

/// The one case to replay, from LOWRANK_PROPERTY_REPLAY = "seed,gamma,size" (FsCheck's random state and size at
/// the failing step), or None.
let replayCase =
    match Environment.GetEnvironmentVariable "LOWRANK_PROPERTY_REPLAY" with
    | null
    | "" -> None
    | text ->
        match text.Split(',') |> Array.map (fun part -> UInt64.TryParse(part.Trim())) with
        | [| (true, seed); (true, gamma); (true, size) |] -> Some(Rnd(seed, gamma), int size)
        | _ ->
            failwithf
                "LOWRANK_PROPERTY_REPLAY must be 'seed,gamma,size' (three unsigned integers, as a failure prints them), but it is '%s'."
                text

/// The environment setting that replays the failing step, from FsCheck's report: "Replay directly at failing step
/// with (seed,gamma,size)" or "Last step was invoked with size of S and seed of (seed,gamma)".
let private replayHint (message: string) =
    let direct =
        Text.RegularExpressions.Regex.Match(message, @"failing step with \((\d+),\s*(\d+),\s*(\d+)\)")

    let last =
        Text.RegularExpressions.Regex.Match(message, @"size of (\d+) and seed of \((\d+),\s*(\d+)\)")

    let setting =
        if direct.Success then
            Some(direct.Groups[1].Value, direct.Groups[2].Value, direct.Groups[3].Value)
        elif last.Success then
            Some(last.Groups[2].Value, last.Groups[3].Value, last.Groups[1].Value)
        else
            None

    match setting with
    | Some(seed, gamma, size) ->
        $"\nReplay only the failing case (then its shrinking) with LOWRANK_PROPERTY_REPLAY={seed},{gamma},{size}."
    | None -> ""

/// Checks a property with `tests` generated cases from the seed (or the one case of LOWRANK_PROPERTY_REPLAY); a failure
/// fails the xunit test with FsCheck's report (the shrunk counterexample, its labels) and the settings that replay
/// the whole run and the failing case alone.
let checkWith (tests: int) (property: Property) =
    let config =
        match replayCase with
        | Some(rnd, size) ->
            Config.QuickThrowOnFailure
                .WithMaxTest(1)
                .WithQuietOnSuccess(true)
                .WithReplay(Some { Rnd = rnd; Size = Some size })
        | None ->
            Config.QuickThrowOnFailure
                .WithMaxTest(tests)
                .WithQuietOnSuccess(true)
                .WithReplay(Some { Rnd = Rnd(runSeed); Size = None })

    try
        Check.One(config, property)
    with e ->
        raise (
            Xunit.Sdk.XunitException(
                match replayCase with
                | Some _ -> $"{e.Message}\n(The single case of LOWRANK_PROPERTY_REPLAY, then its shrinking.)"
                | None ->
                    $"{e.Message}\nReplay the whole run with LOWRANK_PROPERTY_SEED={runSeed}.{replayHint e.Message}"
            )
        )

/// Checks a property on 100 generated cases.
let check (property: Property) = checkWith 100 property

/// Counts the cases of one property run in which its theorem bites (for example: the first sketch alone is not
/// already optimal), so that a run on degenerate cases only cannot pass as evidence. Each case is also labelled for
/// FsCheck's classification.
type NonTrivial(what: string) =
    let mutable count = 0

    /// How many cases were non-trivial so far.
    member _.Count = count

    /// What a non-trivial case is, as the failure message says it.
    member _.What = what

    /// Counts the case when `nonTrivial`, and labels the property with the classification.
    member _.Classify (nonTrivial: bool) (property: Property) =
        if nonTrivial then
            count <- count + 1

        property |> Prop.classify nonTrivial what

/// Checks a property on `tests` cases, as checkWith, then requires that at least `minimum` of them were non-trivial
/// by `cases`; the count is printed either way, so a run shows how much of it exercised the theorem.
let checkNonTrivial (tests: int) (minimum: int) (cases: NonTrivial) (property: Property) =
    checkWith tests property
    printfn "%d of %d cases %s (at least %d required)" cases.Count tests cases.What minimum

    // A replayed single case cannot meet a minimum meant for a whole run.
    if replayCase.IsNone && cases.Count < minimum then
        raise (
            Xunit.Sdk.XunitException(
                $"Only {cases.Count} of {tests} generated cases {cases.What}; at least {minimum} are required for the run to test the theorem. Seed: LOWRANK_PROPERTY_SEED={runSeed}."
            )
        )
