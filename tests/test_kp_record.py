"""The bundled KP cases, with the calibrated dynamics, against the public record (issue 3's acceptance).

Each check uses a 95% confidence bound, not the point estimate, so the
Monte-Carlo error cannot carry a case over its line.
"""

import pytest
from scipy import stats

# With the live dynamics of issue 14 (setter chairs, red lines, membership by year, acquiescence) the
# recalibrated point of 2026-11-30 misses three of the six targets. They are kept as strict expected
# failures, so they are seen (and a fit that meets them again turns them into failures to remove):
# issue 15 recalibrates with a posterior, not a point.
MISSED = "missed at the posterior median of the ABC-SMC fit of 2026-11-30 (see scenarios/kp/README.md)"

from kpsim.analysis.survival import kaplan_meier, median_deadlock
from kpsim.run.runner import run
from kpsim.scenario.load import load_scenario

REPS = 2000


def simulate(root, case):
    sc = load_scenario(root / "scenarios" / "kp" / f"{case}.yaml")
    runs, _ = run(sc, [sc.record.rule], replications=REPS, progress=False)
    return sc, runs


def share_bounds(k, n):
    ci = stats.binomtest(int(k), n).proportion_ci(0.95, method="wilson")
    return ci.low, ci.high


def median_ci(runs):
    med = median_deadlock(kaplan_meier(runs.meetings.to_numpy(), runs.censored.to_numpy()))
    return med.value, med.lower, med.upper


def adopted_within(runs, k):
    return int((runs.adopted & (runs.meetings <= k)).sum())


def test_definition_reform_stays_blocked_for_28_meetings(root):
    sc, runs = simulate(root, "definition_reform")
    assert sc.record.rule == "consensus" and not sc.record.adopted and sc.record.meetings == 28
    _, high = share_bounds(adopted_within(runs, 28), REPS)
    assert high <= 0.20  # at least 80% still not adopted after 14 plenaries


def test_marange_deal_after_about_five_meetings(root):
    _, runs = simulate(root, "marange")
    value, low, high = median_ci(runs)
    assert low is not None and high is not None and 3 <= low and high <= 7, (value, low, high)
    low_share, _ = share_bounds(adopted_within(runs, 8), REPS)
    assert low_share >= 0.70


@pytest.mark.parametrize(
    "case,band",
    [
        ("asm", (2, 6)),
        ("permanent_secretariat", (1, 6)),
        pytest.param("car_resumption", (3, 7), marks=pytest.mark.xfail(strict=True, reason=MISSED + ": median 2 against 3–7 (44% adopted at the first meeting)")),
    ],
)
def test_median_deadlock_within_the_recorded_band(root, case, band):
    _, runs = simulate(root, case)
    value, low, high = median_ci(runs)
    assert low is not None and high is not None and band[0] <= low and high <= band[1], (value, low, high)


@pytest.mark.xfail(strict=True, reason=MISSED + ": about 82% adopted at the first procedure against at least 90%")
def test_car_suspension_passes_at_the_first_written_procedure(root):
    sc, runs = simulate(root, "car_suspension")
    assert sc.record.rule == "written_procedure"
    low, _ = share_bounds(adopted_within(runs, 1), REPS)
    assert low >= 0.90


# The bigger case book (issue 15, item 7): ten more decisions, each against its own `record:` target,
# read with the same 95% bounds. Those the shipped calibration misses are strict expected failures
# with what it gives; their codings are the record's, not tuned to pass (scenarios/kp/README.md).
SHIPPED = "missed at the shipped calibration (fitted on the first six cases only; see scenarios/kp/README.md)"
CASE_BOOK = [
    "statistics_publication",
    "ghana_action_plan",
    "roc_readmission",
    "liberia_admission",
    "cameroon_admission",
    "mali_admission",
    "ahcrr_2017",
    "peer_review_2018",
    "review_committee_2022",
    "majority_voting",
]
MISSES = {  # case -> what the shipped calibration gives (95% bounds, 2,000 replications, the case's seed)
    "liberia_admission": "89% adopted at the first decision (88%-90%) against at least 90%, as the CAR suspension",
    "cameroon_admission": "median 1 against 2-4: 81% adopted at the first round; the record's hold (file incomplete) is not modelled",
    "mali_admission": "median beyond the 10-meeting horizon (13% adopted by meeting 3) against 2-4; only Mali, which cannot vote on its own admission, is named",
    "peer_review_2018": "median beyond the 10-meeting horizon (14% adopted by meeting 3) against 2-4; nobody is named, all placeholders",
    "majority_voting": "40%-44% adopted within 11 meetings against at most 20%; nobody is named, all placeholders",
}


def target_problems(sc, runs) -> list[str]:
    """Each part of the case's target that the 95% bounds do not meet (empty: the target is met)."""
    t, out = sc.record.target, []
    if t.median_meetings is not None:
        value, low, high = median_ci(runs)
        if low is None or high is None or not (t.median_meetings[0] <= low and high <= t.median_meetings[1]):
            out.append(f"median {value} [{low}, {high}] against {t.median_meetings}")
    if t.within is not None:
        low, high = share_bounds(adopted_within(runs, t.within), REPS)
        if t.adopted_at_least is not None and low < t.adopted_at_least:
            out.append(f"adopted within {t.within}: [{low:.2f}, {high:.2f}] against at least {t.adopted_at_least}")
        if t.adopted_at_most is not None and high > t.adopted_at_most:
            out.append(f"adopted within {t.within}: [{low:.2f}, {high:.2f}] against at most {t.adopted_at_most}")
    if t.adopted_at_first is not None:
        low, high = share_bounds(adopted_within(runs, 1), REPS)
        if not (t.adopted_at_first[0] <= low and high <= t.adopted_at_first[1]):
            out.append(f"adopted at the first meeting [{low:.2f}, {high:.2f}] against {t.adopted_at_first}")
    if t.surviving_share is not None:
        text = runs.loc[runs.adopted, "surviving_share"].median()
        if not (t.surviving_share[0] <= text <= t.surviving_share[1]):
            out.append(f"median text surviving {text:.2f} against {t.surviving_share}")
    return out


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=f"{SHIPPED}: {MISSES[c]}")) if c in MISSES else c for c in CASE_BOOK],
)
def test_case_book_meets_its_recorded_target(root, case):
    sc, runs = simulate(root, case)
    assert sc.record.target != type(sc.record.target)()  # every case states a target
    problems = target_problems(sc, runs)
    assert not problems, problems


def test_every_recorded_kp_case_is_tested_here(root):
    import yaml

    recorded = {p.stem for p in (root / "scenarios" / "kp").glob("*.yaml") if "record" in (yaml.safe_load(p.read_text()) or {})}
    first_six = {"marange", "definition_reform", "asm", "permanent_secretariat", "car_suspension", "car_resumption"}
    assert recorded == first_six | set(CASE_BOOK)  # a new case file gets its row in CASE_BOOK
    assert len(recorded) >= 12  # issue 15, item 7


def test_every_kp_case_extends_the_roster_and_the_calibration(root):
    import yaml

    for case in ("marange", "definition_reform", "asm", "permanent_secretariat", "car_suspension", "car_resumption", *CASE_BOOK):
        raw = yaml.safe_load((root / "scenarios" / "kp" / f"{case}.yaml").read_text())
        assert raw["extends"] == ["roster.yaml", "calibration.yaml"]
        assert "dynamics" not in raw  # one parameter set for all cases: no per-case tuning


def test_roster_is_the_sixty_participants_and_three_observers(root):
    sc = load_scenario(root / "scenarios" / "kp" / "definition_reform.yaml")
    kinds = [a.kind for a in sc.actors]
    assert kinds.count("participant") == 60
    # the roster's three observers, and IMPACT, which the definition reform adds (it left in Dec 2017)
    assert {a.id: a.kind for a in sc.actors if a.kind != "participant"} == {
        "wdc": "industry",
        "kp_csc": "civil_society",
        "adpa": "intergovernmental",
        "impact": "civil_society",
    }
    production = sum(a.weights.get("production", 0) for a in sc.actors)
    assert production == pytest.approx(1.0, abs=1e-4)  # carat shares of the 2022 world total (119.96 Mct)
    russia = next(a for a in sc.actors if a.id == "russia")
    assert russia.weights["production"] == pytest.approx(41.9 / 119.96, abs=2e-3)  # 35% of 2022 output [P1]
