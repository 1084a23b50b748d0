namespace LowRank;

/// <summary>How each matrix is scaled before an error is measured.</summary>
public enum Normalization
{
    /// <summary>Matrices are used as given.</summary>
    None = 0,

    /// <summary>
    /// Every nonzero matrix is divided by its largest singular value, so sigma_1 = 1, as in the experiments of
    /// Indyk, Vakilian and Yuan (NeurIPS 2019, Section 5); zero matrices are left as they are.
    /// </summary>
    TopSingularValue = 1,
}
