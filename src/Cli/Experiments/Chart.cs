using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ScottPlot;

namespace LowRank.Cli;

/// <summary>
/// The experiments' line charts, drawn by ScottPlot and written as PNG and SVG side by side. SkiaSharp draws nothing for
/// text without a TrueType font, so the tool carries the font it uses (DejaVu Sans) and registers it; tests check that a
/// rendered label leaves ink, in-process and in a tool process that sees no installed font.
/// </summary>
internal static class Chart
{
    /// <summary>Pixel size of every figure, at which the README and EXPERIMENTS.md show them.</summary>
    public const int Width = 800, Height = 480;

    /// <summary>A line chart: each series a line with markers; an optional dashed horizontal reference line; base-10
    /// logarithmic axes when `logX` or `logY` (points with a nonpositive coordinate on such an axis are left out).</summary>
    /// <summary>Registers the DejaVu Sans the tool carries under its family name, once, before the first chart: text then
    /// renders whether or not the machine has the font (or any TrueType font) installed. The font file is written once
    /// to the temporary folder, since ScottPlot adds fonts by path.</summary>
    private static readonly Lazy<bool> CarriedFont = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"lowrank-DejaVuSans-{typeof(Chart).Assembly.ManifestModule.ModuleVersionId:N}.ttf");
        if (!File.Exists(path))
        {
            using var font = typeof(Chart).Assembly.GetManifestResourceStream("DejaVuSans.ttf")!;
            var partial = path + $".{Environment.ProcessId}.tmp";
            using (var file = File.Create(partial))
                font.CopyTo(file);
            File.Move(partial, path, overwrite: true);
        }
        Fonts.AddFontFile("DejaVu Sans", path, bold: false, italic: false);
        return true;
    });

    public static Plot Lines(
        string title,
        string xLabel,
        string yLabel,
        IReadOnlyList<(string Name, IReadOnlyList<(double X, double Y)> Points)> series,
        (string Name, double Y)? reference = null,
        bool logX = false,
        bool logY = false)
    {
        _ = CarriedFont.Value;
        var plot = new Plot();
        // The carried DejaVu Sans; the default would be whichever family the machine lists first.
        plot.Font.Set("DejaVu Sans");
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < series.Count; i++)
        {
            var points = series[i].Points.Where(p => (!logX || p.X > 0) && (!logY || p.Y > 0)).OrderBy(p => p.X).ToArray();
            if (points.Length == 0)
                continue;
            var line = plot.Add.Scatter(points.Select(p => logX ? Math.Log10(p.X) : p.X).ToArray(), points.Select(p => logY ? Math.Log10(p.Y) : p.Y).ToArray());
            line.LegendText = series[i].Name;
            line.Color = palette.GetColor(i);
            line.LineWidth = 2;
            line.MarkerSize = points.Length > 40 ? 0 : 7;
        }
        if (reference is { } r && (!logY || r.Y > 0))
        {
            var line = plot.Add.HorizontalLine(logY ? Math.Log10(r.Y) : r.Y);
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Black;
            line.LegendText = r.Name;
        }
        // ScottPlot has no logarithmic axis: the data are plotted as log10 values, with ticks at whole powers of ten
        // labelled by the value itself and minor ticks at 2..9 times them.
        if (logX)
            plot.Axes.Bottom.TickGenerator = LogTicks();
        else
        {
            // A handful of x values (ranks, row counts) get a tick each and no others.
            var xs = series.SelectMany(s => s.Points.Select(p => p.X)).Distinct().Order().ToArray();
            if (xs.Length is > 0 and <= 12)
                plot.Axes.Bottom.SetTicks(xs, xs.Select(x => x.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }
        if (logY)
            plot.Axes.Left.TickGenerator = LogTicks();
        if (logX || logY)
            plot.Grid.MinorLineWidth = 1;
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    private static ScottPlot.TickGenerators.NumericAutomatic LogTicks() =>
        new()
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = exponent => Math.Pow(10, exponent).ToString("G1", System.Globalization.CultureInfo.InvariantCulture),
        };

    /// <summary>Writes `plot` as folder/name.png and folder/name.svg and returns both paths.</summary>
    public static (string Png, string Svg) Save(Plot plot, string folder, string name)
    {
        var png = Path.Combine(folder, name + ".png");
        var svg = Path.Combine(folder, name + ".svg");
        plot.SavePng(png, Width, Height);
        plot.SaveSvg(svg, Width, Height);
        return (png, svg);
    }
}
