/// The one tolerance helper of the suite: |a - b| <= absolute + relative * max(|a|, |b|), with named presets.
/// Absolute tolerances are scaled to the inputs' norms at the call site, so a property holds at any scale.
module LowRank.Properties.Accuracy

open FsCheck
open FsCheck.FSharp

type Accuracy = { Absolute: float; Relative: float }

/// For quantities computed by a few backward-stable steps (norms, sketches): a few hundred ulps.
let high = { Absolute = 1e-13; Relative = 1e-13 }

/// For quantities that go through SVDs and projections: still far below any effect the theorems speak of.
let medium = { Absolute = 1e-10; Relative = 1e-10 }

/// The preset with its absolute part multiplied by `norm`, the scale of the inputs.
let scaledTo (norm: float) (accuracy: Accuracy) = {
    accuracy with
        Absolute = accuracy.Absolute * norm
}

let private slack accuracy a b =
    accuracy.Absolute + accuracy.Relative * max (abs a) (abs b)

/// a = b within the accuracy, labelled with both sides to 17 significant digits.
let close (accuracy: Accuracy) (what: string) (a: float) (b: float) : Property =
    abs (a - b) <= slack accuracy a b
    |> Prop.label (sprintf "%s: %.17g vs %.17g (|diff| %.3g, allowed %.3g)" what a b (abs (a - b)) (slack accuracy a b))

/// a <= b within the accuracy, labelled with both sides to 17 significant digits.
let atMost (accuracy: Accuracy) (what: string) (a: float) (b: float) : Property =
    a <= b + slack accuracy a b
    |> Prop.label (sprintf "%s: %.17g <= %.17g fails by %.3g (allowed %.3g)" what a b (a - b) (slack accuracy a b))

/// An exact Boolean fact, labelled.
let holds (what: string) (fact: bool) : Property = fact |> Prop.label what

/// Every property of the list holds (FsCheck's .&. over a list; true for an empty list).
let all (properties: Property list) : Property =
    properties |> List.fold (fun acc p -> acc .&. p) (Prop.ofTestable true)
