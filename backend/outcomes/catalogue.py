"""The published definitions of Rapport's five outcome measures: PHQ-9, GAD-7, CORE-10, SWEMWBS, WSAS.

This is a pure-Python data module (no Django imports). A data migration seeds the outcome
instrument tables from ``INSTRUMENTS``; after that the database rows are what the app reads.

Every clinical number here (bands, cut-offs, reliable-change thresholds, conversion tables,
missing-item rules, LOINC codes) is taken from a published source. The sources, the wording and
licence notes, worked examples, and the list of numbers that could NOT be verified (left as
``None`` / ``""`` / "every item required" here) are in ``docs/instruments.md``. Change a number
here only together with its citation there.

Worked examples (usable as tests; derived directly from the published scoring rules cited in
docs/instruments.md, not copied from a source's own worked example):

* PHQ-9  answers (1, 1, 1, 1, 1, 1, 1, 1, 0) -> total 8, "Mild", not at caseness (< 10), no risk flag.
  PHQ-9  answers (3, 3, 2, 2, 1, 1, 1, 0, 1) -> total 14, "Moderate", at caseness, item 9 risk flag.
* GAD-7  answers (2, 2, 1, 1, 1, 1, 0) -> total 8, "Mild", at Talking Therapies caseness (>= 8).
* CORE-10 recorded values (2, 3, 3, 1, 1, 0, 2, 2, 2, 1); items 2 and 3 reverse keyed (4 - value)
  -> 2+1+1+1+1+0+2+2+2+1 = 13, "Mild psychological distress", at the clinical cut-off (>= 11).
* SWEMWBS answers (3, 3, 3, 3, 3, 3, 3) -> raw 21 -> metric score 19.25.
* WSAS   answers (4, 4, 2, 2, 0) -> total 12, band "10-20".
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class OptionDef:
    value: int          # the value recorded for this answer (before any reverse keying)
    label: str


@dataclass(frozen=True)
class ItemDef:
    number: int         # 1-based position on the form
    text: str
    reverse_keyed: bool = False     # scored as (min option + max option - value)
    risk_above: int | None = None   # an answer value strictly above this raises a risk flag (PHQ-9 item 9: 0); None = not a risk item
    loinc: str = ""     # LOINC code of the item, where one exists ("" if none / not verified)


@dataclass(frozen=True)
class BandDef:
    lower: Decimal      # inclusive, on the reported score (the metric score for SWEMWBS)
    upper: Decimal      # inclusive
    label: str


@dataclass(frozen=True)
class InstrumentDef:
    code: str                       # "phq9", "gad7", "core10", "swemwbs", "wsas"
    name: str                       # "PHQ-9" ...
    title: str                      # full name
    version: str                    # e.g. "1"
    stem: str                       # the instructions shown above the items, verbatim from the published form
    options: tuple[OptionDef, ...]  # the response options shared by every item, lowest value first
    items: tuple[ItemDef, ...]
    higher_is_worse: bool
    max_missing_items: int          # how many items may be missing and the total still prorated; 0 = every item required
    missing_rule: str               # one sentence: the published missing-item rule and how prorating is done (e.g. mean of answered items x item count, rounded how)
    missing_rule_source: str
    bands: tuple[BandDef, ...]      # covering the whole score range without gaps
    bands_source: str
    caseness_threshold: Decimal | None   # at caseness when score >= this (higher_is_worse) or <= this (otherwise)
    caseness_source: str
    reliable_change: Decimal | None      # a change of at least this many points is reliable
    reliable_change_source: str
    conversion: dict[int, Decimal] | None = None   # raw total -> reported score (SWEMWBS metric scores); None = reported score is the raw total
    conversion_source: str = ""
    licence: str = ""               # who holds copyright and what use is allowed, one or two sentences
    source: str = ""                # the primary citation of the instrument
    loinc_panel: str = ""           # LOINC code of the panel/form
    loinc_total: str = ""           # LOINC code of the total score
    risk_note: str = ""


def _band(lower: str, upper: str, label: str) -> BandDef:
    return BandDef(Decimal(lower), Decimal(upper), label)


# --- shared sources --------------------------------------------------------------------------

_KROENKE_2001 = (
    "Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity measure. "
    "J Gen Intern Med 2001;16(9):606-613. doi:10.1046/j.1525-1497.2001.016009606.x"
)
_SPITZER_2006 = (
    "Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing generalized anxiety "
    "disorder: the GAD-7. Arch Intern Med 2006;166(10):1092-1097. doi:10.1001/archinte.166.10.1092"
)
_TALKING_THERAPIES_THRESHOLDS = (
    "NHS Talking Therapies (formerly IAPT) outcome thresholds as reported by NHS Digital (2016) and "
    "restated in the measures table of https://pmc.ncbi.nlm.nih.gov/articles/PMC8411661/ (Table 1): "
    "PHQ-9 caseness 10 or above, reliable improvement a reduction of 6 or more; GAD-7 caseness 8 or above, "
    "reliable improvement 4 or more. The NHS Talking Therapies Manual itself (v6 Feb 2023; v7.1 at "
    "https://www.england.nhs.uk/wp-content/uploads/2018/06/nhs-talking-therapies-manual-v7.1-updated.pdf) "
    "could not be read for this catalogue; see docs/instruments.md."
)
_PHQ_LICENCE = (
    "Copyright Pfizer Inc. Developed by Drs Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and "
    "colleagues, with an educational grant from Pfizer Inc.; the form states 'No permission required to "
    "reproduce, translate, display or distribute.'"
)
_PHQ_OPTIONS = (
    OptionDef(0, "Not at all"),
    OptionDef(1, "Several days"),
    OptionDef(2, "More than half the days"),
    OptionDef(3, "Nearly every day"),
)
_PHQ_MISSING_RULE = (
    "Every item is required: a published prorating rule (PHQ instruction manual / Kroenke et al. 2010, "
    "Gen Hosp Psychiatry 32:345-359; NHS Talking Therapies data handbook) could not be verified, so no "
    "total is computed when any item is missing."
)
_PHQ_MISSING_SOURCE = "Not verified - see 'Numbers not verified' in docs/instruments.md."


PHQ9 = InstrumentDef(
    code="phq9",
    name="PHQ-9",
    title="Patient Health Questionnaire-9",
    version="1",
    stem="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    options=_PHQ_OPTIONS,
    items=(
        ItemDef(1, "Little interest or pleasure in doing things", loinc="44250-9"),
        ItemDef(2, "Feeling down, depressed, or hopeless", loinc="44255-8"),
        ItemDef(3, "Trouble falling or staying asleep, or sleeping too much", loinc="44259-0"),
        ItemDef(4, "Feeling tired or having little energy", loinc="44254-1"),
        ItemDef(5, "Poor appetite or overeating", loinc="44251-7"),
        ItemDef(
            6,
            "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
            loinc="44258-2",
        ),
        ItemDef(
            7,
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            loinc="44252-5",
        ),
        ItemDef(
            8,
            "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so "
            "fidgety or restless that you have been moving around a lot more than usual",
            loinc="44253-3",
        ),
        ItemDef(
            9,
            "Thoughts that you would be better off dead or of hurting yourself in some way",
            risk_above=0,
            loinc="44260-8",
        ),
    ),
    higher_is_worse=True,
    max_missing_items=0,
    missing_rule=_PHQ_MISSING_RULE,
    missing_rule_source=_PHQ_MISSING_SOURCE,
    bands=(
        _band("0", "4", "None-minimal"),
        _band("5", "9", "Mild"),
        _band("10", "14", "Moderate"),
        _band("15", "19", "Moderately severe"),
        _band("20", "27", "Severe"),
    ),
    bands_source=(
        _KROENKE_2001 + " Abstract: 'PHQ-9 scores of 5, 10, 15, and 20 represented mild, moderate, "
        "moderately severe, and severe depression, respectively.'"
    ),
    caseness_threshold=Decimal("10"),
    caseness_source=_TALKING_THERAPIES_THRESHOLDS,
    reliable_change=Decimal("6"),
    reliable_change_source=_TALKING_THERAPIES_THRESHOLDS,
    licence=_PHQ_LICENCE,
    source=_KROENKE_2001,
    loinc_panel="44249-1",
    loinc_total="44261-6",
    risk_note=(
        "Item 9 asks about thoughts of being better off dead or of self-harm. Any answer above 'Not at all' "
        "raises a risk flag for the clinician to review, whatever the total score. The PHQ-9 is not a "
        "suicide-risk assessment; a flag means 'ask', not 'at risk'."
    ),
)


GAD7 = InstrumentDef(
    code="gad7",
    name="GAD-7",
    title="Generalized Anxiety Disorder 7-item scale",
    version="1",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    options=_PHQ_OPTIONS,
    items=(
        ItemDef(1, "Feeling nervous, anxious, or on edge", loinc="69725-0"),
        ItemDef(2, "Not being able to stop or control worrying", loinc="68509-9"),
        ItemDef(3, "Worrying too much about different things", loinc="69733-4"),
        ItemDef(4, "Trouble relaxing", loinc="69734-2"),
        ItemDef(5, "Being so restless that it is hard to sit still", loinc="69735-9"),
        ItemDef(6, "Becoming easily annoyed or irritable", loinc="69689-8"),
        ItemDef(7, "Feeling afraid, as if something awful might happen", loinc="69736-7"),
    ),
    higher_is_worse=True,
    max_missing_items=0,
    missing_rule=_PHQ_MISSING_RULE,
    missing_rule_source=_PHQ_MISSING_SOURCE,
    bands=(
        _band("0", "4", "Minimal"),
        _band("5", "9", "Mild"),
        _band("10", "14", "Moderate"),
        _band("15", "21", "Severe"),
    ),
    bands_source=(
        _SPITZER_2006 + " (cut points 5, 10 and 15 for mild, moderate and severe anxiety), as printed in "
        "the Pfizer GAD-7 scoring note: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe; also "
        "Kroenke K et al. Gen Hosp Psychiatry 2010;32(4):345-359 (abstract: cutpoints of 5, 10 and 15 "
        "represent mild, moderate and severe symptom levels)."
    ),
    caseness_threshold=Decimal("8"),
    caseness_source=_TALKING_THERAPIES_THRESHOLDS,
    reliable_change=Decimal("4"),
    reliable_change_source=_TALKING_THERAPIES_THRESHOLDS,
    licence=_PHQ_LICENCE,
    source=_SPITZER_2006,
    loinc_panel="69737-5",
    loinc_total="70274-6",
    risk_note="No risk item.",
)


CORE10 = InstrumentDef(
    code="core10",
    name="CORE-10",
    title="Clinical Outcomes in Routine Evaluation - 10",
    version="1",
    stem=(
        "This form has 10 statements about how you have been OVER THE LAST WEEK. Please read each "
        "statement and think how often you felt that way last week. Then tick the box which is closest "
        "to this."
    ),
    options=(
        OptionDef(0, "Not at all"),
        OptionDef(1, "Only occasionally"),
        OptionDef(2, "Sometimes"),
        OptionDef(3, "Often"),
        OptionDef(4, "Most or all of the time"),
    ),
    items=(
        ItemDef(1, "I have felt tense, anxious or nervous"),
        ItemDef(2, "I have felt I have someone to turn to for support when needed", reverse_keyed=True),
        ItemDef(3, "I have felt able to cope when things go wrong", reverse_keyed=True),
        ItemDef(4, "Talking to people has felt too much for me"),
        ItemDef(5, "I have felt panic or terror"),
        ItemDef(6, "I made plans to end my life", risk_above=0),
        ItemDef(7, "I have had difficulty getting to sleep or staying asleep"),
        ItemDef(8, "I have felt despairing or hopeless"),
        ItemDef(9, "I have felt unhappy"),
        ItemDef(10, "Unwanted images or memories have been distressing me"),
    ),
    higher_is_worse=True,
    max_missing_items=1,
    missing_rule=(
        "At most one item may be missing: the clinical score is then the mean of the nine answered items "
        "multiplied by 10 (CORE System Trust pro-rating rule); with two or more missing no score is given; "
        "the Trust publishes no rounding rule (its clinical scores can be fractional) - Rapport's scorer "
        "rounds half up to a whole number."
    ),
    missing_rule_source=(
        "CORE System Trust, 'What's in a name (1): scoring CORE measures' "
        "(https://www.coresystemtrust.org.uk/whats-in-a-name-1-scoring-core-measures/): pro-rating allowed "
        "when not more than 10% of items are missing, i.e. one item for the CORE-10; clinical score = item "
        "mean x 10."
    ),
    bands=(
        _band("0", "10", "Healthy / low level (below clinical cut-off)"),
        _band("11", "14", "Mild psychological distress"),
        _band("15", "19", "Moderate psychological distress"),
        _band("20", "24", "Moderate-to-severe psychological distress"),
        _band("25", "40", "Severe psychological distress"),
    ),
    bands_source=(
        "Band edges 11/15/20/25 as given for the CORE-10 by two independent secondary sources (SOCAS "
        "resource hub 'Scoring the CORE-10 measure'; Valant clinical measures page citing Barkham et al. "
        "2013). Not checked against the CORE-10 User Manual (Connell & Barkham 2007, Figure 1) itself; the "
        "split of 0-10 into 'healthy' 0-5 and 'low level' 6-10 could not be verified, so 0-10 is one band. "
        "See docs/instruments.md."
    ),
    caseness_threshold=Decimal("11"),
    caseness_source=(
        "Barkham M, Bewick B, Mullin T, et al. The CORE-10: a short measure of psychological distress for "
        "routine use in the psychological therapies. Counselling and Psychotherapy Research "
        "2013;13(1):3-13. doi:10.1080/14733145.2012.729069. Abstract: 'The clinical cut-off score for "
        "general psychological distress was 11.0'."
    ),
    reliable_change=Decimal("6"),
    reliable_change_source=(
        "Barkham et al. 2013 (as above). Abstract: '... with a reliable change index (90% CI) of 6.' Note: "
        "a 90% confidence interval, not the 95% (1.96) used by Jacobson & Truax."
    ),
    licence=(
        "Copyright CORE System Trust. Free to use and to reproduce on paper or in software under the "
        "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 licence (CC BY-NC-ND 4.0): the content "
        "must not be changed, the use must be non-commercial, and the copyright line "
        "'© CORE System Trust: https://www.coresystemtrust.org.uk/copyright.pdf' must be visible."
    ),
    source=(
        "Barkham M, Bewick B, Mullin T, Gilbody S, Connell J, Cahill J, Mellor-Clark J, Richards D, "
        "Unsworth G, Evans C. The CORE-10: a short measure of psychological distress for routine use in the "
        "psychological therapies. Counselling and Psychotherapy Research 2013;13(1):3-13. "
        "doi:10.1080/14733145.2012.729069"
    ),
    loinc_panel="",
    loinc_total="",
    risk_note=(
        "Item 6 ('I made plans to end my life') is the CORE-10 risk item. Any answer above 'Not at all' "
        "raises a risk flag for the clinician to review, whatever the total score."
    ),
)


SWEMWBS_CONVERSION: dict[int, Decimal] = {
    raw: Decimal(metric)
    for raw, metric in {
        7: "7.00", 8: "9.51", 9: "11.25", 10: "12.40", 11: "13.33", 12: "14.08", 13: "14.75",
        14: "15.32", 15: "15.84", 16: "16.36", 17: "16.88", 18: "17.43", 19: "17.98", 20: "18.59",
        21: "19.25", 22: "19.98", 23: "20.73", 24: "21.54", 25: "22.35", 26: "23.21", 27: "24.11",
        28: "25.03", 29: "26.02", 30: "27.03", 31: "28.13", 32: "29.31", 33: "30.70", 34: "32.55",
        35: "35.00",
    }.items()
}


SWEMWBS = InstrumentDef(
    code="swemwbs",
    name="SWEMWBS",
    title="Short Warwick-Edinburgh Mental Wellbeing Scale",
    version="1",
    stem=(
        "Below are some statements about feelings and thoughts. Please tick the box that best describes "
        "your experience of each over the last 2 weeks"
    ),
    options=(
        OptionDef(1, "None of the time"),
        OptionDef(2, "Rarely"),
        OptionDef(3, "Some of the time"),
        OptionDef(4, "Often"),
        OptionDef(5, "All of the time"),
    ),
    items=(
        ItemDef(1, "I've been feeling optimistic about the future"),
        ItemDef(2, "I've been feeling useful"),
        ItemDef(3, "I've been feeling relaxed"),
        ItemDef(4, "I've been dealing with problems well"),
        ItemDef(5, "I've been thinking clearly"),
        ItemDef(6, "I've been feeling close to other people"),
        ItemDef(7, "I've been able to make up my own mind about things"),
    ),
    higher_is_worse=False,
    max_missing_items=0,
    missing_rule=(
        "Every item is required: the raw-to-metric conversion table is defined only for complete 7-item "
        "raw totals (7-35) and no published prorating rule for SWEMWBS was found."
    ),
    missing_rule_source="Not verified - see 'Numbers not verified' in docs/instruments.md.",
    bands=(_band("7.00", "35.00", "Not banded (no published clinical bands verified)"),),
    bands_source=(
        "No published severity bands or cut-offs for the SWEMWBS metric score could be verified; a single "
        "band covers the whole range. See docs/instruments.md."
    ),
    caseness_threshold=None,
    caseness_source="No published SWEMWBS cut-off (e.g. for probable depression) could be verified.",
    reliable_change=None,
    reliable_change_source=(
        "Not set. Shah N et al., Health Qual Life Outcomes 2018;16:239 (doi:10.1186/s12955-018-1060-2) report "
        "distribution-based thresholds in one clinical sample (1 SEM = 1.03 points; 2.77 SEM = 2.87 points) "
        "and say a change of 'between 1 and 3 points' meets thresholds for statistically important change; "
        "whether these are raw or metric points was not verified. See docs/instruments.md."
    ),
    conversion=SWEMWBS_CONVERSION,
    conversion_source=(
        "Warwick Medical School, SWEMWBS raw score to metric score conversion table "
        "(https://warwick.ac.uk/fac/sci/med/research/platform/wemwbs/using/howto/"
        "swemwbs_raw_score_to_metric_score_conversion_table.pdf), derived by Rasch analysis in "
        "Stewart-Brown et al. 2009. All 29 entries cross-checked against five independent transcriptions; "
        "the PDF itself was not read. See docs/instruments.md."
    ),
    licence=(
        "© NHS Health Scotland, University of Warwick and University of Edinburgh, 2008, all rights "
        "reserved. Free to use, but each deploying organisation must register for a licence with Warwick "
        "Medical School before use and show the copyright line on every copy."
    ),
    source=(
        "Stewart-Brown S, Tennant A, Tennant R, Platt S, Parkinson J, Weich S. Internal construct validity "
        "of the Warwick-Edinburgh Mental Well-being Scale (WEMWBS): a Rasch analysis using data from the "
        "Scottish Health Education Population Survey. Health Qual Life Outcomes 2009;7:15. "
        "doi:10.1186/1477-7525-7-15"
    ),
    loinc_panel="",
    loinc_total="",
    risk_note="No risk item.",
)


WSAS = InstrumentDef(
    code="wsas",
    name="WSAS",
    title="Work and Social Adjustment Scale",
    version="1",
    stem=(
        "People's problems sometimes affect their ability to do certain day-to-day tasks in their lives. "
        "To rate your problems look at each section and determine on the scale provided how much your "
        "problem impairs your ability to carry out the activity."
    ),
    options=(
        OptionDef(0, "Not at all"),
        OptionDef(1, "Between not at all and slightly"),
        OptionDef(2, "Slightly"),
        OptionDef(3, "Between slightly and definitely"),
        OptionDef(4, "Definitely"),
        OptionDef(5, "Between definitely and markedly"),
        OptionDef(6, "Markedly"),
        OptionDef(7, "Between markedly and very severely"),
        OptionDef(8, "Very severely"),
    ),
    items=(
        ItemDef(
            1,
            "Because of my [problem] my ability to work is impaired. 0 means not at all impaired and 8 means "
            "very severely impaired to the point I can't work.",
        ),
        ItemDef(
            2,
            "Because of my [problem] my home management (cleaning, tidying, shopping, cooking, looking after "
            "home or children, paying bills) is impaired.",
        ),
        ItemDef(
            3,
            "Because of my [problem] my social leisure activities (with other people e.g. parties, bars, "
            "clubs, outings, visits, dating, home entertaining) are impaired.",
        ),
        ItemDef(
            4,
            "Because of my [problem], my private leisure activities (done alone, such as reading, gardening, "
            "collecting, sewing, walking alone) are impaired.",
        ),
        ItemDef(
            5,
            "Because of my [problem], my ability to form and maintain close relationships with others, "
            "including those I live with, is impaired.",
        ),
    ),
    higher_is_worse=True,
    max_missing_items=0,
    missing_rule=(
        "Every item is required: no published prorating rule for the WSAS was verified (the form lets a "
        "retired person, or one not working for reasons unrelated to the problem, tick instead of rating "
        "item 1, and how to total that case is not specified in the sources read)."
    ),
    missing_rule_source="Not verified - see 'Numbers not verified' in docs/instruments.md.",
    bands=(
        _band("0", "9", "Below 10 (associated with subclinical populations)"),
        _band("10", "20", "10-20 (significant functional impairment, less severe symptoms)"),
        _band("21", "40", "Above 20 (moderately severe or worse psychopathology)"),
    ),
    bands_source=(
        "Mundt JC, Marks IM, Shear MK, Greist JM. The Work and Social Adjustment Scale: a simple measure of "
        "impairment in functioning. Br J Psychiatry 2002;180:461-464: 'A WSAS score above 20 appears to "
        "suggest moderately severe or worse psychopathology. Scores between 10 and 20 are associated with "
        "significant functional impairment but less severe clinical symptomatology. Scores below 10 appear "
        "to be associated with subclinical populations.' (quoted from a secondary copy)."
    ),
    caseness_threshold=None,
    caseness_source=(
        "None. NHS Talking Therapies records the WSAS routinely but caseness and recovery are defined on the "
        "depression (PHQ-9) and anxiety (GAD-7 / ADSM) measures only."
    ),
    reliable_change=None,
    reliable_change_source="No published reliable change threshold for the WSAS total was verified.",
    licence=(
        "Copyright Isaac M. Marks (per secondary sources); the scale is published in Mundt et al. 2002 and "
        "widely reproduced free of charge, but no formal licence statement was verified."
    ),
    source=(
        "Mundt JC, Marks IM, Shear MK, Greist JM. The Work and Social Adjustment Scale: a simple measure of "
        "impairment in functioning. Br J Psychiatry 2002;180(5):461-464. doi:10.1192/bjp.180.5.461"
    ),
    loinc_panel="",
    loinc_total="",
    risk_note="No risk item.",
)


INSTRUMENTS: tuple[InstrumentDef, ...] = (PHQ9, GAD7, CORE10, SWEMWBS, WSAS)
