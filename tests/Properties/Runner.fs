/// Runs FsCheck properties inside xunit facts (FsCheck.Xunit is not on the package feed). Every run starts from a
/// known seed so CI is reproducible; set LOWRANK_PROPERTY_SEED to another unsigned integer to explore new inputs,
/// or to the seed a failure printed to replay it.
module LowRank.Properties.Runner

open System
open FsCheck

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
