using System.Text.Json.Nodes;
using TicketLab.Analysis;
using TicketLab.Tests.Support;

namespace TicketLab.Tests.Analysis;

/// <summary>
/// The verdicts of <c>compare</c> (issue 20, item 5): each can answer yes, no and inconclusive, they
/// pool replicates, "same basin" goes by the rise above the chord and warns on unequal endpoints,
/// and a real run's --json verdicts agree with its numbers.
/// </summary>
public sealed class ComparisonVerdictTests
{
    /// <summary>A pair whose trained endpoints are <paramref name="angle"/> apart (2·angle/π), T having travelled <paramref name="travel"/>.</summary>
    private static PairComparison Pair(string name, double angle, double? travel = 0.5, InterpolationCurve? curve = null) =>
        new(name, Distances(0.2), Distances(angle), 4, 4, 0.05, 0.9, 0.88, 0.89, curve ?? Line(0.1, 0, 0.1), travel, travel);

    private static WeightDistances Distances(double angle) => new(angle * 10, 10, Math.Cos(angle * Math.PI / 2), 0.8);

    /// <summary>Errors at 0 and 1, and <paramref name="bump"/> added halfway to the straight line between them.</summary>
    private static InterpolationCurve Line(double start, double bump, double end) =>
        new([new(0, start, 0.3, null, null), new(0.5, (start + end) / 2 + bump, 0.4, null, null), new(1, end, 0.3, null, null)]);

    private static LevelComparison Level(double tp, double tt2, double rp, double? travel = 0.5) =>
        new(2, 0.64, 0.3, 0.12, [], [Pair(TicketComparison.TP, tp, travel), Pair(TicketComparison.RP, rp, travel), Pair(TicketComparison.TT2, tt2, travel)]);

    private static Answer Region(params LevelComparison[] replicates) => ComparisonVerdicts.SameRegion(replicates).Answer;

    [Fact]
    public void Same_region_answers_yes_when_T_ends_nearer_P_than_its_start_and_no_when_it_does_not()
    {
        // T-P far below T's travel from its start (0.5) and the scratch control: yes, even above the floor.
        var yes = ComparisonVerdicts.SameRegion([Level(0.17, 0.11, 0.9), Level(0.18, 0.13, 0.9)]);
        Assert.Equal(Answer.Yes, yes.Answer);
        Assert.Contains("x the noise floor", yes.Evidence);
        Assert.Equal(2, yes.Replicates);
        Assert.Equal(0.175, yes.Numbers["T-P"].Mean, 9);
        Assert.Equal(0.13, yes.Numbers["T-T2"].Max, 9);
        Assert.Contains("within the noise floor", ComparisonVerdicts.SameRegion([Level(0.10, 0.11, 0.9), Level(0.12, 0.13, 0.9)]).Evidence);
        // T ends farther from P than from where it started: it trained away from P's region: no,
        // although T-P is still far below the scratch control (the old rule said yes here).
        var away = ComparisonVerdicts.SameRegion([Level(0.40, 0.11, 0.9, travel: 0.3), Level(0.42, 0.13, 0.9, travel: 0.35)]);
        Assert.Equal(Answer.No, away.Answer);
        Assert.Contains("no nearer to P than to where it started", away.Evidence);
        // No closer to P than a scratch network on the same mask: no, whatever the travel.
        Assert.Equal(Answer.No, Region(Level(0.5, 0.6, 0.45, travel: 0.9)));
    }

    [Fact]
    public void Same_region_is_inconclusive_when_travel_or_the_control_are_within_the_tolerance()
    {
        // T-P below T's travel on average, but not by the tolerance (max(spread 0.06 of T-T2, 10% of it)) in every replicate.
        var near = ComparisonVerdicts.SameRegion([Level(0.17, 0.10, 0.9, travel: 0.2), Level(0.18, 0.16, 0.9, travel: 0.22)]);
        Assert.Equal(Answer.Inconclusive, near.Answer);
        Assert.Equal(0.06, near.Numbers["tolerance"].Mean, 9);
        // R-P barely above T-P.
        Assert.Equal(Answer.Inconclusive, Region(Level(0.10, 0.11, 0.105)));
    }

    [Fact]
    public void One_replicate_gets_a_tolerance_of_a_tenth_of_its_floor_and_a_warning()
    {
        // t = 0.01: travel 0.105 is within it of T-P 0.10, travel 0.115 is not.
        Assert.Equal(Answer.Inconclusive, Region(Level(0.10, 0.10, 0.9, travel: 0.105)));
        Assert.Equal(Answer.Yes, Region(Level(0.10, 0.10, 0.9, travel: 0.115)));
        var single = Level(0.09, 0.10, 0.9).SameRegion();
        Assert.Equal(Answer.Yes, single.Answer);
        Assert.Contains(single.Warnings, w => w.Contains("one replicate"));
    }

    [Fact]
    public void Comparisons_stored_without_the_travel_angle_judge_travel_in_l2()
    {
        var json = Level(0.10, 0.11, 0.9).ToJson();
        foreach (var pair in json["pairs"]!.AsArray())
        {
            pair!.AsObject().Remove("travel_a_angular_distance");
            pair.AsObject().Remove("travel_b_angular_distance");
        }
        var old = LevelComparison.FromJson(JsonNode.Parse(json.ToJsonString())!);
        Assert.Null(old.Pair(TicketComparison.TP)!.TravelAngleA);
        var verdict = old.SameRegion();
        Assert.Equal(Answer.Yes, verdict.Answer); // L2(T,P) 1.0 < T moved 4 (both / ||P|| = 10)
        Assert.Contains("stored without the travel angle", verdict.Evidence);
        Assert.Equal(0.4, verdict.Numbers["T travel L2"].Mean, 9);
    }

    private static LevelComparison Basin(InterpolationCurve tp, InterpolationCurve tt2) =>
        new(2, 0.64, 0.3, 0.12, [], [Pair(TicketComparison.TP, 0.1, curve: tp), Pair(TicketComparison.TT2, 0.1, curve: tt2), Pair(TicketComparison.RP, 0.9, curve: Line(0.1, 0.3, 0.12))]);

    [Fact]
    public void Same_basin_goes_by_the_rise_above_the_chord_and_warns_when_the_endpoints_differ()
    {
        // Errors 10% and 16% on a straight line: the plain barrier is 3 points (half the gap), the rise 0.
        var uneven = Basin(Line(0.10, 0, 0.16), Line(0.10, 0.005, 0.11));
        Assert.Equal(0.03, uneven.Pair(TicketComparison.TP)!.Curve.ErrorBarrier, 9);
        var verdict = uneven.SameBasin(0.02);
        Assert.Equal(Answer.Yes, verdict.Answer);
        Assert.Contains(verdict.Warnings, w => w.StartsWith("T-P's endpoint errors differ by up to 6.00 pts", StringComparison.Ordinal));
        Assert.Contains("plain barrier T-P 3.00 pts", verdict.Evidence);
        Assert.Contains("Warning: T-P's endpoint errors", verdict.EvidenceWithWarnings);
        Assert.Empty(Basin(Line(0.10, 0, 0.11), Line(0.10, 0, 0.11)).SameBasin(0.02).Warnings);

        Assert.Equal(Answer.No, Basin(Line(0.10, 0.05, 0.10), Line(0.10, 0.005, 0.10)).SameBasin(0.02).Answer);
        var noisy = Basin(Line(0.10, 0.01, 0.10), Line(0.10, 0.03, 0.10)).SameBasin(0.02);
        Assert.Equal(Answer.Inconclusive, noisy.Answer);
        Assert.Contains("noise floor alone", noisy.Evidence);
    }

    [Fact]
    public void Same_basin_pooled_is_inconclusive_when_replicates_disagree()
    {
        var flat = Basin(Line(0.10, 0.005, 0.10), Line(0.10, 0.005, 0.10));
        var bumpy = Basin(Line(0.10, 0.05, 0.10), Line(0.10, 0.005, 0.10));
        Assert.Equal(Answer.Yes, ComparisonVerdicts.SameBasin([flat, flat], 0.02).Answer);
        Assert.Equal(Answer.No, ComparisonVerdicts.SameBasin([bumpy, bumpy], 0.02).Answer);
        var mixed = ComparisonVerdicts.SameBasin([flat, bumpy], 0.02);
        Assert.Equal(Answer.Inconclusive, mixed.Answer);
        Assert.Contains("replicates disagree", mixed.Evidence);
        Assert.Equal(0.05, mixed.Numbers["T-P rise"].Max, 9);
        // The threshold changes the verdict only.
        Assert.Equal(Answer.Yes, ComparisonVerdicts.SameBasin([flat, bumpy], 0.08).Answer);
    }

    /// <summary>
    /// The real thing, small: a 2-level lottery of the lenet_300_100 preset on 2,000 Fashion-MNIST
    /// examples, 2 replicates, then <c>compare --json</c> and the report with its own threshold.
    /// </summary>
    [Fact]
    public void Compare_on_a_real_run_gives_pooled_verdicts_that_agree_with_their_numbers()
    {
        Assert.True(Directory.Exists("/usr/share/datasets/fashion-mnist"),
            "Fashion-MNIST is missing: install the Debian package dataset-fashion-mnist (.ci/run does).");
        using var temp = new TempFolder();
        string[] recipe = ["--preset", "lenet_300_100", "--train-subset", "2000", "--training-steps", "2ep", "--replicates", "2",
            "--threads", "1", "--quiet", "--root", temp.Path];
        string Run(params string[] args)
        {
            var (code, output, error) = TestCli.Run(args);
            Assert.True(code == 0, $"ticketlab {string.Join(" ", args)} failed ({code}):\n{error}");
            return output;
        }
        Run(["lottery", .. recipe, "--levels", "2"]);
        var json = JsonNode.Parse(Run(["compare", .. recipe, "--levels", "1-2", "--points", "5", "--json"]))!;

        var verdicts = json["verdicts"]!.AsArray();
        Assert.Equal([1, 2], verdicts.Select(v => (int)v!["level"]!));
        foreach (var verdict in verdicts)
        {
            int level = (int)verdict!["level"]!;
            var results = json["results"]!.AsArray().Where(r => (int)r!["level"]! == level).Select(r => r!["result"]!).ToArray();
            Assert.Equal(2, results.Length);
            Assert.Equal([1, 2], verdict["replicates"]!.AsArray().Select(r => (int)r!));
            Assert.Equal(2, verdict["per_replicate"]!.AsArray().Count);
            double[] Measure(string pair, Func<JsonNode, double> value) =>
                results.Select(r => value(r["pairs"]!.AsArray().Single(p => (string)p!["name"]! == pair)!)).ToArray();

            // Same region: the pooled angles are the stored ones, and the answer follows from them by the documented rule.
            var region = verdict["same_region"]!;
            Assert.Equal(2, (int)region["replicates"]!);
            Assert.False(string.IsNullOrEmpty((string?)region["evidence"]));
            double Angle(JsonNode pair) => (double)pair["end"]!["angular_distance"]!;
            var tp = Measure(TicketComparison.TP, Angle);
            var floor = Measure(TicketComparison.TT2, Angle);
            var control = Measure(TicketComparison.RP, Angle);
            var travel = Measure(TicketComparison.TP, p => (double)p["travel_a_angular_distance"]!);
            var numbers = region["numbers"]!;
            Assert.Equal(tp.Average(), (double)numbers["T-P"]!["mean"]!, 12);
            Assert.Equal(floor.Max(), (double)numbers["T-T2"]!["max"]!, 12);
            Assert.Equal(control.Min(), (double)numbers["R-P"]!["min"]!, 12);
            Assert.Equal(travel.Min(), (double)numbers["T travel"]!["min"]!, 12);
            double t = Math.Max(floor.Max() - floor.Min(), ComparisonVerdicts.MinimumFloorTolerance * floor.Average());
            string expected = tp.Average() >= travel.Average() || tp.Average() >= control.Average() ? "no"
                : tp.Max() + t <= control.Min() && tp.Max() + t <= travel.Min() ? "yes" : "inconclusive";
            Assert.Equal(expected, (string)region["answer"]!);

            // Same basin: the rise above the chord, recomputed from the stored curve points.
            var basin = verdict["same_basin"]!;
            double threshold = (double)verdict["basin_threshold"]!;
            Assert.Equal(InterpolationCurve.StabilityThreshold, threshold);
            double Rise(JsonNode pair)
            {
                var points = pair["curve"]!["points"]!.AsArray();
                return InterpolationCurve.ExcessOverChord(points.Select(p => (double)p!["alpha"]!).ToArray(), points.Select(p => (double)p!["test_error"]!).ToArray());
            }
            var rise = Measure(TicketComparison.TP, Rise);
            var floorRise = Measure(TicketComparison.TT2, Rise);
            Assert.Equal(rise.Max(), (double)basin["numbers"]!["T-P rise"]!["max"]!, 12);
            expected = floorRise.Max() >= threshold ? "inconclusive" : rise.Max() < threshold ? "yes" : rise.Min() >= threshold ? "no" : "inconclusive";
            Assert.Equal(expected, (string)basin["answer"]!);
            // A warning exactly when some replicate's endpoints differ by more than the threshold.
            double gap = Measure(TicketComparison.TP, p => Math.Abs((double)p["curve"]!["points"]![0]!["test_error"]! - (double)p["curve"]!["points"]!.AsArray()[^1]!["test_error"]!)).Max();
            Assert.Equal(gap > threshold, basin["warnings"]!.AsArray().Any(w => ((string)w!).StartsWith("T-P's endpoint errors", StringComparison.Ordinal)));
        }

        // The report shows every replicate and takes the threshold it is given.
        string runName = (string)json["lottery_run"]!;
        Run(["report", runName, "--root", temp.Path, "--out", Path.Combine(temp.Path, "report"), "--basin-threshold", "0.05"]);
        string html = File.ReadAllText(Path.Combine(temp.Path, "report", "index.html"));
        Assert.Contains("Verdicts per level, pooled over replicates (basin threshold 5.00 %)", html);
        Assert.Contains("per level and replicate", html);
        Assert.True(File.Exists(Path.Combine(temp.Path, "report", "figures", "rise_vs_remaining.csv")));
        var (refused, _, error) = TestCli.Run(["report", runName, "--root", temp.Path, "--basin-threshold", "2"]);
        Assert.NotEqual(0, refused);
        Assert.Contains("--basin-threshold", error);
    }
}
