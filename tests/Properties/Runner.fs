/// Runs FsCheck properties inside xunit facts (FsCheck.Xunit is not on the package feed). Every run starts from a
/// known seed so CI is reproducible; set LOWRANK_PROPERTY_SEED to another unsigned integer to explore new inputs,
/// or to the seed a failure printed to replay it.
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

/// Checks a property with `tests` generated cases from the seed; a failure fails the xunit test with FsCheck's
/// report (the counterexample, its labels and the replay seed) and the LOWRANK_PROPERTY_SEED that reproduces it.
let checkWith (tests: int) (property: Property) =
    let config =
        Config.QuickThrowOnFailure
            .WithMaxTest(tests)
            .WithQuietOnSuccess(true)
            .WithReplay(Some { Rnd = Rnd(runSeed); Size = None })

    try
        Check.One(config, property)
    with e ->
        raise (Xunit.Sdk.XunitException($"{e.Message}\nReplay the whole run with LOWRANK_PROPERTY_SEED={runSeed}."))

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

    if cases.Count < minimum then
        raise (
            Xunit.Sdk.XunitException(
                $"Only {cases.Count} of {tests} generated cases {cases.What}; at least {minimum} are required for the run to test the theorem. Seed: LOWRANK_PROPERTY_SEED={runSeed}."
            )
        )
