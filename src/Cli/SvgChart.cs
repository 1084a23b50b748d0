using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace LowRank.Cli;

/// <summary>
/// A line chart as standalone SVG text: no plotting package and no font on the machine that draws it (the viewer
/// renders the text), so `lowrank reproduce` can write its figures anywhere. Series are polylines with markers over a
/// linear x axis; a horizontal reference line is optional.
/// </summary>
internal static class SvgChart
{
    private static readonly string[] Colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>A round tick step (1, 2 or 5 times a power of ten) giving 4 to 10 ticks over [low, high].</summary>
    private static double NiceStep(double low, double high)
    {
        var range = high - low;
        if (!(range > 0))
            return Math.Abs(high) > 0 ? Math.Pow(10, Math.Floor(Math.Log10(Math.Abs(high)))) / 10 : 0.1;
        var step = Math.Pow(10, Math.Floor(Math.Log10(range)));
        foreach (var factor in new[] { 1.0, 0.5, 0.2, 0.1 })
        {
            if (range / (step * factor) >= 4)
                return step * factor;
        }
        return step / 10;
    }

    public static string Lines(
        string title,
        string xLabel,
        string yLabel,
        IReadOnlyList<(string Name, IReadOnlyList<(double X, double Y)> Points)> series,
        (string Name, double Y)? reference = null)
    {
        const double width = 720, height = 440, left = 70, right = 200, top = 40, bottom = 60;
        var xs = series.SelectMany(s => s.Points.Select(p => p.X)).ToArray();
        var ys = series.SelectMany(s => s.Points.Select(p => p.Y)).Concat(reference is { } r ? [r.Y] : []).ToArray();
        var yStep = NiceStep(ys.Min(), ys.Max());
        double xMin = xs.Min(), xMax = xs.Max(), yMin = Math.Floor(ys.Min() / yStep) * yStep, yMax = Math.Ceiling(ys.Max() / yStep) * yStep;
        if (xMax == xMin) xMax = xMin + 1;
        if (yMax == yMin) yMax = yMin + yStep;
        var yDecimals = Math.Max(0, -(int)Math.Floor(Math.Log10(yStep)));
        double X(double x) => left + (x - xMin) / (xMax - xMin) * (width - left - right);
        double Y(double y) => height - bottom - (y - yMin) / (yMax - yMin) * (height - top - bottom);

        var svg = new StringBuilder();
        svg.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(height)}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">");
        svg.AppendLine($"<rect width=\"{F(width)}\" height=\"{F(height)}\" fill=\"white\"/>");
        svg.AppendLine($"<text x=\"{F(width / 2)}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>");
        // Axes, grid and ticks: x at the data's distinct values (or round steps when there are many), y at round steps.
        svg.AppendLine($"<line x1=\"{F(left)}\" y1=\"{F(Y(yMin))}\" x2=\"{F(width - right)}\" y2=\"{F(Y(yMin))}\" stroke=\"black\"/>");
        svg.AppendLine($"<line x1=\"{F(left)}\" y1=\"{F(Y(yMin))}\" x2=\"{F(left)}\" y2=\"{F(Y(yMax))}\" stroke=\"black\"/>");
        var distinct = xs.Distinct().Order().ToArray();
        var xTicks = distinct.Length <= 12
            ? distinct
            : Enumerable.Range(0, 1 + (int)Math.Floor((xMax - Math.Ceiling(xMin / NiceStep(xMin, xMax)) * NiceStep(xMin, xMax)) / NiceStep(xMin, xMax)))
                .Select(i => Math.Ceiling(xMin / NiceStep(xMin, xMax)) * NiceStep(xMin, xMax) + i * NiceStep(xMin, xMax)).ToArray();
        foreach (var x in xTicks)
            svg.AppendLine($"<text x=\"{F(X(x))}\" y=\"{F(Y(yMin) + 18)}\" text-anchor=\"middle\">{F(x)}</text>");
        for (var y = yMin; y <= yMax + yStep * 1e-6; y += yStep)
        {
            svg.AppendLine($"<line x1=\"{F(left)}\" y1=\"{F(Y(y))}\" x2=\"{F(width - right)}\" y2=\"{F(Y(y))}\" stroke=\"#dddddd\"/>");
            svg.AppendLine($"<text x=\"{F(left - 8)}\" y=\"{F(Y(y) + 4)}\" text-anchor=\"end\">{y.ToString("F" + yDecimals, CultureInfo.InvariantCulture)}</text>");
        }
        svg.AppendLine($"<text x=\"{F((left + width - right) / 2)}\" y=\"{F(height - 15)}\" text-anchor=\"middle\">{Escape(xLabel)}</text>");
        svg.AppendLine($"<text x=\"18\" y=\"{F((top + height - bottom) / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {F((top + height - bottom) / 2)})\">{Escape(yLabel)}</text>");

        if (reference is { } line)
        {
            svg.AppendLine($"<line x1=\"{F(left)}\" y1=\"{F(Y(line.Y))}\" x2=\"{F(width - right)}\" y2=\"{F(Y(line.Y))}\" stroke=\"black\" stroke-dasharray=\"6 4\"/>");
            svg.AppendLine($"<text x=\"{F(width - right + 8)}\" y=\"{F(Y(line.Y) + 4)}\">{Escape(line.Name)}</text>");
        }

        for (var i = 0; i < series.Count; i++)
        {
            var color = Colors[i % Colors.Length];
            var points = series[i].Points.OrderBy(p => p.X).ToArray();
            svg.AppendLine($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', points.Select(p => $"{F(X(p.X))},{F(Y(p.Y))}"))}\"/>");
            foreach (var p in points)
                svg.AppendLine($"<circle cx=\"{F(X(p.X))}\" cy=\"{F(Y(p.Y))}\" r=\"3.5\" fill=\"{color}\"/>");
            var legendY = top + 20 + 20 * i;
            svg.AppendLine($"<line x1=\"{F(width - right + 8)}\" y1=\"{F(legendY + 40)}\" x2=\"{F(width - right + 28)}\" y2=\"{F(legendY + 40)}\" stroke=\"{color}\" stroke-width=\"2\"/>");
            svg.AppendLine($"<text x=\"{F(width - right + 34)}\" y=\"{F(legendY + 44)}\">{Escape(series[i].Name)}</text>");
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
