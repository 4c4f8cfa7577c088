namespace TicketLab.Analysis;

/// <summary>
/// The two verdicts of <c>compare</c>, pooled over the replicates of one level (docs/analysis.md,
/// "Verdicts"). Each can answer no: "same region" when the ticket ends no nearer to its pruning
/// solution than to where it started, or no nearer than the scratch control; "same basin" when the
/// error rises above the chord between them in every replicate.
/// </summary>
public static class ComparisonVerdicts
{
    /// <summary>
    /// The noise floor's tolerance is its spread over replicates, but never less than this fraction
    /// of its mean: with one replicate the spread is zero, and a T-P a hair above T-T2 is then a coin
    /// toss, not a "no".
    /// </summary>
    public const double MinimumFloorTolerance = 0.1;

    public const string RegionRule =
        "angular distance 2·angle/π between trained networks over the mask's weights, pooled over replicates; t = max(spread of the noise floor T-T2, 10% of its mean). "
        + "Yes if max T-P + t <= min angle(T, T's start) (T ends nearer P than to where it started: it retrained towards P) "
        + "and max T-P + t <= min R-P (clearly nearer than the re-initialized control); "
        + "no if mean T-P >= mean angle(T, T's start) or mean T-P >= mean R-P; inconclusive otherwise. "
        + "The noise floor gives the scale: T-P within it is indistinguishable from SGD noise";

    public const string BasinRule =
        "rise of the test error above the chord between the endpoint errors (max over the path), per replicate. "
        + "Inconclusive if the noise floor T-T2 rises to the threshold in any replicate; yes if T-P stays under it in every replicate; "
        + "no if T-P reaches it in every replicate; inconclusive if the replicates disagree";

    public static Verdict SameRegion(IReadOnlyList<LevelComparison> replicates)
    {
        var tp = Pairs(replicates, TicketComparison.TP);
        var rp = Pairs(replicates, TicketComparison.RP);
        var tt2 = Pairs(replicates, TicketComparison.TT2);
        if (tp is null || rp is null || tt2 is null) return new Verdict(Answer.Inconclusive, RegionRule, "missing pairs (T-P, R-P and T-T2 are needed)");

        var ticket = Spread.Of(tp.Select(p => p.End.AngularDistance));
        var control = Spread.Of(rp.Select(p => p.End.AngularDistance));
        var floor = Spread.Of(tt2.Select(p => p.End.AngularDistance));
        double tolerance = Math.Max(floor.Range, MinimumFloorTolerance * floor.Mean);
        var numbers = new Dictionary<string, Spread> { ["T-P"] = ticket, ["R-P"] = control, ["T-T2"] = floor, ["tolerance"] = new(tolerance, tolerance, tolerance) };

        // How far T moved from its start (the initialization row of Maene et al.'s matrices): as an angle,
        // or (comparisons stored before the angle was) as L2 against L2(T,P).
        Spread nearness, travel;
        string travelText;
        if (tp.All(p => p.TravelAngleA is not null))
        {
            nearness = ticket;
            travel = Spread.Of(tp.Select(p => p.TravelAngleA!.Value));
            numbers["T travel"] = travel;
            travelText = $"T moved {travel.Text(Spread.Angle)} from its start";
        }
        else
        {
            nearness = Spread.Of(tp.Select(p => p.End.NormalizedL2Distance));
            travel = Spread.Of(tp.Select(p => p.TravelA / p.End.ReferenceNorm));
            numbers["T-P L2"] = nearness;
            numbers["T travel L2"] = travel;
            travelText = $"T moved {travel.Text(Spread.Angle)} from its start in L2 / ||P|| against T-P {nearness.Text(Spread.Angle)} (stored without the travel angle)";
        }
        double travelTolerance = ReferenceEquals(nearness, ticket) ? tolerance : 0;

        bool notNearer = nearness.Mean >= travel.Mean;
        bool notBelowControl = ticket.Mean >= control.Mean;
        bool nearer = nearness.Max + travelTolerance <= travel.Min;
        bool belowControl = ticket.Max + tolerance <= control.Min;
        var reasons = new List<string>();
        Answer answer;
        if (notNearer || notBelowControl)
        {
            answer = Answer.No;
            if (notNearer) reasons.Add("T ends no nearer to P than to where it started");
            if (notBelowControl) reasons.Add("T-P is not below the re-initialized control R-P");
        }
        else if (nearer && belowControl)
            answer = Answer.Yes;
        else
        {
            answer = Answer.Inconclusive;
            if (!nearer) reasons.Add("T-P and T's travel from its start are not separated by more than t in every replicate");
            if (!belowControl) reasons.Add("T-P and R-P are not separated by more than t");
        }
        string scale = ticket.Mean <= floor.Max
            ? "T-P is within the noise floor (indistinguishable from SGD noise)"
            : FormattableString.Invariant($"T-P is {ticket.Mean / floor.Mean:F1}x the noise floor");
        string evidence = $"T-P {ticket.Text(Spread.Angle)}, noise floor T-T2 {floor.Text(Spread.Angle)} (t {Spread.Angle(tolerance)}), "
            + $"control R-P {control.Text(Spread.Angle)}, {travelText}; {scale}; {replicates.Count} replicate(s)"
            + (reasons.Count > 0 ? ": " + string.Join("; ", reasons) : "");
        string[] warnings = replicates.Count == 1 ? ["one replicate: the noise floor's spread is unknown, 10% of its value stands in"] : [];
        return new Verdict(answer, RegionRule, evidence) { Numbers = numbers, Replicates = replicates.Count, Warnings = warnings };
    }

    public static Verdict SameBasin(IReadOnlyList<LevelComparison> replicates, double threshold)
    {
        var tp = Pairs(replicates, TicketComparison.TP);
        var tt2 = Pairs(replicates, TicketComparison.TT2);
        if (tp is null || tt2 is null) return new Verdict(Answer.Inconclusive, BasinRule, "missing pairs (T-P and T-T2 are needed)");
        var rp = Pairs(replicates, TicketComparison.RP);

        var rise = Spread.Of(tp.Select(p => p.Curve.ErrorExcessOverChord));
        var floor = Spread.Of(tt2.Select(p => p.Curve.ErrorExcessOverChord));
        var barrier = Spread.Of(tp.Select(p => p.Curve.ErrorBarrier));
        var numbers = new Dictionary<string, Spread>
        {
            ["T-P rise"] = rise, ["T-T2 rise"] = floor, ["T-P barrier"] = barrier, ["threshold"] = new(threshold, threshold, threshold),
        };
        if (rp is not null) numbers["R-P rise"] = Spread.Of(rp.Select(p => p.Curve.ErrorExcessOverChord));

        var (answer, reason) =
            floor.Max >= threshold ? (Answer.Inconclusive, "the noise floor alone rises to the threshold")
            : rise.Max < threshold ? (Answer.Yes, "")
            : rise.Min >= threshold ? (Answer.No, "")
            : (Answer.Inconclusive, "the replicates disagree");
        string evidence = $"rise above chord T-P {rise.Text(Spread.Points)}, noise floor T-T2 {floor.Text(Spread.Points)}"
            + (rp is not null ? $", control R-P {numbers["R-P rise"].Text(Spread.Points)}" : "")
            + $", plain barrier T-P {barrier.Text(Spread.Points)}, threshold {Spread.Points(threshold)}; {replicates.Count} replicate(s)"
            + (reason.Length > 0 ? ": " + reason : "");

        var warnings = new List<string>();
        foreach (var (name, pairs) in new[] { (TicketComparison.TP, tp), (TicketComparison.TT2, tt2) })
        {
            double gap = pairs.Max(EndpointGap);
            numbers[$"{name} endpoint gap"] = Spread.Of(pairs.Select(EndpointGap));
            if (gap > threshold)
                warnings.Add($"{name}'s endpoint errors differ by up to {Spread.Points(gap)}, more than the threshold: its plain barrier is at least half that gap, so the verdict uses the rise above the chord");
        }
        return new Verdict(answer, BasinRule, evidence) { Numbers = numbers, Replicates = replicates.Count, Warnings = warnings };
    }

    /// <summary>|error at one end - error at the other| of a pair's interpolation.</summary>
    public static double EndpointGap(PairComparison pair) => Math.Abs(pair.Curve.Points[0].TestError - pair.Curve.Points[^1].TestError);

    /// <summary>The named pair of every replicate, or null when one lacks it.</summary>
    private static PairComparison[]? Pairs(IReadOnlyList<LevelComparison> replicates, string name)
    {
        var pairs = replicates.Select(r => r.Pair(name)).OfType<PairComparison>().ToArray();
        return replicates.Count > 0 && pairs.Length == replicates.Count ? pairs : null;
    }
}
